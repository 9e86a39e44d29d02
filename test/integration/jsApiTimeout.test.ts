// JetStream API calls of a starting service outlast a server that stalls for several seconds (as a busy server with
// sync_interval: always does): with the client's 5 s default, recreating a sink's consumers timed out and the sink
// crash-looped at start in the chaos suite; with JS_API_TIMEOUT_MS the same call completes once the server answers.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureConsumer, ensureStream } from '../../libs/runtime/provision.ts';
import { JS_API_TIMEOUT_MS } from '../../libs/runtime/service.ts';
import { startNatsServer } from '../support/natsServer.ts';

const consumerCfg = { maxInFlight: 8, fetchBatch: 32, ackWaitSeconds: 30, maxDeliver: 8, backoffSeconds: [1] };
const streamCfg = { replicas: 1, maxAgeHours: 1, duplicateWindowSeconds: 60, storage: 'file' as const, maxBytes: -1, eventPartitions: 1, rawPartitions: 1 };

describe('JetStream API timeout of services', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('recreates a consumer across a 7 s server stall, where the default timeout fails', async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const spec = { name: 'T', subjects: ['t.>'], doc: 'test' };
    await ensureStream(await jetstreamManager(nc), spec, streamCfg);
    const stall = async <T>(call: () => Promise<T>): Promise<T | Error> => {
      nats.process.kill('SIGSTOP');
      const resume = setTimeout(() => nats.process.kill('SIGCONT'), 7000);
      try {
        return await call().catch((e: unknown) => e as Error);
      } finally {
        await new Promise((r) => setTimeout(r, 7500));
        clearTimeout(resume);
      }
    };
    const fallback = await stall(async () => ensureConsumer(await jetstreamManager(nc), { stream: 'T', durable: 'd1', filterSubject: 't.a', resumeAfterSeq: 0 }, consumerCfg));
    expect(String(fallback)).toMatch(/timeout/i);
    const jsm = await jetstreamManager(nc, { timeout: JS_API_TIMEOUT_MS });
    const res = await stall(() => ensureConsumer(jsm, { stream: 'T', durable: 'd2', filterSubject: 't.b', resumeAfterSeq: 0 }, consumerCfg));
    expect(res).toBeUndefined();
    expect((await jsm.consumers.info('T', 'd2')).config.filter_subject).toBe('t.b');
  }, 60_000);
});
