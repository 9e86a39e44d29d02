// Slack-side checks of an incoming-webhook body, returning the error code Slack would answer with.
// A subset of Slack's rules: the ones our messages could break (shape, text presence, Block Kit limits).
import { SLACK_LIMITS as L } from './blockKit.ts';

export type WebhookError = 'invalid_payload' | 'no_text' | 'invalid_blocks' | 'invalid_blocks_format';

/** null when Slack would accept the parsed body. */
export function validateWebhookPayload(body: unknown): WebhookError | null {
  if (!isObject(body)) return 'invalid_payload';
  const { text, blocks, attachments } = body;
  if (text !== undefined && typeof text !== 'string') return 'invalid_payload';
  if (blocks !== undefined) {
    if (!Array.isArray(blocks)) return 'invalid_blocks_format';
    if (blocks.length > L.blocks || !blocks.every(validBlock)) return 'invalid_blocks';
  }
  const hasText = typeof text === 'string' && text.trim() !== '';
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  return hasText || hasBlocks || hasAttachments ? null : 'no_text';
}

function validBlock(b: unknown): boolean {
  if (!isObject(b) || typeof b.type !== 'string') return false;
  switch (b.type) {
    case 'header':
      return validText(b.text, L.headerText, true);
    case 'section': {
      if (b.text === undefined && b.fields === undefined) return false;
      if (b.text !== undefined && !validText(b.text, L.sectionText)) return false;
      if (b.fields === undefined) return true;
      return (
        Array.isArray(b.fields) &&
        b.fields.length > 0 &&
        b.fields.length <= L.sectionFields &&
        b.fields.every((f) => validText(f, L.fieldText))
      );
    }
    case 'context':
      return (
        Array.isArray(b.elements) &&
        b.elements.length > 0 &&
        b.elements.length <= L.contextElements &&
        b.elements.every((e) => !isTextObject(e) || validText(e, L.contextText))
      );
    default:
      return true; // other block kinds are not produced by sluice; leave them to real Slack
  }
}

function isTextObject(t: unknown): boolean {
  return isObject(t) && (t.type === 'plain_text' || t.type === 'mrkdwn');
}

function validText(t: unknown, max: number, plainOnly = false): boolean {
  if (!isObject(t) || typeof t.text !== 'string') return false;
  if (t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn')) return false;
  // Slack counts characters; code points are the closest portable measure.
  const len = [...t.text].length;
  return len >= 1 && len <= max;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
