// Delivery tests against the real local receiver and scripted node:http servers on 127.0.0.1.
// Covers posted / 429 Retry-After / rejected / 5xx + network retries / timeout / abort.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RetryableDeliveryError,
  backoffMs,
  parseRetryAfter,
  postToSlack,
  startWebhookReceiver,
  toSlackMessage,
  type WebhookReceiver,
} from './index.ts';
import { sampleAlert, scriptedServer, type ScriptedServer } from './testFixtures.ts';

const cleanup: (WebhookReceiver | ScriptedServer)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((s) => s.close()));
});

async function receiver(opts: Parameters<typeof startWebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(opts);
  cleanup.push(r);
  return r;
}
async function scripted(...args: Parameters<typeof scriptedServer>): Promise<ScriptedServer> {
  const s = await scriptedServer(...args);
  cleanup.push(s);
  return s;
}
/** A sleep that records requested delays and returns at once. */
function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

describe('postToSlack against the local receiver', () => {
  it('delivers the alert with the expected blocks', async () => {
    const r = await receiver();
    const msg = toSlackMessage(sampleAlert());
    expect(await postToSlack(r.url, msg)).toEqual({ outcome: 'posted' });
    expect(r.posts).toHaveLength(1);
    expect(r.posts[0]?.body).toEqual(msg);
    expect(r.posts[0]?.received).toBeInstanceOf(Date);
  });

  it('honours 429 Retry-After: waits at least the delay, retries, and the alert arrives exactly once', async () => {
    const r = await receiver({ rateLimitEvery: 2 }); // 1st ok, 2nd 429, 3rd ok
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
      await new Promise((res) => setTimeout(res, ms));
    };
    expect(await postToSlack(r.url, toSlackMessage(sampleAlert({ alert_id: 'first' })), { sleep })).toEqual({ outcome: 'posted' });
    const started = Date.now();
    expect(await postToSlack(r.url, toSlackMessage(sampleAlert({ alert_id: 'second' })), { sleep, maxRetries: 0 })).toEqual({
      outcome: 'posted',
    });
    expect(waits).toEqual([1000]);
    const second = r.posts.filter((p) => JSON.stringify(p.body).includes('second'));
    expect(second).toHaveLength(1);
    expect(second[0]!.received.getTime() - started).toBeGreaterThanOrEqual(1000);
    expect(r.posts).toHaveLength(2);
  });

  it('caps the total Retry-After wait and then throws a retryable error', async () => {
    const r = await receiver({ rateLimitEvery: 1 }); // always 429
    const { sleep, waits } = fakeSleep();
    const err = await postToSlack(r.url, { text: 'hi' }, { sleep, maxRetries: 0, maxRateLimitWaitMs: 2500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableDeliveryError);
    expect(err).toMatchObject({ status: 429, attempts: 3, retryAfterMs: 1000 });
    expect(waits).toEqual([1000, 1000]); // 429 waits are not charged to maxRetries: 0
    expect(r.posts).toHaveLength(0);
  });

  it('returns rejected with Slack’s body on 400 no_text, without retrying', async () => {
    const r = await receiver();
    const { sleep, waits } = fakeSleep();
    expect(await postToSlack(r.url, { text: '' }, { sleep })).toEqual({ outcome: 'rejected', status: 400, body: 'no_text' });
    expect(waits).toEqual([]);
    expect(r.posts).toHaveLength(0);
  });

  it('returns rejected on 404 no_service for an unknown hook path', async () => {
    const r = await receiver();
    expect(await postToSlack(`${r.url}-revoked`, { text: 'x' })).toEqual({ outcome: 'rejected', status: 404, body: 'no_service' });
  });
});

describe('postToSlack retries', () => {
  it('retries 5xx with growing jittered backoff, then throws RetryableDeliveryError', async () => {
    const s = await scripted((_n, _req, res) => res.writeHead(500).end('rollup_error'));
    const { sleep, waits } = fakeSleep();
    const err = await postToSlack(s.url, { text: 'x' }, { sleep, maxRetries: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableDeliveryError);
    expect(err).toMatchObject({ status: 500, attempts: 4 });
    expect((err as Error).message).toContain('rollup_error');
    expect(s.requests).toHaveLength(4);
    expect(waits).toHaveLength(3);
    [250, 500, 1000].forEach((lo, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(lo);
      expect(waits[i]).toBeLessThanOrEqual(lo * 2);
    });
  });

  it('recovers when a 503 clears before the retry budget runs out', async () => {
    const s = await scripted((n, _req, res) => (n < 2 ? res.writeHead(503).end() : res.writeHead(200).end('ok')));
    const { sleep } = fakeSleep();
    expect(await postToSlack(s.url, { text: 'x' }, { sleep, maxRetries: 2 })).toEqual({ outcome: 'posted' });
    expect(s.requests.map((r) => r.body)).toEqual(Array(3).fill('{"text":"x"}'));
  });

  it('treats connection refused as retryable', async () => {
    const port = await freePort();
    const { sleep, waits } = fakeSleep();
    const err = await postToSlack(`http://127.0.0.1:${port}/services/T/B/x`, { text: 'x' }, { sleep, maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableDeliveryError);
    expect(err).toMatchObject({ attempts: 2, status: undefined });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(waits).toHaveLength(1);
  });

  it('times out a hung attempt and retries it', async () => {
    const s = await scripted(() => undefined); // never answers
    const { sleep } = fakeSleep();
    const err = await postToSlack(s.url, { text: 'x' }, { sleep, timeoutMs: 100, maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableDeliveryError);
    expect(s.requests).toHaveLength(2);
  });

  it('stops at once when the caller aborts, rather than retrying', async () => {
    const s = await scripted(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutdown')), 50);
    await expect(postToSlack(s.url, { text: 'x' }, { signal: ac.signal, maxRetries: 5 })).rejects.toThrow('shutdown');
    expect(s.requests).toHaveLength(1);
  });
});

describe('retry helpers', () => {
  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('30')).toBe(30_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:10 GMT', Date.parse('2024-05-01T12:00:00Z'))).toBe(10_000);
  });

  it('backs off exponentially within [step/2, step], capped at 30 s', () => {
    expect(backoffMs(1, () => 0)).toBe(250);
    expect(backoffMs(3, () => 1)).toBe(2000);
    expect(backoffMs(20, () => 1)).toBe(30_000);
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}
