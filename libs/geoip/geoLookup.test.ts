import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GeoLookup, ipScope } from './index.ts';

const testDb = '/work/shared/testdata/mmdb/GeoIP2-City-Test.mmdb';

describe('ipScope', () => {
  it('marks non-public addresses', () => {
    expect(ipScope('10.1.2.3')).toBe('private');
    expect(ipScope('172.31.255.1')).toBe('private');
    expect(ipScope('127.0.0.1')).toBe('loopback');
    expect(ipScope('169.254.1.1')).toBe('link_local');
    expect(ipScope('fe80::1')).toBe('link_local');
    expect(ipScope('fd00::1')).toBe('private');
    expect(ipScope('8.8.8.8')).toBe('public');
    expect(ipScope('2001:4860:4860::8888')).toBe('public');
    expect(ipScope('not-an-ip')).toBe('invalid');
    expect(ipScope('999.1.1.1')).toBe('invalid');
  });
});

describe('GeoLookup', () => {
  it('looks up public addresses in the embedded default database', async () => {
    const g = await GeoLookup.open();
    expect(g.lookup('8.8.8.8')?.country).toBe('US');
    expect(g.lookup('10.0.0.1')).toEqual({ scope: 'private', country: null, city: null });
    expect(g.lookup(null)).toBeNull();
  });

  it.runIf(existsSync(testDb))('reads MaxMind test databases by path', async () => {
    const g = await GeoLookup.open(testDb);
    expect(g.lookup('81.2.69.160')).toEqual({ scope: 'public', country: 'GB', city: 'London' });
  });
});
