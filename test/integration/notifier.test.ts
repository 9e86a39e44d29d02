// Notifier → Slack against a real nats-server (KV ledger, ConsumeLoop, DLQ) and the Slack-faithful local webhook
// receiver: routing per rule/severity, aggregation with a count, per-webhook pacing, 429 / 4xx / 5xx / timeouts,
// two racing replicas and crash windows, each alert posted exactly once.
import { H } from '@sluice/runtime';
import { startWebhookReceiver, type WebhookReceiver } from '@sluice/slack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DESTINATION_HEADER } from '../../services/notifier/handler.ts';
import { alert, ledger, LEASE_MS, pending, postedIds, publish, run, slack, startHarness, until, type Harness, type Running } from './notifierHarness.ts';

let h: Harness;
const receivers: WebhookReceiver[] = [];
const running: Running[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await h?.close();
});

async function receiver(opts: Parameters<typeof startWebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(opts);
  receivers.push(r);
  return r;
}
async function start(...args: Parameters<typeof run>): Promise<Running> {
  const r = await run(...args);
  running.push(r);
  return r;
}
const sorted = (ids: string[][]) => ids.flat().sort();

describe('routing', () => {
  it('sends each alert to the first route matching its rule / severity, else the default; unrouted without a default', async () => {
    const [ioc, urgent, dflt] = [await receiver(), await receiver(), await receiver()];
    const dest = slack(h, { routes: [{ rule: 'ioc_match', webhookUrl: ioc.url }, { severity: ['critical', 'high'], webhookUrl: urgent.url }], webhookUrl: dflt.url });
    const r = await start(h, dest, 'route-slack', 'route');
    await publish(h, 'route', [
      [alert('r1', { rule: 'ioc_match', severity: 'critical' }), alert('r2', { severity: 'critical' })],
      [alert('r3', { severity: 'high' }), alert('r4', { severity: 'low' }), alert('r5', { rule: 'ioc_match', severity: 'low' })],
      [alert('r6', { severity: 'medium' })],
    ]);
    await until(() => ioc.posts.length + urgent.posts.length + dflt.posts.length === 6, 'six posts');
    expect(sorted(postedIds(ioc))).toEqual(['r1', 'r5']);
    expect(sorted(postedIds(urgent))).toEqual(['r2', 'r3']);
    expect(sorted(postedIds(dflt))).toEqual(['r4', 'r6']);
    await until(async () => (await pending(h, 'route-slack')).join() === '0,0', 'all acked');
    expect(r.outcomes.filter((o) => o === 'delivered')).toHaveLength(6);

    // No default route: alerts no route matches are acknowledged as unrouted, not posted, not dead-lettered.
    const only = await receiver();
    const r2 = await start(h, slack(h, { routes: [{ severity: 'critical', webhookUrl: only.url }] }), 'route-nodefault', 'route2');
    await publish(h, 'route2', [[alert('r7', { severity: 'low' }), alert('r8', { severity: 'critical' })]]);
    await until(() => r2.outcomes.length === 2, 'two outcomes');
    expect(r2.outcomes.sort()).toEqual(['delivered', 'unrouted']);
    expect(postedIds(only)).toEqual([['r8']]);
  });
});

describe('aggregation', () => {
  it('turns N similar alerts (same rule + entity) within the window into one message with count N', async () => {
    const r = await receiver();
    const run1 = await start(h, slack(h, { webhookUrl: r.url, aggregateWindowSeconds: 1.5 }), 'agg-slack', 'agg');
    const t0 = Date.now();
    const same = (id: string) => alert(id, { entity: 'ws-finance-17', rule: 'ssh_bruteforce', title: 'SSH brute force' });
    await publish(h, 'agg', [
      [same('g1'), same('g2'), same('g3')],
      [same('g4'), alert('g-other-entity', { rule: 'ssh_bruteforce' })],
      [same('g5'), alert('g-other-rule', { entity: 'ws-finance-17' })],
    ]);
    await until(() => r.posts.length === 3, 'three posts');
    const firstPostAt = Math.min(...r.posts.map((p) => p.received.getTime()));
    expect(firstPostAt - t0).toBeGreaterThanOrEqual(1400); // held for the window
    const ids = postedIds(r).map((p) => p.sort());
    expect(ids).toContainEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    expect(ids).toContainEqual(['g-other-entity']);
    expect(ids).toContainEqual(['g-other-rule']);
    const agg = r.posts.find((p) => JSON.stringify(p.body).includes('Alert IDs (5)'))!.body as { text: string };
    expect(agg.text).toMatch(/ws-finance-17 \(ssh_bruteforce\) ×5$/);
    await until(async () => (await pending(h, 'agg-slack')).join() === '0,0', 'all acked');

    // A replay of the whole burst posts nothing new.
    await publish(h, 'agg', [[same('g1'), same('g2'), same('g3'), same('g4'), same('g5')]]);
    await until(() => run1.outcomes.filter((o) => o === 'duplicate').length === 5, 'five duplicates');
    expect(r.posts).toHaveLength(3);
  });

  it('a full group is sent at once, and shutdown sends open windows instead of waiting', async () => {
    const r = await receiver();
    const dest = slack(h, { webhookUrl: r.url, aggregateWindowSeconds: 600, aggregateMaxAlerts: 3 });
    const run1 = await run(h, dest, 'agg-max', 'aggmax');
    const same = (id: string) => alert(id, { entity: 'db-1' });
    await publish(h, 'aggmax', [[same('m1'), same('m2'), same('m3'), same('m4')]]);
    await until(() => r.posts.length === 1, 'the full group');
    expect(postedIds(r)[0]!.sort()).toEqual(['m1', 'm2', 'm3']);
    await run1.stop();
    expect(postedIds(r)[1]).toEqual(['m4']);
    expect(await pending(h, 'agg-max')).toEqual([0, 0]);
  });
});

describe('rate limit and Slack answers', () => {
  it('paces each webhook with its token bucket (2/s here): posts at least 1/rate apart', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const dest = slack(h, { routes: [{ rule: 'to_b', webhookUrl: b.url }], webhookUrl: a.url, ratePerSecond: 2, burst: 1 });
    await start(h, dest, 'rate-slack', 'rate');
    const t0 = Date.now();
    await publish(h, 'rate', [[...[1, 2, 3, 4, 5, 6].map((i) => alert(`rl${i}`)), ...[1, 2, 3].map((i) => alert(`rlb${i}`, { rule: 'to_b' }))]]);
    await until(() => a.posts.length === 6 && b.posts.length === 3, 'nine posts');
    const gaps = (r: WebhookReceiver) => r.posts.slice(1).map((p, i) => p.received.getTime() - r.posts[i]!.received.getTime());
    for (const g of gaps(a)) expect(g).toBeGreaterThanOrEqual(450);
    expect(a.posts.at(-1)!.received.getTime() - t0).toBeGreaterThanOrEqual(2400);
    // The other webhook has its own bucket: its three posts overlap with a's, not queued behind them.
    expect(b.posts.at(-1)!.received.getTime()).toBeLessThan(a.posts.at(-1)!.received.getTime());
  });

  it('honours 429 Retry-After before posting again; the alert arrives once', async () => {
    const r = await receiver({ script: [{ error: 'rate_limited', retryAfterSeconds: 2 }] });
    await start(h, slack(h, { webhookUrl: r.url }), 'r429-slack', 'r429');
    await publish(h, 'r429', [[alert('t1')]]);
    await until(() => r.posts.length === 1, 'the post');
    expect(r.requests).toHaveLength(2);
    expect(r.requests[1]!.getTime() - r.requests[0]!.getTime()).toBeGreaterThanOrEqual(1950);
    expect(postedIds(r)).toEqual([['t1']]);
  });

  it('dead-letters an alert Slack answers with another 4xx, with the reason; the rest of the message is posted', async () => {
    const r = await receiver({ script: ['channel_is_archived'] });
    const run1 = await start(h, slack(h, { webhookUrl: r.url }), 'r4xx-slack', 'r4xx');
    await publish(h, 'r4xx', [[alert('d1'), alert('d2')]]);
    await until(async () => (await pending(h, 'r4xx-slack')).join() === '0,0' && run1.outcomes.length === 2, 'both handled');
    expect(r.requests).toHaveLength(2); // the 410 was not retried
    const dead = (await h.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.notifier' }))!;
    const deadId = (JSON.parse(new TextDecoder().decode(dead.data)) as { alert_id: string }).alert_id;
    expect(['d1', 'd2']).toContain(deadId);
    expect(dead.header.get(H.error)).toBe(`non_retryable: slack rejected alert ${deadId}: Slack answered 410 channel_is_archived`);
    expect(dead.header.get(DESTINATION_HEADER)).toBe('slack');
    expect(dead.header.get(H.origSubject)).toBe('alerts.r4xx');
    expect(postedIds(r)).toEqual([[deadId === 'd1' ? 'd2' : 'd1']]);
    expect(run1.outcomes.sort()).toEqual(['delivered', 'rejected']);
    // The rejected alert's claim was released: a replay after the channel is fixed delivers it, once.
    expect(await ledger(h, 'slack').state(deadId)).toBe('absent');
    await publish(h, 'r4xx', [[alert('d1'), alert('d2')]]);
    await until(() => r.posts.length === 2, 'the replayed post');
    await until(async () => (await pending(h, 'r4xx-slack')).join() === '0,0', 'acked');
    expect(sorted(postedIds(r))).toEqual(['d1', 'd2']);
  });

  it('retries 5xx and timeouts with backoff (client first, then redelivery) and posts once', async () => {
    const r = await receiver({ script: ['rollup_error', { hang: 3000 }, 'rollup_error', 'rollup_error'] });
    // maxRetries 1: the first delivery fails twice (500, timeout) and is redelivered; the second fails once, then posts.
    const run1 = await start(h, slack(h, { webhookUrl: r.url, timeoutMs: 400, maxRetries: 1 }), 'r5xx-slack', 'r5xx');
    await publish(h, 'r5xx', [[alert('f1')]]);
    await until(() => r.posts.length === 1, 'the post');
    await until(async () => (await pending(h, 'r5xx-slack')).join() === '0,0', 'acked');
    expect(r.requests).toHaveLength(5);
    expect(postedIds(r)).toEqual([['f1']]);
    expect(run1.outcomes).toEqual(['delivered']);
    const dlq = await h.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.notifier' }).catch(() => null);
    expect(dlq && new TextDecoder().decode(dlq.data).includes('"f1"')).toBeFalsy();
  });
});

describe('exactly once', () => {
  it.each([
    ['one message per alert, no window', 0],
    ['aggregation window 0.3 s', 0.3],
  ])('two replicas on separate consumers race over the same alerts, replayed twice: each alert posted once (%s)', async (_what, window) => {
    const r = await receiver();
    const subject = `race${window === 0 ? 'a' : 'b'}`;
    const a = await start(h, slack(h, { webhookUrl: r.url, aggregateWindowSeconds: window }, 'replica-a'), `${subject}-a`, subject);
    const b = await start(h, slack(h, { webhookUrl: r.url, aggregateWindowSeconds: window }, 'replica-b'), `${subject}-b`, subject);
    const ids = Array.from({ length: 40 }, (_, i) => `${subject}-${i}`);
    const msgs = ids.map((id, i) => [alert(id, { entity: `host-${i % 4}` })]);
    // Every replica's consumer sees every message, and every alert is in the stream three times.
    await publish(h, subject, [...msgs, ...msgs, ...msgs]);
    await until(() => a.outcomes.length === 120 && b.outcomes.length === 120, 'all handled by both', 60_000);
    const posted = postedIds(r).flat();
    expect(posted.sort()).toEqual([...ids].sort());
    expect(a.outcomes.filter((o) => o === 'delivered').length + b.outcomes.filter((o) => o === 'delivered').length).toBe(40);
    if (window > 0) expect(r.posts.length).toBeLessThan(40);
  });

  it('a stale claim (crashed replica) is taken over and posted once; a live claim is waited for, not posted again', async () => {
    const r = await receiver();
    const crashed = ledger(h, 'slack', 'crashed');
    // Crashed between claim and post, longer ago than the lease.
    await crashed.claim(['c1'], crashed.newPost(), Date.now() - LEASE_MS - 1000);
    // A live replica holds c2 and finishes its post 1 s later.
    const live = ledger(h, 'slack', 'live');
    const post = live.newPost();
    const [claim] = await live.claim(['c2'], post);
    const run1 = await start(h, slack(h, { webhookUrl: r.url }), 'crash-slack', 'crash');
    await publish(h, 'crash', [[alert('c1'), alert('c2')]]);
    await new Promise((res) => setTimeout(res, 1000));
    expect(postedIds(r)).toEqual([['c1']]);
    await live.commit(post, [{ alertId: 'c2', revision: (claim as { revision: number }).revision }]);
    await until(() => run1.outcomes.length === 2, 'both handled');
    expect(run1.outcomes.sort()).toEqual(['delivered', 'duplicate']);
    expect(postedIds(r)).toEqual([['c1']]);
    expect(await ledger(h, 'slack').state('c1')).toBe('sent');
  });

  it('compare-and-set: of many concurrent claims of one alert exactly one wins', async () => {
    const ledgers = Array.from({ length: 8 }, (_, i) => ledger(h, 'cas-test', `o${i}`));
    const results = await Promise.all(ledgers.map((l) => l.claim(['x1'], l.newPost()).then((c) => c[0]!.status)));
    expect(results.filter((s) => s === 'claimed')).toHaveLength(1);
    expect(results.filter((s) => s === 'busy')).toHaveLength(7);
  });
});
