// Aggregated messages: count in header and fallback, every alert id listed, highest severity, Slack limits kept.
import { describe, expect, it } from 'vitest';
import { toAggregateMessage, toSlackMessage, validateWebhookPayload } from './index.ts';
import { sampleAlert } from './testFixtures.ts';

describe('toAggregateMessage', () => {
  it('renders one alert exactly like toSlackMessage', () => {
    expect(toAggregateMessage([sampleAlert()])).toEqual(toSlackMessage(sampleAlert()));
  });

  it('shows the count, the span of event times, every id, and the highest severity', () => {
    const alerts = [
      sampleAlert({ alert_id: 'a1', severity: 'medium', event_time: '2024-05-01T12:03:00.000Z' }),
      sampleAlert({ alert_id: 'a2', severity: 'critical', event_time: '2024-05-01T12:01:00.000Z' }),
      sampleAlert({ alert_id: 'a3', severity: 'high', event_time: '2024-05-01T12:02:00.000Z' }),
    ];
    const m = toAggregateMessage(alerts);
    expect(m.text).toBe(':red_circle: [CRITICAL] SSH brute force against bastion — 203.0.113.7 (ssh_bruteforce) ×3');
    expect(m.blocks?.[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':red_circle: CRITICAL: SSH brute force against bastion (×3)', emoji: true } });
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('*Count*\\n3 similar alerts');
    expect(json).toContain('2024-05-01T12:01:00.000Z … 2024-05-01T12:03:00.000Z');
    expect(json).toContain('*Alert IDs (3)*\\na1, a2, a3');
    expect(validateWebhookPayload(m)).toBeNull();
  });

  it('stays within Slack limits for 1000 alerts with long ids', () => {
    const alerts = Array.from({ length: 1000 }, (_, i) => sampleAlert({ alert_id: `alert-${'x'.repeat(40)}-${i}` }));
    const m = toAggregateMessage(alerts);
    expect(validateWebhookPayload(m)).toBeNull();
    expect(m.text.endsWith('×1000')).toBe(true);
  });

  it('needs at least one alert', () => {
    expect(() => toAggregateMessage([])).toThrow(RangeError);
  });
});
