// The embedded default ASN database: the @ip-location-db/asn npm package (RouteViews, NRO/RIR and DB-IP
// IP-to-ASN Lite data, CC BY 4.0) ships inclusive address ranges as CSV; they are loaded into sorted typed arrays
// and searched by binary search. Used only when no GeoLite2-ASN (or GeoIP2-ISP) .mmdb is configured.
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AsnInfo } from './geoTypes.ts';

export function defaultAsnDirectory(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@ip-location-db/asn/package.json'));
}

export class AsnRangeTable {
  readonly kind = 'asn-ranges';
  /**
   * bucket[p]: index of the first IPv4 range starting at or after p << 16 (p = 0 … 65536). A lookup binary-searches
   * only the ranges that start in its /16 and the one before: a few probes instead of ~19 over 1.6 MB.
   */
  private readonly bucket: Uint32Array;

  private constructor(
    private readonly v4Start: Uint32Array,
    private readonly v4End: Uint32Array,
    private readonly v4Info: AsnInfo[],
    private readonly v6Start: bigint[],
    private readonly v6End: bigint[],
    private readonly v6Info: AsnInfo[],
    readonly path: string,
  ) {
    const bucket = new Uint32Array((1 << 16) + 1);
    let i = 0;
    for (let p = 0; p <= 1 << 16; p++) {
      const from = p * 65536;
      while (i < v4Start.length && v4Start[i]! < from) i++;
      bucket[p] = i;
    }
    this.bucket = bucket;
  }

  /**
   * Loads `<dir>/asn-ipv4-num.csv` and `<dir>/asn-ipv6-num.csv` (start,end,asn,organisation; numeric addresses).
   * Parsed from the file bytes: no 32 MB string is made, and no kept organisation name is a slice of one (V8 would
   * keep the whole file text alive through it).
   */
  static async load(dir = defaultAsnDirectory()): Promise<AsnRangeTable> {
    const infos = new Map<string, AsnInfo>(); // one shared object per "asn,org" text: ranges repeat them a lot
    const v4: { start: Uint32Array; end: Uint32Array; info: AsnInfo[] } = { start: new Uint32Array(1 << 16), end: new Uint32Array(1 << 16), info: [] };
    let n4 = 0;
    await eachFileRow(join(dir, 'asn-ipv4-num.csv'), infos, (b, s0, s1, e0, e1, i) => {
      if (n4 === v4.start.length) {
        v4.start = grow(v4.start);
        v4.end = grow(v4.end);
      }
      v4.start[n4] = decimal(b, s0, s1);
      v4.end[n4++] = decimal(b, e0, e1);
      v4.info.push(i);
    });
    const v6: { start: bigint[]; end: bigint[]; info: AsnInfo[] } = { start: [], end: [], info: [] };
    await eachFileRow(join(dir, 'asn-ipv6-num.csv'), infos, (b, s0, s1, e0, e1, i) => {
      v6.start.push(BigInt(b.toString('latin1', s0, s1)));
      v6.end.push(BigInt(b.toString('latin1', e0, e1)));
      v6.info.push(i);
    });
    // The files are sorted by start; sort only when one is not.
    const starts4 = v4.start.subarray(0, n4);
    const o4 = sortedOrder(starts4, (a, b) => a - b);
    const o6 = sortedOrder(v6.start, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const identity4 = o4 === null;
    return new AsnRangeTable(
      identity4 ? starts4.slice() : Uint32Array.from(o4, (k) => starts4[k]!),
      identity4 ? v4.end.slice(0, n4) : Uint32Array.from(o4, (k) => v4.end[k]!),
      identity4 ? v4.info : o4.map((k) => v4.info[k]!),
      o6 === null ? v6.start : o6.map((k) => v6.start[k]!),
      o6 === null ? v6.end : o6.map((k) => v6.end[k]!),
      o6 === null ? v6.info : o6.map((k) => v6.info[k]!),
      dir,
    );
  }

  /** The IPv4 ranges, sorted by start (for tests and tools; not to be modified). */
  v4Ranges(): { start: Uint32Array; end: Uint32Array; info: readonly AsnInfo[] } {
    return { start: this.v4Start, end: this.v4End, info: this.v4Info };
  }

  get ranges(): number {
    return this.v4Start.length + this.v6Start.length;
  }

  /** AS of an IPv4 (unsigned 32-bit) or IPv6 (bigint) address, null when no range holds it. */
  lookup(value: number | bigint): AsnInfo | null {
    if (typeof value === 'number') {
      const s = this.v4Start;
      // The last range starting at or before value is at index ≥ bucket[p] - 1 and < bucket[p + 1].
      const p = value >>> 16;
      const bucketed = value >= 0 && value <= 0xffffffff; // anything else searches everything, as before
      let lo = bucketed ? Math.max(this.bucket[p]! - 1, 0) : 0;
      let hi = bucketed ? this.bucket[p + 1]! - 1 : s.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (s[mid]! <= value) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found >= 0 && value <= this.v4End[found]! ? this.v4Info[found]! : null;
    }
    const s = this.v6Start;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= value) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && value <= this.v6End[found]! ? this.v6Info[found]! : null;
  }
}

/** Index order that sorts `keys`; null when they already are sorted (the usual case: no index array is made). */
function sortedOrder<K>(keys: ArrayLike<K>, cmp: (a: K, b: K) => number): number[] | null {
  for (let i = 1; i < keys.length; i++) {
    if (cmp(keys[i - 1]!, keys[i]!) > 0) return Array.from({ length: keys.length }, (_, k) => k).sort((a, b) => cmp(keys[a]!, keys[b]!));
  }
  return null;
}

function grow(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * The rows of a CSV file read in 1 MiB chunks: the file is never whole in memory (the IPv4 one is 21 MB), which
 * keeps the enricher's start-up peak down.
 */
async function eachFileRow(path: string, infos: Map<string, AsnInfo>, row: Row): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let have = 0;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, have, buf.length - have, null);
      const end = have + bytesRead;
      if (bytesRead === 0) {
        if (end > 0) eachRow(buf.subarray(0, end), infos, row);
        return;
      }
      const lastNl = buf.lastIndexOf(10, end - 1);
      if (lastNl < 0) {
        have = end;
        continue;
      }
      eachRow(buf.subarray(0, lastNl + 1), infos, row);
      buf.copy(buf, 0, lastNl + 1, end);
      have = end - lastNl - 1;
    }
  } finally {
    await fh.close();
  }
}

/** Digits [a, b) as a number (NaN when not all digits); exact up to 2^53, enough for IPv4 and AS numbers. */
function decimal(b: Buffer, a: number, e: number): number {
  if (e <= a) return NaN;
  let v = 0;
  for (let i = a; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

type Row = (b: Buffer, startFrom: number, startTo: number, endFrom: number, endTo: number, info: AsnInfo) => void;

/** `start,end,asn,org` lines; org may be quoted ("Cloudflare, Inc.", "" escapes a quote). Bad lines are skipped. */
function eachRow(b: Buffer, infos: Map<string, AsnInfo>, row: Row): void {
  let pos = 0;
  const n = b.length;
  while (pos < n) {
    let nl = b.indexOf(10, pos);
    if (nl < 0) nl = n;
    const lineEnd = nl > pos && b[nl - 1] === 13 ? nl - 1 : nl;
    const c1 = b.indexOf(44, pos);
    const c2 = c1 < 0 || c1 >= lineEnd ? -1 : b.indexOf(44, c1 + 1);
    const c3 = c2 < 0 || c2 >= lineEnd ? -1 : b.indexOf(44, c2 + 1);
    if (c3 >= 0 && c3 < lineEnd) {
      const key = b.toString('latin1', c2 + 1, lineEnd); // short-lived: only first-seen keys are kept
      let info = infos.get(key);
      if (!info) {
        const asn = decimal(b, c2 + 1, c3);
        let org = b.toString('utf8', c3 + 1, lineEnd);
        if (org.length >= 2 && org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replaceAll('""', '"');
        // A flat copy: the org string must not keep anything larger alive.
        info = Object.freeze({ asn: Number.isInteger(asn) ? asn : null, asOrg: org === '' ? null : flat(org) });
        infos.set(key, info);
      }
      row(b, pos, c1, c1 + 1, c2, info);
    }
    pos = nl + 1;
  }
}

/** A string that is not a slice of a larger one. */
function flat(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
