// Notifier → Azure Event Hubs: over the Kafka endpoint to a real Kafka 4.1.1 broker with a SASL PLAIN listener
// (user `$ConnectionString`), read back with a kafkajs consumer; and over the HTTPS send API to a local TLS endpoint
// that verifies SAS signatures as Event Hubs does. Each alert lands exactly once across a restart and replays.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { H } from '@sluice/runtime';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEventHub, type LocalEventHub } from '@sluice/eventhubs';
import type { EventHubsHttpsConfig, EventHubsKafkaConfig } from '../../services/notifier/config.ts';
import { eventHubsHttpsDestination, eventHubsKafkaDestination } from '../../services/notifier/eventHubsDestinations.ts';
import { EVENT_HUBS_PASSWORD, kafkaUnavailableReason, startKafkaBroker, type KafkaBrokerHandle } from '../support/kafkaBroker.ts';
import { alert, ledger, LEASE_MS, pending, publish, run, startHarness, until, type Harness } from './notifierHarness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const kafkaMissing = kafkaUnavailableReason();

describe.skipIf(kafkaMissing !== null)('Event Hubs over the Kafka endpoint (real broker, SASL PLAIN)', () => {
  let broker: KafkaBrokerHandle;
  const topic = 'sluice-alerts';
  beforeAll(async () => {
    broker = await startKafkaBroker();
    await broker.createTopic(topic, 2);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  const kafkaConfig = (over: Partial<EventHubsKafkaConfig> = {}): EventHubsKafkaConfig => ({
    enabled: true,
    connectionString: EVENT_HUBS_PASSWORD,
    brokers: [broker.sasl],
    topic,
    ssl: false,
    idempotent: true,
    lingerMs: 20,
    maxBatch: 500,
    ...over,
  });

  async function readTopic(expect: number): Promise<{ key: string; value: string; partition: number }[]> {
    const kafka = new Kafka({ clientId: 'sluice-test-reader', brokers: [broker.plaintext], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `reader-${Date.now()}` });
    const got: { key: string; value: string; partition: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message, partition }) => void got.push({ key: message.key!.toString(), value: message.value!.toString(), partition }) });
    await until(() => got.length >= expect, `${expect} Kafka messages`, 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // anything extra would show up now
    await consumer.disconnect();
    return got;
  }

  it('produces each alert once (key = alert id, value = alert JSON), across a notifier restart and replays', async () => {
    const first = Array.from({ length: 30 }, (_, i) => alert(`k${i}`, { entity: `host-${i % 3}` }));
    const msgs = (alerts: typeof first) => Array.from({ length: Math.ceil(alerts.length / 3) }, (_, i) => alerts.slice(i * 3, i * 3 + 3));
    const a = await run(h, eventHubsKafkaDestination(kafkaConfig(), ledger(h, 'eventhubs-kafka', 'first'), LEASE_MS), 'notifier-eventhubs-kafka', 'kafka');
    await publish(h, 'kafka', msgs(first));
    await until(() => a.outcomes.length === 30, '30 outcomes', 60_000);
    expect(a.outcomes.every((o) => o === 'delivered')).toBe(true);
    await a.stop();

    // Restart: the same durable consumer, a new process identity; everything is replayed plus 10 new alerts.
    const fresh = Array.from({ length: 10 }, (_, i) => alert(`k-new-${i}`));
    await publish(h, 'kafka', [...msgs(first), ...msgs(fresh)]);
    const b = await run(h, eventHubsKafkaDestination(kafkaConfig(), ledger(h, 'eventhubs-kafka', 'second'), LEASE_MS), 'notifier-eventhubs-kafka', 'kafka');
    await until(() => b.outcomes.length === 40, '40 outcomes after restart', 60_000);
    expect(b.outcomes.filter((o) => o === 'duplicate')).toHaveLength(30);
    expect(b.outcomes.filter((o) => o === 'delivered')).toHaveLength(10);
    await until(async () => (await pending(h, 'notifier-eventhubs-kafka')).join() === '0,0', 'acked');
    await b.stop();

    const got = await readTopic(40);
    expect(got).toHaveLength(40);
    expect(got.map((m) => m.key).sort()).toEqual([...first, ...fresh].map((x) => x.alert_id).sort());
    for (const m of got) expect(JSON.parse(m.value)).toEqual([...first, ...fresh].find((x) => x.alert_id === m.key));
    expect(new Set(got.map((m) => m.partition)).size).toBe(2); // keys spread over the partitions
  });

  it('a wrong SASL password fails the delivery as retryable (not dead-lettered) and claims are released', async () => {
    const wrong = kafkaConfig({ connectionString: EVENT_HUBS_PASSWORD.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=d3Jvbmc=') });
    const dest = eventHubsKafkaDestination(wrong, ledger(h, 'eventhubs-kafka-wrong'), LEASE_MS);
    await expect(dest.deliver(alert('kw1'))).rejects.toThrow(/SASL|authenticat/i);
    expect(await ledger(h, 'eventhubs-kafka-wrong').state('kw1')).toBe('absent');
    await dest.close();
  });
});

describe('Event Hubs HTTPS send API (local TLS endpoint verifying SAS signatures)', () => {
  let dir: string;
  let hub: LocalEventHub;
  let certFile: string;
  const ns = 'sluice-test.servicebus.windows.net';
  const cs = (key: string) => `Endpoint=sb://${ns}/;SharedAccessKeyName=send;SharedAccessKey=${key};EntityPath=alerts`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-eh-'));
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    hub = await startLocalEventHub({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), host: ns, keys: [{ keyName: 'send', key: 'c2VuZC1rZXk=' }] });
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const httpsConfig = (key: string): EventHubsHttpsConfig => ({ enabled: true, connectionString: cs(key), endpoint: hub.endpoint, caFile: certFile, lingerMs: 20, maxBatch: 500, timeoutMs: 2000 });

  it('sends batches accepted with 201, each alert once across replays and a 503', async () => {
    hub.script.push(503);
    const r = await run(h, eventHubsHttpsDestination(httpsConfig('c2VuZC1rZXk='), ledger(h, 'eventhubs-https'), LEASE_MS), 'notifier-eventhubs-https', 'https');
    const alerts = Array.from({ length: 12 }, (_, i) => alert(`e${i}`));
    await publish(h, 'https', [alerts.slice(0, 6), alerts.slice(6), alerts.slice(0, 6)]);
    await until(() => hub.events.length >= 12 && r.outcomes.length === 18, 'all alerts', 30_000);
    await until(async () => (await pending(h, 'notifier-eventhubs-https')).join() === '0,0', 'acked');
    await r.stop();
    expect(hub.events.map((e) => e.partitionKey).sort()).toEqual(alerts.map((a) => a.alert_id).sort());
    for (const e of hub.events) expect(JSON.parse(e.body)).toEqual(alerts.find((a) => a.alert_id === e.partitionKey));
    expect(r.outcomes.filter((o) => o === 'delivered')).toHaveLength(12);
  });

  it('a token signed with the wrong key is refused (401) and the alert dead-lettered with the reason', async () => {
    const before = hub.events.length;
    const r = await run(h, eventHubsHttpsDestination(httpsConfig('d3Jvbmc='), ledger(h, 'eventhubs-https'), LEASE_MS), 'https-wrongkey', 'httpsbad');
    await publish(h, 'httpsbad', [[alert('bad1')]]);
    await until(() => r.outcomes.length === 1, 'the outcome');
    await r.stop();
    expect(r.outcomes).toEqual(['rejected']);
    expect(hub.events.length).toBe(before);
    expect(hub.unauthorized.at(-1)).toBe('signature mismatch');
    const dead = (await h.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.notifier' }))!;
    expect(dead.header.get(H.error)).toMatch(/^non_retryable: eventhubs-https rejected alert bad1: Event Hubs answered 401 .*signature mismatch/);
  });
});
