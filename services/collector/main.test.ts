// The collector's config section: defaults, bad keys named, and the HTTP token rules.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@sluice/runtime';
import { collector, httpToken, isLoopback, type CollectorConfig } from './main.ts';

function load(yaml: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-collector-cfg-'));
  const f = join(dir, 'sluice.yaml');
  writeFileSync(f, yaml);
  return loadConfig<CollectorConfig>({ section: 'collector', sectionSchema: collector.sectionSchema, file: f, env });
}

describe('collector config', () => {
  it('fills defaults for every input; syslog listens on loopback unless told otherwise', () => {
    const c = load(`
collector:
  directories: [{ source: zeek, path: /logs/zeek }]
  objectStores: [{ source: cloudtrail, url: s3://trail/AWSLogs/1/CloudTrail/eu-west-1, s3: { region: eu-west-1 } }]
  syslog: [{ source: ise, family: ise, udp: {}, tcp: { port: 6514 } }]
`).collector;
    expect(c.directories[0]).toMatchObject({ pollSeconds: 2, settleSeconds: 1, maxDecompressedBytes: 1024 ** 3 });
    expect(c.objectStores[0]).toMatchObject({ pollSeconds: 60, reorderWindow: 0, maxObjectBytes: 256 * 1024 ** 2, s3: { region: 'eu-west-1' } });
    expect(c.syslog[0]).toMatchObject({ udp: { host: '127.0.0.1', port: 514 }, tcp: { host: '127.0.0.1', port: 6514 }, maxMessageBytes: 65536, batchMillis: 1000 });
    expect(c.http).toMatchObject({ enabled: false, host: '127.0.0.1', maxDecompressedBytes: 160 * 1024 ** 2, families: {} });
  });

  it('names bad keys', () => {
    expect(() => load('collector: { objectStores: [{ source: a, url: s3://b, s3: { secretAccessKey: x } }] }')).toThrow(/collector\.objectStores\.0\.s3\.secretAccessKey: unknown key/);
    expect(() => load('collector: { syslog: [{ source: a, udp: { port: 514, bind: x } }] }')).toThrow(/collector\.syslog\.0\.udp\.bind: unknown key/);
    expect(() => load('collector: { syslog: [{ udp: { port: 514 } }] }')).toThrow(/source/);
    expect(() => load('collector: { http: { token: short } }')).toThrow(/token/);
    expect(() => load('collector: { directories: [{ source: "a.b", path: /x }] }')).toThrow(/source/);
  });

  it('takes the HTTP token from the environment', () => {
    const c = load('collector: { http: { enabled: true } }', { SLUICE__COLLECTOR__HTTP__TOKEN: 'tok-0123456789abcdef' }).collector;
    expect(c.http.token).toBe('tok-0123456789abcdef');
  });
});

describe('httpToken', () => {
  it('requires a token beyond loopback and reads a mounted file', () => {
    expect(httpToken(undefined, undefined, '127.0.0.1')).toBeUndefined();
    expect(httpToken(undefined, undefined, 'localhost')).toBeUndefined();
    expect(() => httpToken(undefined, undefined, '0.0.0.0')).toThrow(ConfigError);
    expect(() => httpToken(undefined, undefined, '10.1.2.3')).toThrow(/beyond loopback: a bearer token is required/);
    expect(httpToken('0123456789abcdef0', undefined, '0.0.0.0')).toBe('0123456789abcdef0');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-token-'));
    writeFileSync(join(dir, 'token'), 'secret-secret-secret-1\n');
    writeFileSync(join(dir, 'short'), 'abc\n');
    expect(httpToken(undefined, join(dir, 'token'), '0.0.0.0')).toBe('secret-secret-secret-1');
    expect(() => httpToken(undefined, join(dir, 'short'), '0.0.0.0')).toThrow(/at least 16 characters/);
    expect(() => httpToken(undefined, join(dir, 'missing'), '0.0.0.0')).toThrow(/cannot read/);
    expect(() => httpToken('0123456789abcdef0', join(dir, 'token'), '0.0.0.0')).toThrow(/not both/);
    // The token itself never appears in an error message.
    try {
      httpToken(undefined, join(dir, 'short'), '0.0.0.0');
    } catch (e) {
      expect((e as Error).message).not.toContain('abc');
    }
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.1', 'example.com'].some(isLoopback)).toBe(false);
  });
});
