// Builder tests: block layout, escaping of log-derived text, and truncation to Slack limits.
// Ends with a round trip through the Slack-faithful receiver, which enforces the same limits.
import { afterEach, describe, expect, it } from 'vitest';
import {
  SLACK_LIMITS,
  postToSlack,
  startWebhookReceiver,
  toSlackMessage,
  truncate,
  validateWebhookPayload,
  type ContextBlock,
  type HeaderBlock,
  type SectionBlock,
  type WebhookReceiver,
} from './index.ts';
import { sampleAlert } from './testFixtures.ts';

const texts = (s: SectionBlock | ContextBlock): string[] => ('elements' in s ? s.elements : (s.fields ?? [])).map((t) => t.text);

describe('toSlackMessage', () => {
  it('renders header, fact fields, detail fields, next query and evidence context', () => {
    const msg = toSlackMessage(sampleAlert());
    expect(msg.text).toBe(':large_orange_circle: [HIGH] SSH brute force against bastion — 203.0.113.7 (ssh_bruteforce)');
    const [header, facts, detail, query, context, ...rest] = msg.blocks ?? [];
    expect(rest).toEqual([]);
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: ':large_orange_circle: HIGH: SSH brute force against bastion', emoji: true } });
    expect(texts(facts as SectionBlock)).toEqual([
      '*Rule*\nssh_bruteforce',
      '*Entity*\n203.0.113.7',
      '*Event time*\n2024-05-01T12:00:00.000Z',
      '*Alert ID*\nal-0001',
    ]);
    expect(texts(detail as SectionBlock)).toEqual(['*failures*\n42', '*window_s*\n60', '*user*\nroot', '*geo_known*\nfalse', '*asn*\n_null_']);
    expect((query as SectionBlock).text?.text).toBe(
      "*Next query*\n```SELECT * FROM auth_events WHERE src_ip = '203.0.113.7' ORDER BY event_time```",
    );
    expect(texts(context as ContextBlock)).toEqual([
      'Detected 2024-05-01T12:00:05.000Z',
      ':link: *auth_events* ← sshd / raw/2024/05/01/sshd-0001.log.gz @ seq 1234',
      ':link: *auth_events* ← sshd / raw/2024/05/01/sshd-0001.log.gz @ seq –',
    ]);
    expect(validateWebhookPayload(msg)).toBeNull();
  });

  it('omits empty detail and next query and says when there is no evidence', () => {
    const msg = toSlackMessage(sampleAlert({ detail: {}, evidence: [], next_query: undefined, severity: 'critical' }));
    expect(msg.blocks?.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect((msg.blocks?.[0] as HeaderBlock).text.text.startsWith(':red_circle: CRITICAL:')).toBe(true);
    expect(texts(msg.blocks?.[2] as ContextBlock)).toEqual(['Detected 2024-05-01T12:00:05.000Z', '_no evidence recorded_']);
  });

  it('escapes log-derived text so it cannot mention @channel or forge links', () => {
    const msg = toSlackMessage(sampleAlert({ entity: '<!channel> & <http://evil|click>' }));
    expect(texts(msg.blocks?.[1] as SectionBlock)[1]).toBe('*Entity*\n&lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
    expect(msg.text).not.toContain('<');
  });

  it('truncates every part to Slack limits', () => {
    const huge = 'x'.repeat(10_000);
    const detail = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, huge]));
    const evidence = Array.from({ length: 30 }, (_, i) => ({ table: huge, source: 's', object: `o${i}`, raw_seq: i }));
    const msg = toSlackMessage(sampleAlert({ title: huge, rule: huge, entity: '<'.repeat(5000), detail, evidence, next_query: huge }));
    const [header, facts, det, query, context] = (msg.blocks ?? []) as [HeaderBlock, SectionBlock, SectionBlock, SectionBlock, ContextBlock];

    expect(header.text.text).toHaveLength(SLACK_LIMITS.headerText);
    expect(header.text.text.endsWith('…')).toBe(true);
    for (const f of [...(facts.fields ?? []), ...(det.fields ?? [])]) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    // A cut must not leave half an entity like "&l" behind.
    expect(texts(facts)[1]).toMatch(/(&lt;)+…$/);
    expect(det.fields).toHaveLength(SLACK_LIMITS.sectionFields);
    expect(det.fields?.[9]?.text).toBe(`*+16 more*\n${Array.from({ length: 16 }, (_, i) => `k${i + 9}`).join(', ')}`);
    expect(query.text?.text.length).toBe(SLACK_LIMITS.sectionText);
    expect(query.text?.text.endsWith('…```')).toBe(true);
    expect(context.elements).toHaveLength(SLACK_LIMITS.contextElements);
    expect(context.elements[9]?.text).toBe('+22 more evidence');
    for (const e of context.elements) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
    expect(msg.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
    expect(validateWebhookPayload(msg)).toBeNull();
  });

  it('never splits a surrogate pair when truncating', () => {
    const cut = truncate('ab😀😀😀', 4);
    expect(cut).toBe('ab…');
    expect(truncate('abc😀', 5)).toBe('abc😀');
  });
});

describe('toSlackMessage → receiver', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('an oversized alert, once truncated, is accepted by the Slack-faithful receiver', async () => {
    receiver = await startWebhookReceiver();
    const huge = '🔥'.repeat(3000);
    const msg = toSlackMessage(sampleAlert({ title: huge, detail: { a: huge }, next_query: huge }));
    expect(await postToSlack(receiver.url, msg)).toEqual({ outcome: 'posted' });
    expect(receiver.posts).toHaveLength(1);
  });
});
