// Registered domain and public suffix with tldts: multi-level suffixes, URLs and host:port, punycode and IDN,
// IPs, internal names and garbage (→ null), the private-suffix option, and the cache.
import { describe, expect, it } from 'vitest';
import { DomainLookup, domainInfoOf } from './index.ts';

describe('domainInfoOf', () => {
  it.each([
    ['www.bbc.co.uk', 'bbc.co.uk', 'co.uk'],
    ['bbc.co.uk', 'bbc.co.uk', 'co.uk'],
    ['a.b.c.example.com', 'example.com', 'com'],
    ['login.microsoftonline.com', 'microsoftonline.com', 'com'],
    ['WWW.Example.COM.', 'example.com', 'com'], // case and the DNS root dot
    ['foo.bar.kawasaki.jp', 'foo.bar.kawasaki.jp', 'bar.kawasaki.jp'], // wildcard rule *.kawasaki.jp
    ['city.kawasaki.jp', 'city.kawasaki.jp', 'kawasaki.jp'], // exception rule !city.kawasaki.jp
    ['xn--80ak6aa92e.com', 'xn--80ak6aa92e.com', 'com'], // punycode label
    ['www.xn--80aswg.xn--p1ai', 'xn--80aswg.xn--p1ai', 'xn--p1ai'], // punycode suffix (.рф)
    ['пример.рф', 'пример.рф', 'рф'], // IDN as Unicode
    ['https://user@login.example.org:8443/path?q=1#x', 'example.org', 'org'],
    ['example.com:8080', 'example.com', 'com'],
    ['_ldap._tcp.dc.corp.example.org', 'example.org', 'org'], // SRV names
    ['foo.blogspot.com', 'blogspot.com', 'com'], // private suffixes are off by default
  ])('%s → %s / %s', (name, registered, suffix) => {
    expect(domainInfoOf(name)).toEqual({ registeredDomain: registered, publicSuffix: suffix });
  });

  it('gives only the suffix for a bare public suffix', () => {
    expect(domainInfoOf('co.uk')).toEqual({ registeredDomain: null, publicSuffix: 'co.uk' });
    expect(domainInfoOf('com')).toEqual({ registeredDomain: null, publicSuffix: 'com' });
  });

  it.each(['8.8.8.8', '2001:db8::1', '[2001:db8::1]', 'http://10.0.0.1/x', '', '   ', 'garbage!!', '*.example.com', 'host.corp.local', 'dc01.ad.internal', 'localhost', 'wpad', 'a'.repeat(3000) + '.com', '\u0000\u0001binary'])(
    '%j → null',
    (name) => {
      expect(domainInfoOf(name)).toEqual({ registeredDomain: null, publicSuffix: null });
    },
  );

  it('null and undefined give null', () => {
    expect(domainInfoOf(null)).toEqual({ registeredDomain: null, publicSuffix: null });
    expect(domainInfoOf(undefined)).toEqual({ registeredDomain: null, publicSuffix: null });
  });

  it('uses the private section when asked', () => {
    expect(domainInfoOf('foo.blogspot.com', { privateSuffixes: true })).toEqual({ registeredDomain: 'foo.blogspot.com', publicSuffix: 'blogspot.com' });
    expect(domainInfoOf('bucket.s3.amazonaws.com', { privateSuffixes: true })).toEqual({ registeredDomain: 'bucket.s3.amazonaws.com', publicSuffix: 's3.amazonaws.com' });
  });
});

describe('DomainLookup', () => {
  it('caches results and stays bounded', () => {
    const d = new DomainLookup({}, 2);
    const a = d.lookup('www.bbc.co.uk');
    expect(d.lookup('www.bbc.co.uk')).toBe(a);
    d.lookup('a.example.com');
    d.lookup('b.example.com'); // over the bound: cache starts over
    expect(d.lookup('www.bbc.co.uk')).toEqual({ registeredDomain: 'bbc.co.uk', publicSuffix: 'co.uk' });
    expect(d.lookup(null)).toBeNull();
    expect(d.lookup('')).toBeNull();
  });
});
