// ipScope/parseIp: every scope for IPv4 and IPv6, IPv4-mapped IPv6, zones, and strict rejection of malformed text.
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipScope, parseIp, parseIPv4, parseIPv4Bytes, parseIPv6 } from './ipScope.ts';

describe('ipScope', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['81.2.69.160', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.20', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link_local'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['240.1.2.3', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.99', 'reserved'],
    ['198.18.5.5', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['2a03:2880:f10c:83:face:b00c:0:25de', 'public'],
    ['::1', 'loopback'],
    ['::', 'reserved'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['FE80::ABCD', 'link_local'],
    ['fd00::1', 'private'],
    ['fc12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
  ])('%s → %s', (ip, scope) => {
    expect(ipScope(ip)).toBe(scope);
  });

  it.each(['', 'not-an-ip', '999.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', ' ', '1..2.3', '::1::2', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', 'fe80::1%', '[::1]', '8.8.8.8:53', '1.2.3.-4', '١.٢.٣.٤'])('%j is invalid', (ip) => {
    expect(ipScope(ip)).toBe('invalid');
  });

  it('ignores surrounding whitespace', () => {
    expect(ipScope(' 8.8.8.8\t')).toBe('public');
  });

  it('maps IPv4-mapped IPv6 to the IPv4 lookup key', () => {
    expect(parseIp('::ffff:81.2.69.160')).toEqual({ scope: 'public', family: 4, lookupKey: '81.2.69.160', value: 0x510245a0 });
    expect(parseIp('2001:4860:4860::8888')).toMatchObject({ family: 6, lookupKey: '2001:4860:4860::8888' });
    expect(parseIp('fe80::1%eth0')).toMatchObject({ family: 6, lookupKey: 'fe80::1' });
    expect(parseIp('junk')).toEqual({ scope: 'invalid', family: 0, lookupKey: '', value: null });
  });

  it('parses IPv4 and IPv6 to numbers exactly', () => {
    expect(parseIPv4('255.255.255.255')).toBe(4294967295);
    expect(parseIPv4('1.0.0.0')).toBe(16777216);
    expect(parseIPv6('::')).toBe(0n);
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('2001:db8::8:800:200c:417a')).toBe(0x20010db80000000000080800200c417an);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(parseIPv6('::ffff:1.2.3.4')).toBe(0xffff01020304n);
    expect(parseIPv6('64:ff9b::192.0.2.33')).toBe(0x0064ff9b0000000000000000c0000221n);
    expect(parseIPv6('1::')).toBe(1n << 112n);
  });

  it('agrees with node:net on which strings are addresses (random mutations)', () => {
    const seeds = ['8.8.8.8', '::1', '2001:db8::1', '::ffff:1.2.3.4', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '255.0.0.255', '1::8'];
    const alphabet = '0123456789abcdef:.';
    let x = 12345;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let i = 0; i < 5000; i++) {
      let s = seeds[rnd(seeds.length)]!;
      const k = rnd(3);
      for (let j = 0; j <= k; j++) {
        const p = rnd(s.length + 1);
        s = rnd(2) ? s.slice(0, p) + alphabet[rnd(alphabet.length)] + s.slice(p) : s.slice(0, p) + s.slice(p + 1);
      }
      const ours = parseIp(s).family !== 0;
      // The byte parser (enricher columns) reads exactly what the string parser reads.
      expect(parseIPv4Bytes(Buffer.from(`x${s}y`), 1, s.length + 1), s).toBe(parseIPv4(s));
      // node accepts leading zeros nowhere either; it is the reference for what is an address.
      expect(ours, s).toBe(isIP(s) !== 0);
    }
  });
});
