// Block Kit types, Slack's documented size limits, and the escape/truncate helpers that keep text inside them.
// Used by both the message builder (to stay within limits) and the local receiver (to enforce them).

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}
export type TextObject = PlainText | MrkdwnText;

export interface HeaderBlock {
  type: 'header';
  text: PlainText;
}
export interface SectionBlock {
  type: 'section';
  text?: TextObject;
  fields?: TextObject[];
}
export interface ContextBlock {
  type: 'context';
  elements: TextObject[];
}
export interface DividerBlock {
  type: 'divider';
}
export type SlackBlock = HeaderBlock | SectionBlock | ContextBlock | DividerBlock;

/** Incoming-webhook payload: `text` is the notification/accessibility fallback when `blocks` are present. */
export interface SlackMessage {
  text: string;
  blocks?: SlackBlock[];
}

/** Limits from Slack's Block Kit reference; exceeding any of them makes Slack answer 400 invalid_blocks. */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  blocks: 50,
  /** Our own cap: Slack allows far more, but the fallback only feeds notifications, which Slack cuts short anyway. */
  fallbackText: 3000,
} as const;

const ELLIPSIS = '…';

/**
 * Cuts `s` to at most `max` UTF-16 units (so also ≤ max code points), ending in an ellipsis,
 * without splitting a surrogate pair or, for mrkdwn, an `&amp;`-style entity.
 */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = Math.max(0, max - ELLIPSIS.length);
  const last = s.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  // After escapeMrkdwn every '&' opens an entity, so a trailing '&…' without ';' is a cut entity.
  const head = s.slice(0, cut).replace(/&[a-z]*$/, '');
  return head + ELLIPSIS;
}

/**
 * Slack's required mrkdwn escaping. Alert fields come from attacker-influenced logs, so an unescaped
 * entity like `<!channel>` would ping the whole channel or render a disguised link.
 */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function plain(text: string, max: number): PlainText {
  return { type: 'plain_text', text: truncate(text, max), emoji: true };
}

/** Mrkdwn text object from already-escaped (trusted) markup, truncated to `max`. */
export function mrkdwn(markup: string, max: number): MrkdwnText {
  return { type: 'mrkdwn', text: truncate(markup, max) };
}
