// The detector against a real nats-server: state snapshotted to the KV bucket sluice_detector_state (chunked),
// restored by a new instance after a clean stop and after a crash (no final snapshot): nothing learnt is lost,
// the consumer resumes after the snapshot's position, and every alert is in ALERTS exactly once.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, encodeIpc } from '@sluice/columnar';
import { createLogger, createMetrics, H, KV_BUCKETS, loadConfig, provisionTopology, subjects, toNatsHeaders, type CommonConfig } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { NEW_NETWORK_RULE, type KeyState } from '@sluice/detect';
import { detectorSchema, type DetectorConfig } from '../../services/detector/config.ts';
import { createDetectorMetrics } from '../../services/detector/detectorMetrics.ts';
import { detector, enabledRules } from '../../services/detector/main.ts';
import { RuleHost } from '../../services/detector/ruleHost.ts';
import { SnapshotStore } from '../../services/detector/snapshotStore.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

const TABLE = 'defender_identity_logon_events';
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1, 9);
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
  cfg.consumer.backoffSeconds = [0.05];
  await provisionTopology(nc, jsm, cfg);
  kv = await new Kvm(nc).open(KV_BUCKETS.detectorState);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** Publishes one Arrow batch of identity logons (user, ip, day offset) like the enricher does. */
async function publishLogins(rows: [string, string, number][]): Promise<void> {
  const def = allTables().find((t) => t.name === TABLE)!;
  const b = new ColumnBuilder(fullColumnsOf(def));
  for (const [user, ip, day] of rows) {
    const ms = T0 + day * DAY + eventSeq;
    b.append({ Timestamp: ms * 1000, ActionType: 'LogonSuccess', AccountUpn: user, IPAddress: ip, ReportId: `r${++eventSeq}`, _source: 'defender_xdr', _object: `batch-${eventSeq}`, _raw_seq: eventSeq });
  }
  await js.publish(subjects.events(TABLE, eventSeq % 2), encodeIpc(b.build()), { headers: toNatsHeaders({ [H.encoding]: 'arrow-ipc', [H.count]: String(rows.length) }) });
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

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function consumed(durable: string, stream = 'EVENTS'): Promise<boolean> {
  const info = await jsm.consumers.info(stream, durable).catch(() => null);
  return !!info && info.num_pending === 0 && info.num_ack_pending === 0;
}

const entities = async () => (await alerts()).filter((a) => a.rule === NEW_NETWORK_RULE).map((a) => `${a.entity} ${String(a.detail.network)}`);

let lastMetrics = createMetrics('detector');

function host(chunkBytes?: number, replica = 0, replicas = 1): RuleHost<KeyState> {
  const metrics = (lastMetrics = createMetrics('detector'));
  const rule = enabledRules(cfg.detector).find((r) => r.rule.name === NEW_NETWORK_RULE)!;
  return new RuleHost({
    stage: 'detector',
    rule: rule.rule,
    partitions: cfg.detector.partitions,
    owned: [0, 1, 2, 3].filter((p) => p % replicas === replica),
    replica,
    limits: { ttlMs: 180 * DAY, maxKeysPerPartition: 100_000 },
    snapshot: cfg.detector.snapshot,
    js,
    jsm,
    store: new SnapshotStore(kv, chunkBytes),
    consumer: cfg.consumer,
    log,
    metrics,
    dm: createDetectorMetrics(metrics.registry),
  });
}

describe('detector snapshot and restore through KV', () => {
  it('a crash after a snapshot: the new instance restores it, replays, and no alert is lost or doubled', async () => {
    const durable = `detector-${NEW_NETWORK_RULE}-${TABLE}-r0`;
    const a = host(64);
    await a.restore();
    await a.start();
    // Day 0: learning (silent); day 3: alice from a new network → alert 1.
    await publishLogins([
      ['alice@corp.example', '198.51.100.1', 0],
      ['bob@corp.example', '203.0.113.1', 0],
    ]);
    await publishLogins([['alice@corp.example', '192.0.2.1', 3]]);
    await until(async () => (await entities()).length === 1);
    await until(() => consumed(durable));
    await a.snapshot();
    // The manifest names the position of the snapshot; the state is cut into several 64-byte chunks.
    const manifest = (await kv.get(SnapshotStore.manifestKey(NEW_NETWORK_RULE, 4, 0)))!.json<{ chunks: number; positions: Record<string, number> }>();
    expect(manifest.positions[TABLE]).toBe(2);
    const chunks = await Promise.all([0, 1, 2, 3].map(async (p) => (await kv.get(SnapshotStore.manifestKey(NEW_NETWORK_RULE, 4, p)))!.json<{ chunks: number }>().chunks));
    expect(Math.max(...chunks)).toBeGreaterThan(1);
    // After the snapshot: bob from a new network → alert 2; then the process dies without a final snapshot.
    await publishLogins([['bob@corp.example', '100.24.7.9', 4]]);
    await until(async () => (await entities()).length === 2);
    await until(() => consumed(durable));
    await a.stop({ snapshot: false });

    const b = host(64);
    await b.restore();
    expect(b.runtime.resumeAfter(TABLE)).toBe(2);
    expect(b.runtime.keyCount()).toBe(2);
    await b.publishPending();
    await b.start();
    // B replays message 3 (bob's new network) with the same alert id: JetStream drops the duplicate.
    await until(() => consumed(durable));
    const raised = await lastMetrics.registry.getSingleMetricAsString('sluice_detector_alerts_total');
    expect(raised).toContain(`sluice_detector_alerts_total{rule="${NEW_NETWORK_RULE}",stage="detector"} 1`);
    expect(await entities()).toHaveLength(2);
    // Known networks stay silent (state survived), a new one alerts.
    await publishLogins([
      ['alice@corp.example', '198.51.100.7', 5],
      ['alice@corp.example', '192.0.2.99', 5],
      ['bob@corp.example', '203.0.113.50', 5],
      ['alice@corp.example', '2001:db8:5:6::1', 6],
    ]);
    await until(async () => (await entities()).length >= 3);
    await until(() => consumed(durable));
    await b.stop();
    expect((await entities()).sort()).toEqual(['alice@corp.example 192.0.2.0/24', 'alice@corp.example 2001:db8:5:6::/64', 'bob@corp.example 100.24.7.0/24']);
    const ids = (await alerts()).map((x) => x.alert_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the service: a clean stop writes a final snapshot that the next start restores', async () => {
    const before = (await entities()).length;
    const ctx = { stage: 'detector', config: cfg, nc, js, jsm, log, metrics: createMetrics('detector') };
    const first = await detector.setup(ctx);
    // Carol learns on day 10; on day 12 she logs in from a new network.
    await publishLogins([['carol@corp.example', '198.51.100.1', 10]]);
    await until(() => consumed(`detector-${NEW_NETWORK_RULE}-${TABLE}-r0`));
    await first.stop!();
    const manifest = (await kv.get(SnapshotStore.manifestKey(NEW_NETWORK_RULE, 4, 0)))!.json<{ positions: Record<string, number> }>();
    // The first test published EVENTS messages 1–4; carol's login is message 5.
    expect(manifest.positions[TABLE]).toBe(5);

    const second = await detector.setup({ ...ctx, metrics: createMetrics('detector') });
    await publishLogins([
      ['carol@corp.example', '198.51.100.200', 12],
      ['carol@corp.example', '203.0.113.9', 12],
    ]);
    await until(async () => (await entities()).length === before + 1);
    await until(() => consumed(`detector-${NEW_NETWORK_RULE}-${TABLE}-r0`));
    await second.stop!();
    expect((await entities()).slice(before)).toEqual(['carol@corp.example 203.0.113.0/24']);
    // Every rule's durable consumer of this replica exists with the documented name.
    const names: string[] = [];
    for await (const c of jsm.consumers.list('EVENTS')) names.push(c.name);
    expect(names).toContain('detector-vulnerable_service_listening-crowdstrike_network_listen-r0');
    expect(names).toContain('detector-login_from_new_network-cloudtrail-r0');
  });

  it('the service: CrowdStrike listeners and quarantine bursts raise their alerts once', async () => {
    const ctx = { stage: 'detector', config: cfg, nc, js, jsm, log, metrics: createMetrics('detector') };
    const svc = await detector.setup(ctx);
    const cs = allTables().find((t) => t.name === 'crowdstrike_network_listen')!;
    const b = new ColumnBuilder(fullColumnsOf(cs));
    for (let i = 0; i < 3; i++) {
      b.append({ event_simpleName: 'NetworkListenIP4', timestamp: (T0 + i * 1000) * 1000, aid: 'aid-1', ComputerName: 'WS-9', LocalAddressIP4: '10.0.0.9', LocalPort: 3389, _source: 'fdr', _object: 'o', _raw_seq: 1 });
    }
    await js.publish(subjects.events('crowdstrike_network_listen', 0), encodeIpc(b.build()), { headers: toNatsHeaders({ [H.encoding]: 'arrow-ipc', [H.count]: '3' }) });
    const q = (i: number) => JSON.stringify({ stage: 'parser', table: 'zeek_conn', rule: 'parse', reason: 'bad line', raw: 'x', source: 'zeek', object: 'conn.log', raw_seq: i, input_seq: i, ingest_time: new Date(T0 + i).toISOString() });
    const lines = Array.from({ length: 150 }, (_, i) => q(i)).join('\n') + '\n';
    await js.publish(subjects.quarantine('parser', 'zeek_conn'), new TextEncoder().encode(lines), { headers: toNatsHeaders({ [H.encoding]: 'ndjson', [H.count]: '150' }) });
    await until(async () => (await alerts()).filter((a) => a.rule !== NEW_NETWORK_RULE).length === 2);
    await until(() => consumed('detector-data_quality_quarantine_rate-quarantine-r0', 'QUARANTINE'));
    await svc.stop!();
    const other = (await alerts()).filter((a) => a.rule !== NEW_NETWORK_RULE);
    // Two loops publish independently: their order in ALERTS is not fixed.
    expect(other.map((a) => `${a.rule} ${a.entity}`).sort()).toEqual(['data_quality_quarantine_rate zeek_conn', 'vulnerable_service_listening WS-9']);
    expect(other.find((a) => a.rule === 'data_quality_quarantine_rate')!.detail).toMatchObject({ count: 101, threshold: 100, top_rules: 'parse=101' });
  });

  it('two replicas split the users; when one replica takes over all partitions it restores both halves', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `mover${i}@corp.example`);
    const r0 = host(undefined, 0, 2);
    const r1 = host(undefined, 1, 2);
    for (const h of [r0, r1]) {
      await h.restore();
      await h.start();
    }
    // Learning on day 20, then every user from a new network on day 25: each alert once, from the owning replica.
    await publishLogins(users.map((u) => [u, '198.51.100.1', 20] as [string, string, number]));
    await publishLogins(users.map((u) => [u, '203.0.113.1', 25] as [string, string, number]));
    const movers = async () => (await entities()).filter((e) => e.startsWith('mover'));
    await until(async () => (await movers()).length === 12);
    await until(async () => (await consumed(`detector-${NEW_NETWORK_RULE}-${TABLE}-r0`)) && (await consumed(`detector-${NEW_NETWORK_RULE}-${TABLE}-r1`)));
    expect(r0.runtime.keyCount()).toBeGreaterThan(0);
    expect(r1.runtime.keyCount()).toBeGreaterThan(0);
    await Promise.all([r0.stop(), r1.stop()]);

    // Scale down to one replica: it owns partitions 0–3 and restores them from both replicas' snapshots.
    const solo = host(undefined, 0, 1);
    await solo.restore();
    expect(solo.runtime.keyCount()).toBeGreaterThanOrEqual(12);
    await solo.start();
    await publishLogins([...users.map((u) => [u, '203.0.113.77', 26] as [string, string, number]), ['mover0@corp.example', '192.0.2.5', 26]]);
    await until(async () => (await movers()).length === 13);
    await until(() => consumed(`detector-${NEW_NETWORK_RULE}-${TABLE}-r0`));
    await solo.stop();
    const m = await movers();
    expect(m.filter((e) => e.endsWith('203.0.113.0/24'))).toHaveLength(12);
    expect(m.filter((e) => e.startsWith('mover0@'))).toEqual(['mover0@corp.example 203.0.113.0/24', 'mover0@corp.example 192.0.2.0/24']);
  });
});
