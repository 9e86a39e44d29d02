// The notifier section: defaults, the first notifier's config shape still valid, and readable errors.
import { loadConfig } from '@sluice/runtime';
import { describe, expect, it } from 'vitest';
import { notifierSchema, type NotifierConfig } from './config.ts';

const load = (overrides: Record<string, unknown>) => loadConfig<NotifierConfig>({ section: 'notifier', sectionSchema: notifierSchema, env: {}, overrides });

describe('notifier config', () => {
  it('fills defaults: no aggregation, 1 message/s per webhook, Event Hubs with TLS and an idempotent producer', () => {
    const c = load({ 'notifier.slack.webhookUrl': 'https://hooks.slack.com/services/T/B/x', 'notifier.eventhubs.kafka.connectionString': 'Endpoint=sb://a/;SharedAccessKeyName=k;SharedAccessKey=v' }).notifier;
    expect(c.slack).toEqual({ enabled: true, webhookUrl: 'https://hooks.slack.com/services/T/B/x', routes: [], aggregateWindowSeconds: 0, aggregateMaxAlerts: 100, ratePerSecond: 1, burst: 1, timeoutMs: 10_000, maxRetries: 3 });
    expect(c.eventhubs.kafka).toMatchObject({ enabled: true, ssl: true, idempotent: true, lingerMs: 20, maxBatch: 500 });
    expect(c.claimLeaseSeconds).toBe(120);
  });

  it('accepts routes alone, and a disabled Slack without a URL (the first notifier config)', () => {
    expect(load({ 'notifier.slack.routes': [{ severity: ['critical'], webhookUrl: 'https://h/x' }] }).notifier.slack.routes).toHaveLength(1);
    expect(load({ 'notifier.slack': { enabled: false } }).notifier.slack.enabled).toBe(false);
  });

  it('names the bad key', () => {
    expect(() => load({ 'notifier.slack.webhookUrl': 'ftp://x' })).toThrow('notifier.slack.webhookUrl: must match pattern');
    expect(() => load({ 'notifier.slack.webhookUrl': 'https://h/x', 'notifier.slack.routes': [{ severity: 'urgent', webhookUrl: 'https://h/y' }] })).toThrow(/notifier\.slack\.routes\/0\/severity|notifier\.slack\.routes\.0\.severity/);
    expect(() => load({})).toThrow(/notifier\.slack/);
    expect(() => load({ 'notifier.slack.enabled': false, 'notifier.eventhubs.https': { hub: 'x' } })).toThrow(/notifier\.eventhubs\.https/);
  });
});
