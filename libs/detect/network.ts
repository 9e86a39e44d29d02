// The "network" of a login address: the AS organisation when enrichment found one, else the /24 (IPv4) or /64
// (IPv6) around the address. Loopback, unspecified and non-IP values have no network.
import { isIP } from 'node:net';

/** Network label of an address, or null when it has none (not an IP, loopback, unspecified). */
export function networkOf(ip: string, asOrg?: string | null, asNumber?: string | number | null): string | null {
  const family = isIP(ip);
  if (family === 0) return null;
  if (family === 4 ? /^(127\.|0\.0\.0\.0$)/.test(ip) : /^(::1?|0*:(0*:)*0*(:0*1)?)$/.test(ip.split('%')[0]!)) return null;
  const org = asOrg?.trim();
  if (org) return ['as', org].join(':');
  if (asNumber !== null && asNumber !== undefined && String(asNumber).trim() !== '') return ['asn', String(asNumber).trim()].join(':');
  return family === 4 ? ipv4Prefix24(ip) : ipv6Prefix64(ip);
}

// Labels are built with join: template literals make rope (cons) strings, several times bigger when kept a million times.
function ipv4Prefix24(ip: string): string {
  const [a, b, c] = ip.split('.');
  return [Number(a), Number(b), Number(c), '0/24'].join('.');
}

/** First four hextets of the expanded address (handles '::' and an embedded IPv4 tail). */
export function ipv6Prefix64(ip: string): string {
  let addr = ip.toLowerCase().split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    addr = addr.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head = '', tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return [...groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)), ':/64'].join(':');
}
