// networkOf: AS organisation first, then AS number, else /24 or /64; no network for loopback and non-IPs.
import { describe, expect, it } from 'vitest';
import { ipv6Prefix64, networkOf } from './network.ts';

describe('networkOf', () => {
  it('uses the AS organisation, then the AS number, when enrichment found them', () => {
    expect(networkOf('203.0.113.7', 'Example Telecom', 64500)).toBe('as:Example Telecom');
    expect(networkOf('203.0.113.7', null, 64500)).toBe('asn:64500');
    expect(networkOf('203.0.113.7', '  ', '')).toBe('203.0.113.0/24');
  });

  it('falls back to the /24 of IPv4 and the /64 of IPv6 addresses', () => {
    expect(networkOf('198.51.100.200')).toBe('198.51.100.0/24');
    expect(networkOf('10.1.2.3')).toBe('10.1.2.0/24');
    expect(networkOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(networkOf('2001:db8:a::')).toBe('2001:db8:a:0::/64');
    expect(ipv6Prefix64('::ffff:192.0.2.1')).toBe('0:0:0:0::/64');
    expect(ipv6Prefix64('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('has no network for loopback, unspecified and non-addresses', () => {
    for (const v of ['127.0.0.1', '::1', '0.0.0.0', '::', '-', '', 'ec2.amazonaws.com', '999.1.1.1', 'AWS Internal']) expect(networkOf(v)).toBeNull();
  });
});
