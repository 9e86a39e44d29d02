// Slack routing: first matching route by rule and severity, then the default; URLs from files; no default → unrouted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRoutes } from './routes.ts';

describe('compileRoutes', () => {
  const router = compileRoutes(
    [
      { rule: 'ioc_match', webhookUrl: 'https://hooks.slack.com/services/T/B/ioc' },
      { severity: ['critical', 'high'], webhookUrl: 'https://hooks.slack.com/services/T/B/urgent' },
      { rule: 'data_quality', severity: 'low', webhookUrl: 'https://hooks.slack.com/services/T/B/dq' },
    ],
    { webhookUrl: 'https://hooks.slack.com/services/T/B/default' },
  );
  const url = (rule: string, severity: 'low' | 'medium' | 'high' | 'critical') => router.route({ rule, severity })?.webhookUrl.split('/').pop();

  it('picks the first route whose rule and severity match, else the default', () => {
    expect(url('ioc_match', 'critical')).toBe('ioc'); // rule route comes first
    expect(url('new_network_login', 'critical')).toBe('urgent');
    expect(url('new_network_login', 'high')).toBe('urgent');
    expect(url('data_quality', 'low')).toBe('dq');
    expect(url('data_quality', 'medium')).toBe('default'); // both fields must match
    expect(url('new_network_login', 'low')).toBe('default');
  });

  it('names routes without their secret URL', () => {
    expect(router.routes.map((r) => r.name)).toEqual(['route0:ioc_match', 'route1:critical|high', 'route2:data_quality:low']);
  });

  it('reads URLs from files and leaves unmatched alerts unrouted without a default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-routes-'));
    try {
      writeFileSync(join(dir, 'hook'), 'https://hooks.slack.com/services/T/B/fromfile\n');
      const r = compileRoutes([{ severity: 'critical', webhookUrlFile: join(dir, 'hook') }], undefined);
      expect(r.route({ rule: 'x', severity: 'critical' })?.webhookUrl).toBe('https://hooks.slack.com/services/T/B/fromfile');
      expect(r.route({ rule: 'x', severity: 'low' })).toBeUndefined();
      writeFileSync(join(dir, 'bad'), 'ftp://nope');
      expect(() => compileRoutes([{ webhookUrlFile: join(dir, 'bad') }], undefined)).toThrow('notifier.slack.routes[0]: webhook URL must start with http:// or https://');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
