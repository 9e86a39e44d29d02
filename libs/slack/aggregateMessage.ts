// Renders several similar alerts (same rule and entity, within the notifier's aggregation window) as one Block Kit
// message with their count; a single alert renders exactly as toSlackMessage.
import type { Alert, Severity } from './alert.ts';
import { SLACK_LIMITS as L, escapeMrkdwn, mrkdwn, plain, truncate, type SlackMessage } from './blockKit.ts';
import { SEVERITY_EMOJI, toSlackMessage } from './slackMessage.ts';

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function toAggregateMessage(alerts: Alert[]): SlackMessage {
  const first = alerts[0];
  if (!first) throw new RangeError('toAggregateMessage needs at least one alert');
  if (alerts.length === 1) return toSlackMessage(first);
  const n = alerts.length;
  const severity = alerts.reduce<Severity>((s, a) => (RANK[a.severity] > RANK[s] ? a.severity : s), first.severity);
  const times = alerts.map((a) => a.event_time).sort();
  const base = toSlackMessage({ ...first, severity });
  const emoji = SEVERITY_EMOJI[severity];
  const blocks = base.blocks ?? [];
  // Header and fallback carry the count; the facts show the span; the ids section lists every alert in the message.
  blocks[0] = { type: 'header', text: plain(`${emoji} ${severity.toUpperCase()}: ${first.title} (×${n})`, L.headerText) };
  blocks[1] = {
    type: 'section',
    fields: [
      mrkdwn(`*Rule*\n${escapeMrkdwn(first.rule)}`, L.fieldText),
      mrkdwn(`*Entity*\n${escapeMrkdwn(first.entity)}`, L.fieldText),
      mrkdwn(`*Count*\n${n} similar alerts`, L.fieldText),
      mrkdwn(`*Event times*\n${escapeMrkdwn(times[0] ?? '')} … ${escapeMrkdwn(times[times.length - 1] ?? '')}`, L.fieldText),
    ],
  };
  blocks.splice(2, 0, { type: 'section', text: mrkdwn(`*Alert IDs (${n})*\n${escapeMrkdwn(alerts.map((a) => a.alert_id).join(', '))}`, L.sectionText) });
  const text = truncate(escapeMrkdwn(`${emoji} [${severity.toUpperCase()}] ${first.title} — ${first.entity} (${first.rule}) ×${n}`), L.fallbackText);
  return { text, blocks: blocks.slice(0, L.blocks) };
}
