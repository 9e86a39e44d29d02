// The detector against a real nats-server when a message is lost in flight just before a crash: JetStream delivered
// it (the client dropped it: never applied, never acked) while a newer message was applied, acked and snapshotted.
// The snapshot records the consumer's ack floor below the lost message, so the restarted detector resumes there,
// applies the lost message (its alert is raised) and skips the newer one it already reflects (no alert twice).
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, encodeIpc } from '@sluice/columnar';
import { createLogger, createMetrics, H, KV_BUCKETS, loadConfig, provisionTopology, subjects, toNatsHeaders, type CommonConfig, type Metrics } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { NEW_NETWORK_RULE, type KeyState } from '@sluice/detect';
import { detectorSchema, type DetectorConfig } from '../../services/detector/config.ts';
import { createDetectorMetrics } from '../../services/detector/detectorMetrics.ts';
import { enabledRules } from '../../services/detector/main.ts';
import { durableName, RuleHost } from '../../services/detector/ruleHost.ts';
import { SnapshotStore, type SnapshotManifest } from '../../services/detector/snapshotStore.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

const TABLE = 'defender_identity_logon_events';
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1, 9);
const DURABLE = durableName(NEW_NETWORK_RULE, TABLE, 0);
const log = createLogger('detector', 'silent');

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
let cfg: CommonConfig & DetectorConfig;
let eventSeq = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  cfg = loadConfig<DetectorConfig>({
    section: 'detector',
    sectionSchema: detectorSchema,
    env: {},
    overrides: { 'detector.partitions': 4, 'detector.snapshot': { intervalSeconds: 3600, everyBatches: 100_000 }, 'detector.newNetwork.learningDays': 1 },
  });
  await provisionTopology(nc, jsm, cfg);
  kv = await new Kvm(nc).open(KV_BUCKETS.detectorState);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** Publishes one Arrow batch of identity logons (user, ip, day offset) like the enricher does; returns its sequence. */
async function publishLogins(rows: [string, string, number][]): Promise<number> {
  const def = allTables().find((t) => t.name === TABLE)!;
  const b = new ColumnBuilder(fullColumnsOf(def));
  for (const [user, ip, day] of rows) {
    b.append({ Timestamp: (T0 + day * DAY + eventSeq) * 1000, ActionType: 'LogonSuccess', AccountUpn: user, IPAddress: ip, ReportId: `r${++eventSeq}`, _source: 'defender_xdr', _object: `batch-${eventSeq}`, _raw_seq: eventSeq });
  }
  const ack = await js.publish(subjects.events(TABLE, eventSeq % 2), encodeIpc(b.build()), { headers: toNatsHeaders({ [H.encoding]: 'arrow-ipc', [H.count]: String(rows.length) }) });
  return ack.seq;
}

async function alerts(): Promise<Alert[]> {
  const info = await jsm.streams.info('ALERTS');
  const out: Alert[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('ALERTS', { seq }).catch(() => null);
    if (m) out.push(JSON.parse(new TextDecoder().decode(m.data)) as Alert);
  }
  return out;
}

const entities = async () => (await alerts()).map((a) => `${a.entity} ${String(a.detail.network)}`).sort();

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function consumerState(): Promise<{ pending: number; ackPending: number; ackFloor: number }> {
  const info = await jsm.consumers.info('EVENTS', DURABLE);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, ackFloor: info.ack_floor.stream_seq };
}

function host(): { host: RuleHost<KeyState>; metrics: Metrics } {
  const metrics = createMetrics('detector');
  const rule = enabledRules(cfg.detector).find((r) => r.rule.name === NEW_NETWORK_RULE)!;
  const h = new RuleHost({
    stage: 'detector',
    rule: rule.rule,
    partitions: cfg.detector.partitions,
    owned: [0, 1, 2, 3],
    replica: 0,
    limits: { ttlMs: 180 * DAY, maxKeysPerPartition: 100_000 },
    snapshot: cfg.detector.snapshot,
    js,
    jsm,
    store: new SnapshotStore(kv),
    consumer: cfg.consumer,
    log,
    metrics,
    dm: createDetectorMetrics(metrics.registry),
  });
  return { host: h, metrics };
}

describe('detector: a message lost in flight before a snapshot and a crash', () => {
  it('is re-read after the restart: its rows reach the rule, and the newer snapshotted message is not applied twice', async () => {
    const { host: a } = host();
    // The client "loses" every delivery of one sequence: JetStream counts it delivered, nothing applies or acks it.
    let lostSeq = -1;
    let dropped = 0;
    const inner = a as unknown as { handle: (input: string, m: JsMsg) => Promise<void> };
    const handle = inner.handle.bind(a);
    inner.handle = (input, m) => (m.seq === lostSeq ? Promise.resolve(void dropped++) : handle(input, m));
    await a.restore();
    await a.start();

    // Day 0: alice and bob learn their home networks (silent).
    const learn = await publishLogins([
      ['alice@corp.example', '198.51.100.1', 0],
      ['bob@corp.example', '203.0.113.1', 0],
    ]);
    await until(async () => (await consumerState()).ackFloor === learn);
    // Day 3: alice from a new network (lost in flight), then bob from a new network (applied, alerted, acked).
    lostSeq = learn + 1;
    expect(await publishLogins([['alice@corp.example', '192.0.2.1', 3]])).toBe(lostSeq);
    const bobSeq = await publishLogins([['bob@corp.example', '100.24.7.9', 3]]);
    await until(async () => (await entities()).length === 1);
    await until(async () => {
      const s = await consumerState();
      return s.pending === 0 && s.ackPending === 1;
    });
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(await consumerState()).toMatchObject({ ackFloor: learn });
    // The snapshot: the position is bob's message, the floor stays below the lost one, bob's listed above it.
    await a.snapshot();
    const manifest = (await kv.get(SnapshotStore.manifestKey(NEW_NETWORK_RULE, 4, 0)))!.json<SnapshotManifest>();
    expect(manifest.positions[TABLE]).toBe(bobSeq);
    expect(manifest.floors?.[TABLE]).toBe(learn);
    // Crash: no final snapshot; the lost message is still unacked on the server.
    await a.stop({ snapshot: false });

    const { host: b, metrics } = host();
    await b.restore();
    expect(b.runtime.resumeAfter(TABLE)).toBe(learn);
    await b.publishPending();
    await b.start();
    await until(async () => (await entities()).length === 2);
    await until(async () => {
      const s = await consumerState();
      return s.pending === 0 && s.ackPending === 0;
    });
    await b.stop();
    // The lost message raised alice's alert; bob's message was skipped as replayed (one row), not alerted again.
    expect(await entities()).toEqual(['alice@corp.example 192.0.2.0/24', 'bob@corp.example 100.24.7.0/24']);
    const ids = (await alerts()).map((x) => x.alert_id);
    expect(new Set(ids).size).toBe(ids.length);
    const rows = await metrics.registry.getSingleMetricAsString('sluice_detector_rows_total');
    expect(rows).toContain(`sluice_detector_rows_total{rule="${NEW_NETWORK_RULE}",outcome="replayed",stage="detector"} 1`);
    expect(rows).toContain(`sluice_detector_rows_total{rule="${NEW_NETWORK_RULE}",outcome="seen",stage="detector"} 2`);
    const raised = await metrics.registry.getSingleMetricAsString('sluice_detector_alerts_total');
    expect(raised).toContain(`sluice_detector_alerts_total{rule="${NEW_NETWORK_RULE}",stage="detector"} 1`);
    // B's final snapshot: every message acked, so the floor is the position and nothing is listed above it.
    const after = (await kv.get(SnapshotStore.manifestKey(NEW_NETWORK_RULE, 4, 0)))!.json<SnapshotManifest>();
    expect(after.positions[TABLE]).toBe(bobSeq);
    expect(after.floors?.[TABLE]).toBe(bobSeq);
  });
});
