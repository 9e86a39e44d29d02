// The collector's Kafka source against a real Kafka broker (KRaft, SASL PLAIN as Azure Event Hubs clients send it)
// and a real nats-server: every record lands in RAW exactly once with `<topic>:<partition>` lineage, across a clean
// stop and restart in the same group and across a crash between the JetStream ack and the offset commit; a wrong
// password fails start() with a clear error. Skips when Java or the Kafka jars are absent (scripts/install-kafka.sh).
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics, H, loadConfig, provisionTopology, subjects } from '@sluice/runtime';
import { collectorMetrics } from '../../services/collector/collectorMetrics.ts';
import { KafkaSource, type KafkaSourceConfig } from '../../services/collector/kafkaSource.ts';
import { EVENT_HUBS_PASSWORD, EVENT_HUBS_USER, kafkaUnavailableReason, startKafkaBroker, type KafkaBrokerHandle } from '../support/kafkaBroker.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { countSubject, readSubject, until } from '../support/rawStream.ts';

// `make test-kafka` installs the broker and sets SLUICE_REQUIRE_KAFKA=1: there a missing broker is a failure.
const unavailable = process.env.SLUICE_REQUIRE_KAFKA === '1' ? null : kafkaUnavailableReason();
if (unavailable) console.warn(`SKIPPING Kafka source integration tests: ${unavailable}`);

let kafkaBroker: KafkaBrokerHandle;
let nats: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let producer: Producer;

describe.skipIf(unavailable !== null)(`Kafka source${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    [kafkaBroker, nats] = await Promise.all([startKafkaBroker(), startNatsServer()]);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
    await provisionTopology(nc, jsm, cfg);
    producer = new Kafka({ clientId: 'test-producer', brokers: [kafkaBroker.plaintext], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await nc?.close();
    await Promise.all([kafkaBroker?.stop(), nats?.stop()]);
  });

  function config(source: string, topic: string, over: Partial<KafkaSourceConfig> = {}): KafkaSourceConfig {
    return {
      source,
      brokers: [kafkaBroker.sasl],
      topics: [topic],
      groupId: `group-${source}`,
      sasl: { mechanism: 'plain', username: EVENT_HUBS_USER, password: EVENT_HUBS_PASSWORD },
      ssl: false,
      maxBatchBytes: 2048,
      fromBeginning: true,
      ...over,
    };
  }

  const newSource = (cfg: KafkaSourceConfig, metrics = createMetrics('collector')) => new KafkaSource(cfg, jetstream(nc), createLogger('collector', 'silent'), metrics);

  /** Records `{t, p, n, pad}` with n from..to-1, alternating partitions 0 and 1. */
  async function produce(topic: string, from: number, to: number, pad = 60): Promise<void> {
    const messages = [];
    for (let n = from; n < to; n++) messages.push({ partition: n % 2, value: JSON.stringify({ t: topic, p: n % 2, n, pad: 'x'.repeat(pad) }) });
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, messages: messages.slice(i, i + 500) });
  }

  async function rawRecords(source: string) {
    const envs = await readSubject(jsm, 'RAW', subjects.raw(source));
    return envs.flatMap((e) => e.lines.map((l) => ({ object: e.headers[H.object], count: Number(e.headers[H.count]), rec: JSON.parse(l) as { p: number; n: number } })));
  }

  async function storedCount(source: string): Promise<number> {
    const envs = await readSubject(jsm, 'RAW', subjects.raw(source));
    return envs.reduce((s, e) => s + e.lines.length, 0);
  }

  /** Every n in 0..total-1 exactly once, in the envelope of its own partition. */
  async function expectExactlyOnce(source: string, topic: string, total: number): Promise<void> {
    await until(async () => (await storedCount(source)) >= total, 60_000, `${total} records on raw.${source}`);
    await new Promise((r) => setTimeout(r, 500)); // anything extra would have landed by now
    const recs = await rawRecords(source);
    const seen = new Map<number, number>();
    for (const r of recs) {
      seen.set(r.rec.n, (seen.get(r.rec.n) ?? 0) + 1);
      expect(r.object).toBe(`${topic}:${r.rec.p}`);
    }
    const dupes = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
    const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !seen.has(n));
    expect({ dupes, missing, stored: recs.length }).toEqual({ dupes: [], missing: [], stored: total });
  }

  async function committedTotal(groupId: string, topic: string): Promise<number> {
    const offs = await kafkaBroker.admin.fetchOffsets({ groupId, topics: [topic] });
    return offs[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  }

  it('publishes N records from 2 partitions over SASL PLAIN exactly once, with <topic>:<partition> lineage, then commits', async () => {
    const topic = 'events-basic';
    await kafkaBroker.createTopic(topic, 2);
    await produce(topic, 0, 600);
    const src = newSource(config('kbasic', topic));
    await src.start();
    try {
      await expectExactlyOnce('kbasic', topic, 600);
      // Envelopes respect the cap: 600 records of ~100 bytes under 2 KiB each.
      const envs = await readSubject(jsm, 'RAW', subjects.raw('kbasic'));
      expect(envs.length).toBeGreaterThanOrEqual(30);
      expect(Math.max(...envs.map((e) => e.bytes))).toBeLessThanOrEqual(2048);
      await until(async () => (await committedTotal('group-kbasic', topic)) === 600, 15_000, 'offsets committed to 300 + 300');
    } finally {
      await src.stop();
    }
  });

  it('turns message values into records: one-line values unchanged, pretty JSON joined, NDJSON split, tombstones and oversized skipped', async () => {
    const topic = 'events-values';
    await kafkaBroker.createTopic(topic, 1);
    const defender = '{"records":[{"time":"2024-05-01T10:00:00.1234567Z","category":"AdvancedHunting-DeviceNetworkEvents","properties":{"RemotePort":443,"Score":1.50}}]}';
    await producer.send({
      topic,
      messages: [{ value: defender }, { value: '{\n  "pretty": true,\n  "n": 2\n}\n' }, { value: null }, { value: '{"l":1}\n{"l":2}\r\n\n{"l":3}\n' }, { value: `{"big":"${'x'.repeat(3000)}"}` }, { value: 'plain text' }],
    });
    const metrics = createMetrics('collector');
    const src = newSource(config('kvalues', topic, { family: 'defender' }), metrics);
    await src.start();
    try {
      await until(async () => (await storedCount('kvalues')) >= 6, 30_000, '6 records on raw.kvalues');
      const envs = await readSubject(jsm, 'RAW', subjects.raw('kvalues'));
      expect(envs.flatMap((e) => e.lines)).toEqual([defender, '{   "pretty": true,   "n": 2 }', '{"l":1}', '{"l":2}', '{"l":3}', 'plain text']);
      expect(envs[0]!.headers[H.object]).toBe(`${topic}:0`);
      expect(envs[0]!.headers[H.family]).toBe('defender');
      const dropped = (await collectorMetrics(metrics).dropped.get()).values.map((v) => [v.labels.reason, v.value]);
      expect(dropped.sort()).toEqual([['empty', 1], ['oversized', 1]]);
      await until(async () => (await committedTotal('group-kvalues', topic)) === 6, 15_000, 'all 6 offsets committed');
    } finally {
      await src.stop();
    }
  });

  it('stopped midway and restarted in the same group: every record exactly once, the stop committed what it stored', async () => {
    const topic = 'events-restart';
    await kafkaBroker.createTopic(topic, 2);
    // ~1 KiB records: 3000 per partition are several fetches (kafkajs takes at most 1 MiB per partition at a time).
    await produce(topic, 0, 6000, 1000);
    const cfg = config('krestart', topic, { maxBatchBytes: 16 * 1024 });
    const first = newSource(cfg);
    await first.start();
    await until(async () => (await countSubject(jsm, 'RAW', subjects.raw('krestart'))) > 0, 30_000, 'the first envelope');
    await first.stop();
    const afterStop = await storedCount('krestart');
    expect(afterStop).toBeGreaterThan(0);
    expect(afterStop).toBeLessThan(6000);
    // The stop let the batches in flight finish and commit: committed offsets cover exactly what RAW holds.
    expect(await committedTotal('group-krestart', topic)).toBe(afterStop);
    await produce(topic, 6000, 7000, 1000);
    const second = newSource(cfg);
    await second.start();
    try {
      await expectExactlyOnce('krestart', topic, 7000);
    } finally {
      await second.stop();
    }
  });

  it('killed between the JetStream ack and the commit: the replay is deduplicated, nothing lost or doubled', async () => {
    const topic = 'events-crash';
    await kafkaBroker.createTopic(topic, 2);
    await produce(topic, 0, 1000);
    // A short session: the group drops the killed member after 6 s instead of 30 s.
    const cfg = config('kcrash', topic, { maxBatchBytes: 1000, sessionTimeoutMs: 6000 });
    // A separate process that SIGKILLs itself at the fault point, after publishing its first unit.
    const here = fileURLToPath(new URL('.', import.meta.url));
    const code = `
      const { jetstream } = await import('@nats-io/jetstream');
      const { connect } = await import('@nats-io/transport-node');
      const { createLogger, createMetrics } = await import('@sluice/runtime');
      const { KafkaSource } = await import(${JSON.stringify(`${here}../../services/collector/kafkaSource.ts`)});
      const nc = await connect({ servers: ${JSON.stringify(nats.url)} });
      await new KafkaSource(${JSON.stringify(cfg)}, jetstream(nc), createLogger('collector', 'silent'), createMetrics('collector')).start();
      setTimeout(() => process.exit(3), 60000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: `${here}../..`,
      env: { ...process.env, SLUICE_FAULT: 'collector.kafka.beforeCommit' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = await new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (c, s) => resolve(s ?? c)));
    expect(exit, stderr).toBe('SIGKILL');
    const published = await storedCount('kcrash');
    expect(published).toBeGreaterThan(0);
    expect(await committedTotal('group-kcrash', topic)).toBeLessThan(published);
    // More records arrive meanwhile: the replayed fetch reaches past the crashed unit, yet is cut where it ended.
    await produce(topic, 1000, 1400);
    const src = newSource(cfg);
    await src.start();
    try {
      await expectExactlyOnce('kcrash', topic, 1400);
      await until(async () => (await committedTotal('group-kcrash', topic)) === 1400, 15_000, 'all offsets committed');
    } finally {
      await src.stop();
    }
  });

  it('refuses a wrong SASL password with a clear error', async () => {
    const src = newSource(config('kbadpw', 'events-basic', { sasl: { mechanism: 'plain', username: EVENT_HUBS_USER, password: 'Endpoint=sb://wrong/;SharedAccessKey=nope' } }));
    await expect(src.start()).rejects.toThrow(/Kafka source "kbadpw" \(brokers 127\.0\.0\.1:\d+\): SASL PLAIN authentication failed for user "\$ConnectionString": .*Invalid username or password/);
    await src.stop();
  });
});
