// Receiver tests: Slack error strings for bad payloads, form-encoded bodies, and scheduled 429s.
// Raw fetch is used so the receiver is checked independently of postToSlack.
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from './index.ts';

let r: WebhookReceiver | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function send(url: string, body: string, contentType = 'application/json'): Promise<[number, string]> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return [res.status, await res.text()];
}

describe('webhook receiver', () => {
  it('answers like Slack for valid and invalid payloads', async () => {
    r = await startWebhookReceiver();
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\//);
    expect(await send(r.url, '{"text":"hello"}')).toEqual([200, 'ok']);
    expect(await send(r.url, 'not json')).toEqual([400, 'invalid_payload']);
    expect(await send(r.url, '[1,2]')).toEqual([400, 'invalid_payload']);
    expect(await send(r.url, '{"text":7}')).toEqual([400, 'invalid_payload']);
    expect(await send(r.url, '{}')).toEqual([400, 'no_text']);
    expect(await send(r.url, '{"text":"  ","blocks":[]}')).toEqual([400, 'no_text']);
    expect(await send(r.url, '{"blocks":{}}')).toEqual([400, 'invalid_blocks_format']);
    const longHeader = { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] };
    expect(await send(r.url, JSON.stringify(longHeader))).toEqual([400, 'invalid_blocks']);
    const elevenFields = { blocks: [{ type: 'section', fields: Array(11).fill({ type: 'mrkdwn', text: 'f' }) }] };
    expect(await send(r.url, JSON.stringify(elevenFields))).toEqual([400, 'invalid_blocks']);
    expect(await send(r.url, `payload=${encodeURIComponent('{"text":"form"}')}`, 'application/x-www-form-urlencoded')).toEqual([200, 'ok']);
    expect(await send(r.url.replace(/\/[^/]+$/, '/wrong'), '{"text":"x"}')).toEqual([404, 'no_service']);
    expect(r.posts.map((p) => p.body)).toEqual([{ text: 'hello' }, { text: 'form' }]);
  });

  it('answers every Nth request with 429 and Retry-After: 1', async () => {
    r = await startWebhookReceiver({ rateLimitEvery: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(r.url, { method: 'POST', body: '{"text":"x"}' });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('1');
        expect(await res.text()).toBe('rate_limited');
      } else await res.text();
    }
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
    expect(r.posts).toHaveLength(4);
  });

  it('answers scripted failures as Slack documents them, without recording a post', async () => {
    r = await startWebhookReceiver({ script: ['channel_is_archived', 'rollup_error', { error: 'rate_limited', retryAfterSeconds: 3 }, 'action_prohibited', { hang: 50 }] });
    const answers: [number, string, string | null][] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(r.url, { method: 'POST', body: '{"text":"x"}' });
      answers.push([res.status, await res.text(), res.headers.get('retry-after')]);
    }
    expect(answers).toEqual([
      [410, 'channel_is_archived', null],
      [500, 'rollup_error', null],
      [429, 'rate_limited', '3'],
      [403, 'action_prohibited', null],
    ]);
    await expect(fetch(r.url, { method: 'POST', body: '{"text":"x"}' })).rejects.toThrow();
    expect(await send(r.url, '{"text":"after"}')).toEqual([200, 'ok']);
    expect(r.posts.map((p) => p.body)).toEqual([{ text: 'after' }]);
    expect(r.requests).toHaveLength(6);
  });

  it('rejects a bad rateLimitEvery', async () => {
    await expect(startWebhookReceiver({ rateLimitEvery: 0 })).rejects.toThrow(RangeError);
  });

  it('close() is idempotent', async () => {
    const own = await startWebhookReceiver();
    await own.close();
    await expect(own.close()).resolves.toBeUndefined();
  });
});
