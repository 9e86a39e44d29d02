// The actor loop against a real nats-server: exactly-once outputs across redelivery, retries, dead-lettering.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsumeLoop,
  createLogger,
  createMetrics,
  ensureConsumer,
  ensureStream,
  H,
  InFlightBytes,
  NonRetryableError,
  provisionTopology,
  STREAMS,
  type CommonConfig,
  type Handler,
} from '@sluice/runtime';
import { fastRetryConfig } from '../support/runtimeConfig.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let cfg: CommonConfig;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  cfg = fastRetryConfig();
  await provisionTopology(nc, jsm, cfg);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function drain(subject: string, stream: string): Promise<{ data: string; headers: Record<string, string> }[]> {
  const info = await jsm.streams.info(stream);
  const out: { data: string; headers: Record<string, string> }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m || m.subject !== subject) continue;
    const headers: Record<string, string> = {};
    for (const k of m.header?.keys() ?? []) headers[k] = m.header.get(k);
    out.push({ data: new TextDecoder().decode(m.data), headers });
  }
  return out;
}

async function until(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

function loop(durable: string, filter: string, handler: Handler, inFlightBytes?: InFlightBytes): Promise<ConsumeLoop> {
  return (async () => {
    await ensureConsumer(jsm, { stream: 'RAW', durable, filterSubject: filter }, cfg.consumer);
    const l = new ConsumeLoop({
      stage: durable,
      js,
      consumer: await js.consumers.get('RAW', durable),
      stream: 'RAW',
      handler,
      cfg: cfg.consumer,
      log: createLogger(durable, 'silent'),
      metrics: createMetrics(durable),
      onFatal: () => undefined,
      ...(inFlightBytes ? { inFlightBytes } : {}),
    });
    l.start();
    return l;
  })();
}

describe('provisioning', () => {
  it('is idempotent and updates a changed setting', async () => {
    await provisionTopology(nc, jsm, cfg);
    await ensureStream(jsm, STREAMS.raw, { ...cfg.streams, maxAgeHours: 24 });
    const info = await jsm.streams.info('RAW');
    expect(info.config.max_age).toBe(24 * 3600 * 1e9);
    await ensureStream(jsm, STREAMS.raw, cfg.streams);
    expect((await jsm.streams.info('RAW')).config.max_age).toBe(cfg.streams.maxAgeHours * 3600 * 1e9);
  });
});

describe('ConsumeLoop', () => {
  it('publishes each output once even when the first attempt fails after publishing', async () => {
    let failOnce = true;
    const l = await loop('t1', 'raw.t1', async (m) => {
      const outs = [0, 1].map((i) => ({ subject: 'raw.t1out', data: new TextEncoder().encode(`${m.seq}-${i}`), records: 1 }));
      if (failOnce) {
        failOnce = false;
        // Publish the outputs, then fail: the retry republishes the same ids and JetStream drops them.
        await Promise.all(outs.map((o, i) => js.publish(o.subject, o.data, { msgID: `t1:RAW:${m.seq}:${i}` })));
        throw new Error('simulated crash after publish');
      }
      return outs;
    });
    for (let i = 0; i < 5; i++) await js.publish('raw.t1', new TextEncoder().encode(`in${i}`), { headers: undefined });
    await until(async () => (await jsm.consumers.info('RAW', 't1')).num_ack_pending === 0 && (await jsm.consumers.info('RAW', 't1')).num_pending === 0);
    await l.stop();
    const out = await drain('raw.t1out', 'RAW');
    expect(out.length).toBe(10);
    expect(new Set(out.map((o) => o.data)).size).toBe(10);
  });

  it('dead-letters a non-retryable input with the error and stage, and the others go through', async () => {
    let poisonCalls = 0;
    const l = await loop('t2', 'raw.t2', async (m) => {
      const text = new TextDecoder().decode(m.data);
      if (text === 'poison') {
        poisonCalls++;
        throw new NonRetryableError('not an envelope');
      }
      return [{ subject: 'raw.t2out', data: m.data, records: 1 }];
    });
    for (const t of ['a', 'poison', 'b']) await js.publish('raw.t2', new TextEncoder().encode(t));
    await until(async () => (await drain('dlq.t2', 'DLQ')).length === 1 && (await drain('raw.t2out', 'RAW')).length === 2);
    // The term must take effect (nats-server 2.9 ignores "+TERM <reason>"): no redelivery once ack_wait has passed.
    await new Promise((r) => setTimeout(r, cfg.consumer.ackWaitSeconds * 1000 + 500));
    await l.stop();
    expect(poisonCalls).toBe(1);
    const info = await jsm.consumers.info('RAW', 't2');
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    const [dead] = await drain('dlq.t2', 'DLQ');
    expect(dead!.data).toBe('poison');
    expect(dead!.headers[H.error]).toContain('not an envelope');
    expect(dead!.headers[H.stage]).toBe('t2');
    expect(dead!.headers[H.origSubject]).toBe('raw.t2');
  });

  it('retries infrastructure errors with backoff and dead-letters after max_deliver', async () => {
    let attempts = 0;
    const l = await loop('t3', 'raw.t3', async () => {
      attempts++;
      throw new Error('object store unavailable');
    });
    await js.publish('raw.t3', new TextEncoder().encode('x'));
    await until(async () => (await drain('dlq.t3', 'DLQ')).length === 1);
    await l.stop();
    expect(attempts).toBe(3);
    const [dead] = await drain('dlq.t3', 'DLQ');
    expect(dead!.headers[H.error]).toMatch(/^max_deliver: object store unavailable/);
  });

  it('holds at most the shared byte limit in flight across loops, and handles every message', async () => {
    // Two loops share 2 500 bytes: at most two 1 000-byte messages are in their handlers at any moment.
    const bytes = new InFlightBytes(2500);
    let inHandlers = 0;
    let most = 0;
    const seen: string[] = [];
    const handler: Handler = async (m) => {
      most = Math.max(most, ++inHandlers);
      await new Promise((r) => setTimeout(r, 20));
      seen.push(new TextDecoder().decode(m.data.subarray(0, 8)));
      inHandlers--;
      return [];
    };
    const body = (s: string) => new TextEncoder().encode(s.padEnd(1000, '.'));
    // A backlog first: unbounded, the loops would take all twelve at once.
    for (let i = 0; i < 6; i++) {
      await js.publish('raw.t4a', body(`a${i}`));
      await js.publish('raw.t4b', body(`b${i}`));
    }
    const a = await loop('t4a', 'raw.t4a', handler, bytes);
    const b = await loop('t4b', 'raw.t4b', handler, bytes);
    await until(async () => seen.length === 12);
    await a.stop();
    await b.stop();
    expect(most).toBe(2);
    expect(bytes.bytes).toBe(0);
    expect(seen.map((s) => s.replace(/\.+$/, '')).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
  });
});
