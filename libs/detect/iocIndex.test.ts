import { describe, expect, it } from 'vitest';
import { canonicalIpv6, dottedQuad, IocIndex, ipKey, normaliseHostname, normaliseUrl, parseUrl, urlHostPrefix, urlKeys, type IocRow } from './iocIndex.ts';

const row = (r: Partial<IocRow> & Pick<IocRow, 'indicator' | 'type'>): IocRow => ({ dataset: 'otx', first_seen: 100, last_seen: null, ...r });
const toyRegistered = (h: string): string | null => {
  const p = h.split('.');
  if (p.length < 2) return null;
  const n = p.slice(-2).join('.') === 'co.uk' ? 3 : 2;
  return p.length >= n ? p.slice(-n).join('.') : null;
};

describe('normaliseUrl', () => {
  it.each([
    ['HTTP://Example.COM', 'http://example.com/'],
    ['http://example.com/', 'http://example.com/'],
    ['http://example.com:80/a/', 'http://example.com/a'],
    ['http://example.com/a//', 'http://example.com/a'],
    ['https://Example.com:443/A/B?x=Y#frag', 'https://example.com/A/B?x=Y'],
    ['https://example.com/a/?q=1', 'https://example.com/a?q=1'],
    ['http://example.com:8080', 'http://example.com:8080/'],
    ['http://example.com:08080/x', 'http://example.com:8080/x'],
    ['https://example.com:80/x', 'https://example.com:80/x'],
    ['http://example.com.:80/x', 'http://example.com/x'],
    ['http://a.com?', 'http://a.com/'],
    ['http://User:Pw@Host.com/P', 'http://User:Pw@host.com/P'],
    ['http://[2001:DB8:0::1]:80/x', 'http://[2001:db8::1]/x'],
    ['  example.com/Path  ', 'http://example.com/Path'],
    ['//cdn.example.com/x.js', 'http://cdn.example.com/x.js'],
    ['http://1.2.3.4:8080/bins/mips', 'http://1.2.3.4:8080/bins/mips'],
  ])('%s → %s', (input, out) => {
    expect(normaliseUrl(input)).toBe(out);
  });

  it('rejects values without a host', () => {
    expect(normaliseUrl('')).toBeNull();
    expect(normaliseUrl('   ')).toBeNull();
    expect(normaliseUrl('http:///x')).toBeNull();
    expect(normaliseUrl('http://[::1/x')).toBeNull();
  });

  it('tries a scheme-less observed value as http and https', () => {
    expect(urlKeys('evil.com/a')).toEqual(['http://evil.com/a', 'https://evil.com/a']);
    expect(urlKeys('HTTPS://evil.com/a')).toEqual(['https://evil.com/a']);
    expect(urlKeys('')).toEqual([]);
    // Parsed once, formatted per scheme: each drops only its own default port.
    expect(urlKeys(' evil.com:443/a/?#f ')).toEqual(['http://evil.com:443/a', 'https://evil.com/a']);
    expect(urlKeys('user@EVIL.com:080')).toEqual(['http://user@evil.com/', 'https://user@evil.com:80/']);
    expect(urlKeys('//[::FFFF:1.2.3.4]:8080/x?q=1')).toEqual(['http://[::ffff:1.2.3.4]:8080/x?q=1', 'https://[::ffff:1.2.3.4]:8080/x?q=1']);
  });
});

describe('host names and IP addresses', () => {
  it('normalises host names', () => {
    expect(normaliseHostname(' CDN.Evil.COM. ')).toBe('cdn.evil.com');
    expect(normaliseHostname('evil.com:8080')).toBe('evil.com');
    expect(normaliseHostname('https://User@Evil.com:8443/x')).toBe('evil.com');
    expect(normaliseHostname('.')).toBeNull();
  });

  it('writes IPv6 addresses in RFC 5952 form', () => {
    expect(canonicalIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIpv6('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIpv6('::')).toBe('::');
    expect(canonicalIpv6('::FFFF:1.2.3.4')).toBe('::ffff:1.2.3.4');
    expect(canonicalIpv6('::ffff:0102:0304')).toBe('::ffff:1.2.3.4');
    expect(canonicalIpv6('Not-An-IP')).toBe('not-an-ip');
  });

  it('takes the family from the value; IPv4-mapped is IPv4', () => {
    expect(ipKey('10.0.0.1')).toEqual({ type: 'IPv4', key: '10.0.0.1' });
    expect(ipKey('::ffff:10.0.0.1')).toEqual({ type: 'IPv4', key: '10.0.0.1' });
    expect(ipKey('2001:DB8::0:1')).toEqual({ type: 'IPv6', key: '2001:db8::1' });
    expect(ipKey('AWS Internal')).toBeNull();
    expect(ipKey('ec2.amazonaws.com')).toBeNull();
  });
});

describe('IocIndex', () => {
  it('matches only inside the validity window: first_seen ≤ t ≤ last_seen, or ≤ now when open-ended', () => {
    const ix = new IocIndex();
    ix.upsert([row({ indicator: 'a'.repeat(64), type: 'FileHash-SHA256', first_seen: 100, last_seen: 200 })]);
    ix.upsert([row({ indicator: 'b'.repeat(64), type: 'FileHash-SHA256', first_seen: 100, last_seen: null })]);
    const m = (v: string, t: number, now = 1000) => ix.match('FileHash-SHA256', v, t, now).length;
    expect([m('a'.repeat(64), 99), m('a'.repeat(64), 100), m('a'.repeat(64), 200), m('a'.repeat(64), 201)]).toEqual([0, 1, 1, 0]);
    expect([m('b'.repeat(64), 99), m('b'.repeat(64), 100), m('b'.repeat(64), 1000), m('b'.repeat(64), 1001)]).toEqual([0, 1, 1, 0]);
    const [hit] = ix.match('FileHash-SHA256', 'A'.repeat(64), 150, 1000);
    expect(hit).toEqual({
      type: 'FileHash-SHA256',
      indicator: 'a'.repeat(64),
      dataset: 'otx',
      firstSeen: 100,
      lastSeen: 200,
      confidence: null,
      threat: null,
      eventName: null,
    });
  });

  it('a newer row for (type, indicator, dataset) replaces the old; other datasets add entries', () => {
    const ix = new IocIndex(16);
    const h = 'c'.repeat(40);
    expect(ix.upsert([row({ indicator: h.toUpperCase(), type: 'FileHash-SHA1', last_seen: 200, threat: 'Emotet', confidence: 80 })])).toEqual({
      added: 1,
      replaced: 0,
      stale: 0,
      invalid: 0,
    });
    expect(ix.match('FileHash-SHA1', h, 300, 1000)).toHaveLength(0);
    // The feed extends the window.
    expect(ix.upsert([row({ indicator: h, type: 'FileHash-SHA1', last_seen: 400 })]).replaced).toBe(1);
    expect(ix.size).toBe(1);
    expect(ix.match('FileHash-SHA1', h, 300, 1000).map((x) => [x.dataset, x.lastSeen, x.threat, x.confidence])).toEqual([['otx', 400, null, null]]);
    ix.upsert([row({ indicator: h, type: 'FileHash-SHA1', dataset: 'misp', first_seen: 250, confidence: 90, threat: 'Emotet', event_name: 'ev1' })]);
    expect(ix.size).toBe(2);
    expect(ix.keys).toBe(1);
    expect(ix.match('FileHash-SHA1', h, 300, 1000).map((x) => x.dataset).sort()).toEqual(['misp', 'otx']);
    expect(ix.match('FileHash-SHA1', h, 200, 1000).map((x) => x.dataset)).toEqual(['otx']);
  });

  it('ignores rows older (by version) than the stored one', () => {
    const ix = new IocIndex();
    ix.upsert([row({ indicator: '1.2.3.4', type: 'IPv4', last_seen: 500, version: 2 })]);
    expect(ix.upsert([row({ indicator: '1.2.3.4', type: 'IPv4', last_seen: 150, version: 1 })])).toMatchObject({ stale: 1, replaced: 0 });
    expect(ix.match('IPv4', '1.2.3.4', 300, 1000)).toHaveLength(1);
    expect(ix.upsert([row({ indicator: '1.2.3.4', type: 'IPv4', last_seen: 150, version: 3 })])).toMatchObject({ replaced: 1 });
    expect(ix.match('IPv4', '1.2.3.4', 300, 1000)).toHaveLength(0);
  });

  it('counts invalid rows', () => {
    const ix = new IocIndex();
    const r = ix.upsert([
      row({ indicator: 'x', type: 'CVE' }),
      row({ indicator: '   ', type: 'FileHash-MD5' }),
      row({ indicator: 'not-an-ip', type: 'IPv4' }),
      row({ indicator: 'http:///nohost', type: 'URL' }),
      { indicator: 'a.com', type: 'domain', dataset: 'otx', first_seen: Number.NaN },
    ]);
    expect(r).toEqual({ added: 0, replaced: 0, stale: 0, invalid: 5 });
    expect(ix.size).toBe(0);
  });

  it('matches IPs by the family of the value, in canonical form', () => {
    const ix = new IocIndex();
    ix.upsert([row({ indicator: '203.0.113.7', type: 'IPv4' }), row({ indicator: '2001:DB8:0:0::7', type: 'IPv6' })]);
    expect(ix.match('IPv4', '::ffff:203.0.113.7', 150, 1000)).toHaveLength(1);
    expect(ix.match('IPv6', '203.0.113.7', 150, 1000)).toHaveLength(1); // column says v6, value is v4
    expect(ix.match('IPv4', '2001:db8::7', 150, 1000).map((h) => h.indicator)).toEqual(['2001:db8::7']);
    expect(ix.match('IPv4', '203.0.113.8', 150, 1000)).toHaveLength(0);
  });

  it('matches URLs after normalisation; paths stay case-sensitive', () => {
    const ix = new IocIndex();
    ix.upsert([row({ indicator: 'HTTP://Evil.COM:80/Path/', type: 'URL' }), row({ indicator: 'https://secure.evil.com/login', type: 'URL' })]);
    const m = (v: string) => ix.match('URL', v, 150, 1000).map((h) => h.indicator);
    expect(m('http://evil.com/Path')).toEqual(['http://evil.com/Path']);
    expect(m('http://EVIL.com/Path/#top')).toEqual(['http://evil.com/Path']);
    expect(m('evil.com/Path')).toEqual(['http://evil.com/Path']);
    expect(m('secure.evil.com/login')).toEqual(['https://secure.evil.com/login']);
    expect(m('http://evil.com/path')).toEqual([]);
    expect(m('http://evil.com:8080/Path')).toEqual([]);
  });

  it('matches DNS names as hostname and domain, and parents down to the registered domain', () => {
    const ix = new IocIndex();
    ix.upsert([
      row({ indicator: 'cdn.evil.co.uk', type: 'hostname' }),
      row({ indicator: 'evil.co.uk', type: 'domain' }),
      row({ indicator: 'b.evil.co.uk', type: 'domain', dataset: 'misp' }),
      row({ indicator: 'co.uk', type: 'domain' }),
      row({ indicator: 'x.evil.co.uk', type: 'hostname' }),
    ]);
    const m = (v: string, rd?: (h: string) => string | null) =>
      ix
        .matchName(v, 150, 1000, rd)
        .map((h) => `${h.type}:${h.indicator}`)
        .sort();
    expect(m('CDN.evil.co.uk.')).toEqual(['hostname:cdn.evil.co.uk']);
    expect(m('evil.co.uk')).toEqual(['domain:evil.co.uk']);
    expect(m('a.b.evil.co.uk')).toEqual([]);
    expect(m('a.b.evil.co.uk', toyRegistered)).toEqual(['domain:b.evil.co.uk', 'domain:evil.co.uk']);
    // hostname indicators are exact: a child of x.evil.co.uk does not match it; the public suffix is never tried.
    expect(m('y.x.evil.co.uk', toyRegistered)).toEqual(['domain:evil.co.uk']);
    expect(m('other.co.uk', toyRegistered)).toEqual([]);
    expect(m('cdn.evil.co.uk:443', toyRegistered)).toEqual(['domain:evil.co.uk', 'hostname:cdn.evil.co.uk']);
    // `match` with a name type is exact and typed.
    expect(ix.match('domain', 'cdn.evil.co.uk', 150, 1000)).toHaveLength(0);
    expect(ix.match('hostname', 'CDN.EVIL.CO.UK', 150, 1000)).toHaveLength(1);
  });

  it('matches e-mail addresses case-insensitively', () => {
    const ix = new IocIndex();
    ix.upsert([row({ indicator: 'Phish@Evil.com', type: 'email' })]);
    expect(ix.match('email', ' phish@evil.COM', 150, 1000)).toHaveLength(1);
  });

  it('prunes entries whose validity ended and reuses their slots', () => {
    const ix = new IocIndex(16);
    ix.upsert([
      row({ indicator: '1.1.1.1', type: 'IPv4', last_seen: 150 }),
      row({ indicator: '1.1.1.1', type: 'IPv4', dataset: 'misp', last_seen: 900 }),
      row({ indicator: '2.2.2.2', type: 'IPv4', last_seen: 120 }),
      row({ indicator: '3.3.3.3', type: 'IPv4' }),
    ]);
    expect(ix.prune(200)).toBe(2);
    expect(ix.size).toBe(2);
    expect(ix.keys).toBe(2);
    expect(ix.match('IPv4', '1.1.1.1', 140, 1000).map((h) => h.dataset)).toEqual(['misp']);
    expect(ix.match('IPv4', '2.2.2.2', 110, 1000)).toHaveLength(0);
    ix.upsert([row({ indicator: '4.4.4.4', type: 'IPv4' })]);
    expect(ix.size).toBe(3);
    expect(ix.match('IPv4', '4.4.4.4', 140, 1000)).toHaveLength(1);
    expect(ix.match('IPv4', '3.3.3.3', 140, 1000)).toHaveLength(1);
  });

  it('grows past its initial capacity', () => {
    const ix = new IocIndex(16);
    const rows: IocRow[] = [];
    for (let i = 0; i < 5000; i++) rows.push(row({ indicator: `10.0.${i >> 8}.${i & 255}`, type: 'IPv4', first_seen: i }));
    expect(ix.upsert(rows).added).toBe(5000);
    expect(ix.match('IPv4', '10.0.19.135', 4999, 10_000)[0]?.firstSeen).toBe(19 * 256 + 135);
  });
});

describe('negative checks before a lookup (same hits as the normalised lookup)', () => {
  it('dottedQuad accepts exactly what isIP calls IPv4, as its 32-bit number', () => {
    expect(dottedQuad('1.2.3.4')).toBe(0x01020304);
    expect(dottedQuad('255.255.255.255')).toBe(0xffffffff);
    expect(dottedQuad('0.0.0.0')).toBe(0);
    for (const v of ['01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '::ffff:1.2.3.4', '', 'a.b.c.d', '1.2.3.4/32']) {
      expect(dottedQuad(v), v).toBe(-1);
    }
  });

  it('IPv4 by number: plain, padded, mapped and IPv6 values; gone after prune', () => {
    const idx = new IocIndex();
    idx.upsert([row({ indicator: '10.0.0.1', type: 'IPv4', last_seen: 500 }), row({ indicator: '2001:DB8::1', type: 'IPv6' }), row({ indicator: '::ffff:10.0.0.2', type: 'IPv6' })]);
    const keys = (v: string) => idx.match('IPv4', v, 200, 1000).map((h) => `${h.type} ${h.indicator}`);
    expect(keys('10.0.0.1')).toEqual(['IPv4 10.0.0.1']);
    expect(keys(' 10.0.0.1 ')).toEqual(['IPv4 10.0.0.1']);
    expect(keys('::FFFF:10.0.0.1')).toEqual(['IPv4 10.0.0.1']);
    expect(keys('10.0.0.2')).toEqual(['IPv4 10.0.0.2']);
    expect(keys('2001:db8:0::1')).toEqual(['IPv6 2001:db8::1']);
    expect(keys('010.0.0.1')).toEqual([]);
    expect(keys('10.0.0.3')).toEqual([]);
    expect(keys('')).toEqual([]);
    // Outside the validity window: the number is indexed, the window still applies.
    expect(idx.match('IPv4', '10.0.0.1', 600, 1000)).toEqual([]);
    expect(idx.prune(501)).toBe(1);
    expect(keys('10.0.0.1')).toEqual([]);
    idx.upsert([row({ indicator: '10.0.0.1', type: 'IPv4' })]);
    expect(keys('10.0.0.1')).toEqual(['IPv4 10.0.0.1']);
  });

  it('urlHostPrefix is the parsed host up to its first colon (undefined for a bracketed host)', () => {
    const prefix = (v: string) => {
      const u = parseUrl(v, 'http');
      return u === null ? null : u.host.split(':')[0];
    };
    const cases = ['HTTP://User:Pw@Ex.COM.:8080/a?b#c', 'ex.com/path', '//ex.com', ' ex.com ', 'ex.com:', 'a:b:80/x', 'a:b', 'ex.com@', 'http://', '', 'x+y.z://Host', '1a://b/c', 'ftp://h.:21', 'BÜCHER.Example/x', 'İstanbul.example', 'a.com?q', 'a.com#f', 'http://u@/x'];
    for (const v of cases) expect(urlHostPrefix(v), v).toBe(prefix(v));
    expect(urlHostPrefix('http://[2001:db8::1]:80/x')).toBeUndefined();
  });

  it('URLs: hits whatever the host case, port, user info, scheme or IPv6 literal; misses skip; gone after prune', () => {
    const idx = new IocIndex();
    idx.upsert([
      row({ indicator: 'http://User@Evil.example.:8080/Bins/x', type: 'URL', last_seen: 500 }),
      row({ indicator: 'https://cdn.example.com/a', type: 'URL' }),
      row({ indicator: 'http://[2001:DB8::1]/p', type: 'URL' }),
      row({ indicator: 'http://host:1e5/x', type: 'URL' }),
    ]);
    const keys = (v: string) => idx.match('URL', v, 200, 1000).map((h) => h.indicator);
    expect(keys('HTTP://User@EVIL.example:8080/Bins/x/')).toEqual(['http://User@evil.example:8080/Bins/x']);
    expect(keys('http://evil.example:8080/Bins/x')).toEqual([]);
    expect(keys('CDN.example.com/a')).toEqual(['https://cdn.example.com/a']);
    expect(keys('cdn.example.com:443/a')).toEqual(['https://cdn.example.com/a']);
    expect(keys('https://cdn.example.com/b')).toEqual([]);
    expect(keys('http://[2001:db8:0:0::1]:80/p')).toEqual(['http://[2001:db8::1]/p']);
    expect(keys('http://host:1e5/x')).toEqual(['http://host:1e5/x']);
    expect(keys('other.example/a')).toEqual([]);
    expect(keys('')).toEqual([]);
    expect(idx.prune(501)).toBe(1);
    expect(keys('HTTP://User@EVIL.example:8080/Bins/x/')).toEqual([]);
    expect(keys('CDN.example.com/a')).toEqual(['https://cdn.example.com/a']);
  });

  it('names: hosts and parent domains through the suffix check, mixed case, root dot, one label, non-ASCII', () => {
    const idx = new IocIndex();
    idx.upsert([
      row({ indicator: 'evil.co.uk', type: 'domain' }),
      row({ indicator: 'WWW.Bad.example.', type: 'hostname', last_seen: 500 }),
      row({ indicator: 'localhost', type: 'hostname' }),
      row({ indicator: 'bücher.example', type: 'domain' }),
    ]);
    const keys = (v: string) => idx.matchName(v, 200, 1000, toyRegistered).map((h) => `${h.type} ${h.indicator}`);
    expect(keys('A.B.Evil.CO.UK.')).toEqual(['domain evil.co.uk']);
    expect(keys('evil.co.uk')).toEqual(['domain evil.co.uk']);
    expect(keys('notevil.co.uk')).toEqual([]);
    expect(keys('https://www.BAD.example:443/x')).toEqual(['hostname www.bad.example']);
    expect(keys('bad.example')).toEqual([]);
    expect(keys('LOCALHOST')).toEqual(['hostname localhost']);
    expect(keys('shop.BÜCHER.example')).toEqual(['domain bücher.example']);
    expect(keys('')).toEqual([]);
    expect(idx.prune(501)).toBe(1);
    expect(keys('www.bad.example')).toEqual([]);
    // Suffix counts: a second key with the same last two labels keeps the check open after one is removed.
    idx.upsert([row({ indicator: 'a.evil.co.uk', type: 'hostname', last_seen: 300 })]);
    expect(keys('a.evil.co.uk')).toEqual(['hostname a.evil.co.uk', 'domain evil.co.uk']);
    expect(idx.prune(301)).toBe(1);
    expect(keys('a.evil.co.uk')).toEqual(['domain evil.co.uk']);
  });

  it('an index without URL or name indicators matches nothing of those types', () => {
    const idx = new IocIndex();
    idx.upsert([row({ indicator: '10.0.0.1', type: 'IPv4' })]);
    expect(idx.match('URL', 'http://10.0.0.1/', 200, 1000)).toEqual([]);
    expect(idx.matchName('10.0.0.1', 200, 1000)).toEqual([]);
  });
});
