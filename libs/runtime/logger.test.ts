import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from './logger.ts';

describe('logger redaction', () => {
  it('censors secret-bearing fields at the top level and nested, keeps the rest', () => {
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    log.info({ pass: 'S1', config: { nats: { pass: 'S2', url: 'nats://n:4222' }, token: 'S3' }, headers: { authorization: 'Bearer S4' }, notifier: { slack: { webhookUrl: 'https://hooks/S5' } }, source: 'defender' }, 'x');
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ pass: '[redacted]', config: { nats: { pass: '[redacted]', url: 'nats://n:4222' }, token: '[redacted]' }, headers: { authorization: '[redacted]' }, notifier: { slack: { webhookUrl: '[redacted]' } }, source: 'defender' });
    expect(lines[0]).not.toMatch(/S[1-5]/);
  });
});
