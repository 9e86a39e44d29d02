// Data quality as a rate against a real nats-server: the parser publishes one stats message per envelope on
// quality.<table> (stream QUALITY) with exact counts, a reprocessed input does not add a second one, and the
// detector's expectation-rate rule turns the stats into exactly the alerts the ratios call for, counting a stats
// message that arrives twice only once.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumeLoop, createLogger, createMetrics, ensureConsumer, H, loadConfig, provisionTopology, subjects, toNatsHeaders, type CommonConfig } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { EXPECTATION_RATE_RULE } from '@sluice/detect';
import { readState } from '../../cli/streamStatus.ts';
import { detectorSchema, type DetectorConfig } from '../../services/detector/config.ts';
import { detector } from '../../services/detector/main.ts';
import { durableName } from '../../services/detector/ruleHost.ts';
import { parser, type ParserConfig } from '../../services/parser/main.ts';
import type { QualityStats } from '../../services/parser/qualityStats.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

const TABLE = 'defender_device_network_events';
const INGEST = '2024-05-01T10:03:00.000Z';
const log = createLogger('quality-test', 'silent');
const enc = new TextEncoder();
const dec = new TextDecoder();

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let parserCfg: CommonConfig & ParserConfig;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  parserCfg = loadConfig<ParserConfig>({ section: 'parser', sectionSchema: parser.sectionSchema, env: {}, overrides: { 'parser.source': 'defender', 'parser.category': 'DeviceNetworkEvents' } });
  parserCfg.consumer.backoffSeconds = [0.05];
  // Streams kept 30 days: QUALITY is capped at its own 7.
  parserCfg.streams.maxAgeHours = 720;
  await provisionTopology(nc, jsm, parserCfg);
  // Idempotent: a second run changes nothing and fails on nothing.
  await provisionTopology(nc, jsm, parserCfg);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

let report = 0;
const rec = (props: Record<string, unknown>) =>
  JSON.stringify({
    time: '2024-05-01T10:00:00.0000000Z',
    tenantId: '11111111-2222-4333-8444-555555555555',
    operationName: 'Publish',
    category: 'AdvancedHunting-DeviceNetworkEvents',
    properties: { Timestamp: '2024-05-01T09:59:00.0000000Z', DeviceId: 'dev-1', DeviceName: 'ws-1.corp.example', ReportId: ++report, ActionType: 'ConnectionSuccess', LocalIP: '10.0.0.5', LocalPort: 50000, RemoteIP: '203.0.113.7', RemotePort: 443, Protocol: 'Tcp', ...props },
  });

/** One categorized envelope as the splitter publishes it. */
async function publishEnvelope(lines: string[], object: string): Promise<void> {
  await js.publish(subjects.categorized('defender', 'DeviceNetworkEvents'), enc.encode(lines.join('\n') + '\n'), {
    headers: toNatsHeaders({ [H.encoding]: 'ndjson', [H.count]: String(lines.length), [H.source]: 'defender', [H.object]: object, [H.rawSeq]: '1', [H.ingestTime]: INGEST }),
  });
}

async function streamMessages(stream: string): Promise<{ subject: string; data: string; seq: number }[]> {
  const info = await jsm.streams.info(stream);
  const out: { subject: string; data: string; seq: number }[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push({ subject: m.subject, data: dec.decode(m.data), seq });
  }
  return out;
}

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const idle = async (stream: string, durable: string) => {
  const info = await jsm.consumers.info(stream, durable).catch(() => null);
  return !!info && info.num_pending === 0 && info.num_ack_pending === 0;
};

/** The parser's consumer loop in-process (what runService does for each input). */
async function startParser(): Promise<{ durable: string; stop: () => Promise<void> }> {
  const metrics = createMetrics('parser');
  const { inputs } = await parser.setup({ stage: 'parser', config: parserCfg, nc, js, jsm, log, metrics });
  const input = inputs[0]!;
  await ensureConsumer(jsm, { stream: input.stream, durable: input.durable, filterSubject: input.filterSubject }, parserCfg.consumer);
  const loop = new ConsumeLoop({ stage: 'parser', js, consumer: await js.consumers.get(input.stream, input.durable), stream: input.stream, handler: input.handler, cfg: parserCfg.consumer, log, metrics, onFatal: () => undefined });
  loop.start();
  return { durable: input.durable, stop: () => loop.stop() };
}

// Envelope A: 44 rows. 30 clean; 4 with an unknown ActionType (warn: kept); 6 without DeviceId (quarantined);
// 2 with RemotePort 70000 (dropped); 1 with RemotePort "abc" (does not coerce: quarantined as parse); 1 not JSON.
const envelopeA = [
  ...Array.from({ length: 30 }, () => rec({})),
  ...Array.from({ length: 4 }, () => rec({ ActionType: 'BrandNewAction' })),
  ...Array.from({ length: 6 }, () => rec({ DeviceId: '' })),
  ...Array.from({ length: 2 }, () => rec({ RemotePort: 70000 })),
  rec({ RemotePort: 'abc' }),
  '{not json',
];
const envelopeB = Array.from({ length: 20 }, () => rec({}));

describe('quality stats through the parser and the detector', () => {
  it('parser → QUALITY: one message per envelope with exact counts; reprocessing the input adds none', async () => {
    const p = await startParser();
    await publishEnvelope(envelopeA, 'a.json');
    await until(async () => (await idle('CATEGORIZED', p.durable)) && (await streamMessages('QUALITY')).length === 1);
    const [msg] = await streamMessages('QUALITY');
    expect(msg!.subject).toBe(`quality.${TABLE}`);
    const s = JSON.parse(msg!.data) as QualityStats;
    expect(s).toEqual({
      table: TABLE,
      category: 'DeviceNetworkEvents',
      source: 'defender',
      object: 'a.json',
      raw_seq: 1,
      input_stream: 'CATEGORIZED',
      input_seq: 1,
      ingest_time: INGEST,
      parser_version: s.parser_version,
      rows: 44,
      kept: 34,
      dropped: 2,
      quarantined: 8,
      failures: { action_type_known: 4, device_id_present: 6, valid_remote_port: 2, parse: 2 },
      rejected: { valid_remote_port: 2, device_id_present: 6, parse: 2 },
    });
    // The same input parsed again (a new durable reading from the start: what a redelivery or a redeploy does):
    // the stats message has the same id, JetStream drops the copy.
    await p.stop();
    await jsm.consumers.delete('CATEGORIZED', p.durable);
    const again = await startParser();
    await until(() => idle('CATEGORIZED', again.durable));
    await publishEnvelope(envelopeB, 'b.json');
    await until(async () => (await idle('CATEGORIZED', again.durable)) && (await streamMessages('QUALITY')).length === 2);
    // The new durable really parsed both inputs (A again, then B).
    expect((await jsm.consumers.info('CATEGORIZED', again.durable)).delivered.consumer_seq).toBe(2);
    await again.stop();
    const all = (await streamMessages('QUALITY')).map((m) => JSON.parse(m.data) as QualityStats);
    expect(all.map((x) => [x.object, x.input_seq, x.rows, x.kept])).toEqual([
      ['a.json', 1, 44, 34],
      ['b.json', 2, 20, 20],
    ]);
    expect([(await jsm.streams.info('QUALITY')).config.max_age, (await jsm.streams.info('RAW')).config.max_age]).toEqual([168 * 3600 * 1e9, 720 * 3600 * 1e9]);
  });

  it('detector: alerts for the expectations above the ratio, counting a stats message published twice once', async () => {
    // A copy of A's stats under another message id (published after the duplicate window, say), between A and B.
    const before = await streamMessages('QUALITY');
    expect(before).toHaveLength(2);
    const a = before[0];
    await js.publish(`quality.${TABLE}`, enc.encode(a!.data), { msgID: 'a-copy', headers: toNatsHeaders({ [H.encoding]: 'ndjson', [H.count]: '1' }) });
    const cfg = loadConfig<DetectorConfig>({
      section: 'detector',
      sectionSchema: detectorSchema,
      env: {},
      overrides: {
        'detector.partitions': 2,
        ...Object.fromEntries(['listening', 'newNetwork', 'dataQuality', 'ioc', 'zeekJoin', 'ipAttribution'].map((r) => [`detector.${r}.enabled`, false])),
        // 5% over at least 60 rows: A alone (44) is too small, A twice (88) would fire, A + B (64) fires for
        // device_id_present (6/64) and action_type_known (4/64), not valid_remote_port or parse (2/64 each).
        'detector.expectationRate': { maxRatio: 0.05, minRows: 60 },
      },
    });
    const svc = await detector.setup({ stage: 'detector', config: cfg, nc, js, jsm, log, metrics: createMetrics('detector') });
    const durable = durableName(EXPECTATION_RATE_RULE, 'quality', 0);
    await until(() => idle('QUALITY', durable));
    // `sluice status` lists the new stream with the detector's consumer.
    const status = await readState(jsm);
    expect(status.find((s) => s.name === 'QUALITY')?.consumers.map((c) => [c.name, c.pending])).toEqual([[durable, 0]]);
    await svc.stop!();
    const alerts = (await streamMessages('ALERTS')).map((m) => JSON.parse(m.data) as Alert);
    expect(alerts.map((x) => [x.rule, x.entity, x.detail.expectation, x.detail.rows, x.detail.failures, x.detail.envelopes]).sort()).toEqual([
      [EXPECTATION_RATE_RULE, TABLE, 'action_type_known', 64, 4, 2],
      [EXPECTATION_RATE_RULE, TABLE, 'device_id_present', 64, 6, 2],
    ]);
    expect(alerts.every((x) => x.detail.window_start === '2024-05-01T10:00:00.000Z' && x.evidence[0]?.object === 'a.json')).toBe(true);
  });
});
