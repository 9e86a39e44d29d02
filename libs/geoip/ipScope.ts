// Classifies an address before any lookup: only public addresses are looked up; private, CGNAT, loopback,
// link-local, multicast, reserved (documentation, benchmarking, unspecified, broadcast, …) and invalid ones are
// marked. Hand-written parsers: this runs once per distinct address of every batch, node:net's BlockList is slower.

export type IpScope = 'public' | 'private' | 'cgnat' | 'loopback' | 'link_local' | 'multicast' | 'reserved' | 'invalid';

export const IP_SCOPES: readonly IpScope[] = ['public', 'private', 'cgnat', 'loopback', 'link_local', 'multicast', 'reserved', 'invalid'];

/** An address parsed for lookup: its scope and the string a GeoIP database is asked for (IPv4-mapped IPv6 → IPv4). */
export interface ParsedIp {
  scope: IpScope;
  family: 0 | 4 | 6;
  /** Canonical lookup key: the dotted IPv4 (also for ::ffff:a.b.c.d), the IPv6 without zone; '' when invalid. */
  lookupKey: string;
  /** IPv4 as an unsigned 32-bit number; IPv6 as a 128-bit bigint; null when invalid. */
  value: number | bigint | null;
}

// [first, prefix length, scope], most specific first where they nest.
const V4_RANGES: [string, number, IpScope][] = [
  ['0.0.0.0', 8, 'reserved'], // "this network"
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'], // shared address space (RFC 6598)
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // TEST-NET-1
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // TEST-NET-2
  ['203.0.113.0', 24, 'reserved'], // TEST-NET-3
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // future use and 255.255.255.255 broadcast
];

const V6_RANGES: [string, number, IpScope][] = [
  ['::', 128, 'reserved'], // unspecified
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'], // local-use NAT64
  ['100::', 64, 'reserved'], // discard-only
  ['2001:db8::', 32, 'reserved'], // documentation
  ['3fff::', 20, 'reserved'], // documentation (RFC 9637)
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link_local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

const v4Table = V4_RANGES.map(([net, len, scope]) => {
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { net: (parseIPv4(net) & mask) >>> 0, mask, scope };
});

const v6Table = V6_RANGES.map(([net, len, scope]) => {
  const mask = len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
  return { net: parseIPv6(net)! & mask, mask, scope };
});

/** Dotted-quad IPv4 → unsigned 32-bit number, -1 when not exactly four decimal octets 0–255 (no leading zeros). */
export function parseIPv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero: octal in some parsers, ambiguous
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * parseIPv4 over UTF-8 bytes [start, end) of a column buffer, without making a string: same rules, -1 when the
 * bytes are not exactly a dotted quad (the caller then takes the string path, which also trims and reads IPv6).
 */
export function parseIPv4Bytes(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** IPv6 text (optionally with an embedded IPv4 tail) → 128-bit bigint; null when malformed. The zone must be stripped. */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45) return null;
  const groups: number[] = [];
  let tail = s;
  const dot = s.indexOf('.');
  let v4 = -1;
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    if (colon < 0 || colon > dot) return null;
    v4 = parseIPv4(s.slice(colon + 1));
    if (v4 < 0) return null;
    // "::1.2.3.4" keeps its "::"; "::ffff:1.2.3.4" drops the separator before the IPv4 tail.
    tail = s[colon - 1] === ':' ? s.slice(0, colon + 1) : s.slice(0, colon);
  }
  const want = v4 >= 0 ? 6 : 8;
  const dbl = tail.indexOf('::');
  if (dbl >= 0 && tail.indexOf('::', dbl + 1) >= 0) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.length === 0 || g.length > 4) return null;
      let v = 0;
      for (let i = 0; i < g.length; i++) {
        const c = g.charCodeAt(i);
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
        if (d < 0) return null;
        v = v * 16 + d;
      }
      out.push(v);
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parseGroups(tail.slice(0, dbl));
    const rest = parseGroups(tail.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length > want - 1) return null;
    groups.push(...head, ...new Array<number>(want - head.length - rest.length).fill(0), ...rest);
  } else {
    const all = parseGroups(tail);
    if (!all || all.length !== want) return null;
    groups.push(...all);
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (v4 >= 0) value = (value << 32n) | BigInt(v4);
  return value;
}

/** First octets that no special range touches: their addresses are public without looking further. */
const PUBLIC_FIRST_OCTET = new Uint8Array(256).fill(1);
for (const r of v4Table) {
  const lo = r.net >>> 24;
  const hi = (r.net | (~r.mask >>> 0)) >>> 24;
  PUBLIC_FIRST_OCTET.fill(0, lo, hi + 1);
}

/** Scope of an IPv4 address given as an unsigned 32-bit number. */
export function scopeOfV4(v: number): IpScope {
  if (PUBLIC_FIRST_OCTET[(v >>> 24) & 255] === 1 && v >= 0 && v <= 0xffffffff) return 'public';
  for (const r of v4Table) if (((v & r.mask) >>> 0) === r.net) return r.scope;
  return 'public';
}

function scopeOfV6(v: bigint): IpScope {
  for (const r of v6Table) if ((v & r.mask) === r.net) return r.scope;
  return 'public';
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96
const INVALID: ParsedIp = Object.freeze({ scope: 'invalid', family: 0, lookupKey: '', value: null });

/** Parses and classifies an address; never throws. IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as its IPv4. */
export function parseIp(input: string): ParsedIp {
  const s = input.trim();
  const v4 = parseIPv4(s);
  if (v4 >= 0) return { scope: scopeOfV4(v4), family: 4, lookupKey: s, value: v4 };
  if (s.indexOf(':') < 0) return INVALID;
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (zone >= 0 && zone === s.length - 1) return INVALID;
  const v6 = parseIPv6(addr);
  if (v6 === null) return INVALID;
  if (v6 >> 32n === MAPPED_PREFIX >> 32n) {
    const n = Number(v6 & 0xffffffffn);
    return { scope: scopeOfV4(n), family: 4, lookupKey: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, value: n };
  }
  return { scope: scopeOfV6(v6), family: 6, lookupKey: addr.toLowerCase(), value: v6 };
}

export function ipScope(ip: string): IpScope {
  return parseIp(ip).scope;
}
