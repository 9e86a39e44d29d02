import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const section = {
  type: 'object',
  additionalProperties: false,
  properties: { category: { type: 'string' }, flushRows: { type: 'integer', minimum: 1, default: 1000 } },
  required: ['category'],
};

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  const f = join(dir, 'sluice.yaml');
  writeFileSync(f, text);
  return f;
}

describe('loadConfig', () => {
  it('fills defaults and applies environment overrides with types', () => {
    const cfg = loadConfig<{ parser: { category: string; flushRows: number } }>({
      section: 'parser',
      sectionSchema: section,
      file: file('nats: { url: nats://x:4222 }\nparser: { category: DeviceLogonEvents }\n'),
      env: { SLUICE__HTTP__PORT: '9200', SLUICE__PARSER__FLUSH_ROWS: '50' },
    });
    expect(cfg.nats.url).toBe('nats://x:4222');
    expect(cfg.http.port).toBe(9200);
    expect(cfg.parser.flushRows).toBe(50);
    expect(cfg.consumer.maxDeliver).toBe(8);
  });

  it('names the bad key and what was expected', () => {
    const load = (text: string) => () => loadConfig({ section: 'parser', sectionSchema: section, file: file(text), env: {} });
    expect(load('parser: { category: x, flushRow: 5 }')).toThrow(/parser\.flushRow: unknown key/);
    expect(load('parser: {}')).toThrow(/parser\.category: required/);
    expect(load('parser: { category: x }\nhttp: { port: "abc" }')).toThrow(/http\.port: must be integer/);
    expect(load('parser: { category: x }\nlog: { level: loud }')).toThrow(/log\.level: must be one of "trace"/);
    expect(load('parser: [1, 2')).toThrow(ConfigError);
  });

  it('reports an unreadable file by name', () => {
    expect(() => loadConfig({ section: 'parser', sectionSchema: section, file: '/nonexistent/sluice.yaml', env: {} })).toThrow(/cannot read \/nonexistent\/sluice.yaml/);
  });
});

describe('nats section from the environment', () => {
  it('maps credentials files and TLS keys, and keeps secrets verbatim (no YAML parsing of a password)', () => {
    const cfg = loadConfig({
      section: 'parser',
      sectionSchema: section,
      file: file('parser: { category: x }\n'),
      env: {
        SLUICE__NATS__USER: 'sluice',
        SLUICE__NATS__PASS: '123456 #not-a-comment',
        SLUICE__NATS__CREDS_FILE: '/etc/sluice/nats/sluice.creds',
        SLUICE__NATS__NKEY_SEED_FILE: '/etc/sluice/nats/user.nk',
        SLUICE__NATS__TLS__CA_FILE: '/etc/sluice/nats/ca.pem',
        SLUICE__NATS__TLS__HANDSHAKE_FIRST: 'true',
        SLUICE__STREAMS__REPLICAS: '3',
      },
    });
    expect(cfg.nats).toEqual({
      url: 'nats://127.0.0.1:4222',
      user: 'sluice',
      pass: '123456 #not-a-comment',
      credsFile: '/etc/sluice/nats/sluice.creds',
      nkeySeedFile: '/etc/sluice/nats/user.nk',
      tls: { caFile: '/etc/sluice/nats/ca.pem', handshakeFirst: true },
    });
    expect(cfg.streams.replicas).toBe(3);
  });

  it('names a wrong nats key', () => {
    const load = (text: string) => () => loadConfig({ section: 'parser', sectionSchema: section, file: file(`parser: { category: x }\n${text}`), env: {} });
    expect(load('nats: { tls: { caFle: x } }')).toThrow(/nats\.tls\.caFle: unknown key/);
    expect(load('streams: { replicas: 7 }')).toThrow(/streams\.replicas: must be <= 5/);
  });
});
