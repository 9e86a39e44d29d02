// Tests of the MAC normaliser and IP check shared by the DHCP and ISE tables.
import { describe, expect, it } from 'vitest';
import { isIpAddress, MAC48, macOrText, normalizeMac } from './addresses.ts';

describe('normalizeMac', () => {
  it('brings every common MAC notation to lower-case colon form', () => {
    for (const s of ['3C:97:0E:C3:F8:F1', '3c-97-0e-c3-f8-f1', '3c97.0ec3.f8f1', '3C970EC3F8F1', ' 3c:97:e:c3:f8:f1 ']) {
      expect(normalizeMac(s), s).toBe('3c:97:0e:c3:f8:f1');
    }
    expect(MAC48.test('3c:97:0e:c3:f8:f1')).toBe(true);
  });

  it('normalises longer hardware ids and refuses non-addresses', () => {
    expect(normalizeMac('01:1E:33:3C:4D:E2:FF')).toBe('01:1e:33:3c:4d:e2:ff');
    for (const s of ['', 'host1', '3c:97-0e:c3:f8:f1', '3c:97:0e:c3:f8:f1g', '123:45', 'zz:zz:zz:zz:zz:zz']) expect(normalizeMac(s), s).toBeUndefined();
    expect(macOrText('not-a-mac')).toBe('not-a-mac');
    expect(macOrText('  ')).toBeUndefined();
    expect(macOrText(undefined)).toBeUndefined();
  });
});

describe('isIpAddress', () => {
  it('accepts IPv4 and IPv6 forms and refuses others', () => {
    for (const s of ['10.0.0.5', '0.0.0.0', '255.255.255.255', '::', '::1', 'fe80::1', '2001:db8:0:0:0:0:2:1', '::ffff:10.0.0.5']) expect(isIpAddress(s), s).toBe(true);
    for (const s of ['', '10.0.0.256', '10.0.0', '01.2.3.4', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', 'eth0', '::ffff:10.0.0.300']) expect(isIpAddress(s), s).toBe(false);
  });
});
