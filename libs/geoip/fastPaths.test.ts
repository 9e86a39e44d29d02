// The IPv4 fast paths of GeoLookup against their plain references: the typed-array LRU cache (eviction, promotion,
// the int32 key that marks empty slots), the in-place City record reader against the generic one, the 16-bit jump
// table of the tree walk, the /16 buckets of the ASN ranges, the first-octet shortcut of scopeOfV4, and whole
// lookups with a cache small enough to evict against the databases read directly.
import { describe, expect, it } from 'vitest';
import { AsnRangeTable, defaultCityDatabase, GeoLookup, MmdbDatabase, scopeOfV4, type IpScope } from './index.ts';
import { IntLruCache } from './intLruCache.ts';
import { parseIPv4 } from './ipScope.ts';
import { MmdbFieldReader } from './mmdbFields.ts';
import { CITY_TEST_DB, LITE_CITY_TEST_DB, sourceRecords } from './testDatabases.ts';

/** Deterministic 32-bit values (xorshift). */
function randoms(n: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  });
}

describe('IntLruCache', () => {
  it('keeps recently used entries and bounds its size, like LruCache', () => {
    const c = new IntLruCache<string>(2);
    c.set(1, 'a');
    c.set(2, 'b');
    c.set(3, 'c'); // 1, 2 move to the old generation
    expect(c.get(1)).toBe('a'); // promoted
    c.set(4, 'd');
    c.set(5, 'e'); // 2 was never used again: gone
    expect(c.get(2)).toBeUndefined();
    expect(c.size).toBeLessThanOrEqual(4);
    expect(() => new IntLruCache(0)).toThrow(/max must be ≥ 1/);
  });

  it('stores every int32 key, including the one that marks empty slots, and replaces values', () => {
    const c = new IntLruCache<number>(100);
    const keys = [0, -1, 1, 0x7fffffff, -0x80000000, -0x7fffffff, 0x40000000, 12345];
    keys.forEach((k, i) => c.set(k, i));
    keys.forEach((k, i) => expect(c.get(k), String(k)).toBe(i));
    expect(c.get(42)).toBeUndefined();
    c.set(-0x80000000, 99);
    c.set(12345, 98);
    expect([c.get(-0x80000000), c.get(12345), c.size]).toEqual([99, 98, keys.length]);
    c.clear();
    expect([c.get(-0x80000000), c.get(0), c.size]).toEqual([undefined, undefined, 0]);
  });

  it('agrees with a Map on a long random stream (collisions, turnovers)', () => {
    const c = new IntLruCache<number>(1000);
    const seen = new Map<number, number>();
    for (const [i, r] of randoms(50_000).entries()) {
      const k = (r % 3000) | 0; // few keys: hits, misses and generation turnovers
      const got = c.get(k);
      if (got !== undefined) expect(got).toBe(seen.get(k));
      else c.set(k, i);
      if (got === undefined) seen.set(k, i);
      expect(c.size).toBeLessThanOrEqual(2000);
    }
  });
});

describe('MmdbFieldReader.city', () => {
  it('reads what the generic reader reads (test databases, every network; GeoLite2, 20 000 random addresses)', async () => {
    const cases: [string, number[]][] = [
      [CITY_TEST_DB, [...sourceRecords(CITY_TEST_DB).keys()].map((n) => parseIPv4(n.split('/')[0]!)).filter((v) => v >= 0)],
      [LITE_CITY_TEST_DB, [...sourceRecords(LITE_CITY_TEST_DB).keys()].map((n) => parseIPv4(n.split('/')[0]!)).filter((v) => v >= 0)],
      [defaultCityDatabase(), randoms(20_000)],
    ];
    let compared = 0;
    for (const [path, ips] of cases) {
      const db = await MmdbDatabase.open('city', path);
      const { bytes, dataStart } = db.dataSection();
      // Separate readers: each keeps its own memo of shared strings.
      const fast = new MmdbFieldReader(bytes, dataStart);
      const generic = new MmdbFieldReader(bytes, dataStart);
      for (const v of ips) {
        const offset = db.offsetV4(v);
        if (offset < 0) continue;
        expect(fast.city(offset), `${path} ${v}`).toEqual(generic.cityGeneric(offset));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(15_000);
  }, 60_000);
});

describe('MmdbDatabase.offsetV4', () => {
  it('finds the record the bit-by-bit walk finds (jump table of the first 16 bits), boundaries included', async () => {
    const db = await MmdbDatabase.open('city', defaultCityDatabase());
    const edges = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xfffeffff, 0x7fffffff, 0x80000000];
    for (const v of [...edges, ...randoms(20_000, 3)]) {
      const key = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
      expect(db.lookupV4(v), key).toEqual(db.lookupDecoded(key));
    }
  }, 60_000);
});

describe('AsnRangeTable /16 buckets', () => {
  it('give what a binary search over every range gives, at range edges and at random', async () => {
    const t = await AsnRangeTable.load();
    const { start, end, info } = t.v4Ranges();
    const reference = (v: number) => {
      let lo = 0;
      let hi = start.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (start[mid]! <= v) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found >= 0 && v <= end[found]! ? info[found]! : null;
    };
    const values = [0, 1, 0xffff, 0x10000, 0xffffffff, ...randoms(20_000, 5)];
    for (let i = 0; i < start.length; i += 37) values.push(start[i]!, end[i]!, Math.max(start[i]! - 1, 0), Math.min(end[i]! + 1, 0xffffffff));
    for (const v of values) expect(t.lookup(v), String(v)).toBe(reference(v));
    // Not an unsigned 32-bit number: no bucket, the whole table is searched (as before the buckets).
    for (const v of [-1, 2 ** 32, 2 ** 40]) expect(t.lookup(v), String(v)).toBe(reference(v));
  });
});

describe('scopeOfV4', () => {
  it('classifies every /8 and the edges of every special range as the range table does', () => {
    const ranges: [string, number, IpScope][] = [
      ['0.0.0.0', 8, 'reserved'],
      ['10.0.0.0', 8, 'private'],
      ['100.64.0.0', 10, 'cgnat'],
      ['127.0.0.0', 8, 'loopback'],
      ['169.254.0.0', 16, 'link_local'],
      ['172.16.0.0', 12, 'private'],
      ['192.0.0.0', 24, 'reserved'],
      ['192.0.2.0', 24, 'reserved'],
      ['192.88.99.0', 24, 'reserved'],
      ['192.168.0.0', 16, 'private'],
      ['198.18.0.0', 15, 'reserved'],
      ['198.51.100.0', 24, 'reserved'],
      ['203.0.113.0', 24, 'reserved'],
      ['224.0.0.0', 4, 'multicast'],
      ['240.0.0.0', 4, 'reserved'],
    ];
    const reference = (v: number): IpScope => {
      for (const [net, len, scope] of ranges) if (Math.floor(v / 2 ** (32 - len)) === Math.floor(parseIPv4(net) / 2 ** (32 - len))) return scope;
      return 'public';
    };
    const values: number[] = [];
    for (let p = 0; p < 256; p++) values.push(p * 2 ** 24, p * 2 ** 24 + 0xffffff, p * 2 ** 24 + 0x400000);
    for (const [net, len] of ranges) {
      const first = parseIPv4(net);
      const last = first + 2 ** (32 - len) - 1;
      values.push(first, last, Math.max(first - 1, 0), Math.min(last + 1, 0xffffffff));
    }
    for (const v of [...values, ...randoms(20_000, 9)]) expect(scopeOfV4(v), String(v)).toBe(reference(v));
  });
});

describe('GeoLookup.lookupV4', () => {
  it('with a cache small enough to evict, equals the databases read directly (GeoLite2 + ASN ranges, 30 000 addresses)', async () => {
    const geo = await GeoLookup.open({ cacheSize: 64 });
    const city = await MmdbDatabase.open('city', defaultCityDatabase());
    const asn = await AsnRangeTable.load();
    // Repeats and neighbours as well as random addresses: hits, evictions and shared City records.
    const ips = randoms(10_000, 11).flatMap((v, i) => [v, (v & 0xffffff00) >>> 0, randoms(1, i + 1)[0]!]);
    for (const v of ips) {
      const scope = scopeOfV4(v);
      const key = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
      const c = scope === 'public' ? city.lookupDecoded(key) : null;
      const a = scope === 'public' ? asn.lookup(v) : null;
      const expected = { scope, country: c?.country ?? null, city: c?.city ?? null, latitude: c?.latitude ?? null, longitude: c?.longitude ?? null, asn: a?.asn ?? null, asOrg: a?.asOrg ?? null };
      expect(geo.lookupV4(v), key).toEqual(expected);
    }
    geo.close();
  }, 60_000);
});
