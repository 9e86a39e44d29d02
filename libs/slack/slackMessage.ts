// Renders an Alert as a Slack Block Kit message: header, fact fields, detail fields, next query, evidence context.
// Every user-derived string is escaped and truncated here so the payload always fits Slack's limits.
import type { Alert, EvidenceRef, Severity } from './alert.ts';
import {
  SLACK_LIMITS as L,
  escapeMrkdwn,
  mrkdwn,
  plain,
  truncate,
  type MrkdwnText,
  type SlackBlock,
  type SlackMessage,
} from './blockKit.ts';

export const SEVERITY_EMOJI: Record<Severity, string> = {
  low: ':large_blue_circle:',
  medium: ':large_yellow_circle:',
  high: ':large_orange_circle:',
  critical: ':red_circle:',
};

export function toSlackMessage(alert: Alert): SlackMessage {
  const emoji = SEVERITY_EMOJI[alert.severity];
  const sev = alert.severity.toUpperCase();
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`${emoji} ${sev}: ${alert.title}`, L.headerText) },
    {
      type: 'section',
      fields: [
        field('Rule', alert.rule),
        field('Entity', alert.entity),
        field('Event time', alert.event_time),
        field('Alert ID', alert.alert_id),
      ],
    },
  ];

  const details = Object.entries(alert.detail).map(([k, v]) => field(k, v === null ? null : String(v)));
  if (details.length > 0) {
    const rest = Object.keys(alert.detail).slice(L.sectionFields - 1);
    blocks.push({
      type: 'section',
      fields: capItems(details, L.sectionFields, () =>
        mrkdwn(`*+${rest.length} more*\n${escapeMrkdwn(rest.join(', '))}`, L.fieldText),
      ),
    });
  }

  if (alert.next_query !== undefined && alert.next_query !== '') {
    const open = '*Next query*\n```';
    const close = '```';
    const body = truncate(escapeMrkdwn(alert.next_query), L.sectionText - open.length - close.length);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: open + body + close } });
  }

  const lineage = alert.evidence.length > 0 ? alert.evidence.map(evidenceElement) : [mrkdwn('_no evidence recorded_', L.contextText)];
  const elements = [mrkdwn(`Detected ${escapeMrkdwn(alert.created_time)}`, L.contextText), ...lineage];
  blocks.push({
    type: 'context',
    elements: capItems(elements, L.contextElements, () =>
      mrkdwn(`+${elements.length - (L.contextElements - 1)} more evidence`, L.contextText),
    ),
  });

  const text = truncate(escapeMrkdwn(`${emoji} [${sev}] ${alert.title} — ${alert.entity} (${alert.rule})`), L.fallbackText);
  return { text, blocks };
}

function field(label: string, value: string | null): MrkdwnText {
  const shown = value === null ? '_null_' : value === '' ? '_(empty)_' : escapeMrkdwn(value);
  return mrkdwn(`*${escapeMrkdwn(label)}*\n${shown}`, L.fieldText);
}

function evidenceElement(e: EvidenceRef): MrkdwnText {
  const seq = e.raw_seq === null ? 'seq –' : `seq ${e.raw_seq}`;
  // Lineage reads back to the raw record: derived table ← source stream / stored object @ raw sequence.
  return mrkdwn(`:link: *${escapeMrkdwn(e.table)}* ← ${escapeMrkdwn(e.source)} / ${escapeMrkdwn(e.object)} @ ${seq}`, L.contextText);
}

/** Keeps at most `max` items; when over, the last slot becomes a summary of what was dropped. */
function capItems<T>(items: T[], max: number, overflow: () => T): T[] {
  return items.length <= max ? items : [...items.slice(0, max - 1), overflow()];
}
