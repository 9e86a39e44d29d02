// The embedded default ASN database: the @ip-location-db/asn npm package (RouteViews, NRO/RIR and DB-IP
// IP-to-ASN Lite data, CC BY 4.0) ships inclusive address ranges as CSV; they are loaded into sorted typed arrays
// and searched by binary search. Used only when no GeoLite2-ASN (or GeoIP2-ISP) .mmdb is configured.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AsnInfo } from './geoTypes.ts';

export function defaultAsnDirectory(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@ip-location-db/asn/package.json'));
}

export class AsnRangeTable {
  readonly kind = 'asn-ranges';
  private constructor(
    private readonly v4Start: Uint32Array,
    private readonly v4End: Uint32Array,
    private readonly v4Info: AsnInfo[],
    private readonly v6Start: bigint[],
    private readonly v6End: bigint[],
    private readonly v6Info: AsnInfo[],
    readonly path: string,
  ) {}

  /** Loads `<dir>/asn-ipv4-num.csv` and `<dir>/asn-ipv6-num.csv` (start,end,asn,organisation; numeric addresses). */
  static async load(dir = defaultAsnDirectory()): Promise<AsnRangeTable> {
    const [t4, t6] = await Promise.all([readFile(join(dir, 'asn-ipv4-num.csv'), 'utf8'), readFile(join(dir, 'asn-ipv6-num.csv'), 'utf8')]);
    const infos = new Map<string, AsnInfo>(); // one shared object per "asn,org" text: ranges repeat them a lot
    const v4: { start: number[]; end: number[]; info: AsnInfo[] } = { start: [], end: [], info: [] };
    eachRow(t4, infos, (s, e, i) => {
      v4.start.push(Number(s));
      v4.end.push(Number(e));
      v4.info.push(i);
    });
    const v6: { start: bigint[]; end: bigint[]; info: AsnInfo[] } = { start: [], end: [], info: [] };
    eachRow(t6, infos, (s, e, i) => {
      v6.start.push(BigInt(s));
      v6.end.push(BigInt(e));
      v6.info.push(i);
    });
    // The files are sorted by start; sort only when one is not.
    const o4 = sortedOrder(v4.start, (a, b) => a - b);
    const o6 = sortedOrder(v6.start, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new AsnRangeTable(
      Uint32Array.from(o4, (k) => v4.start[k]!),
      Uint32Array.from(o4, (k) => v4.end[k]!),
      o4.map((k) => v4.info[k]!),
      o6.map((k) => v6.start[k]!),
      o6.map((k) => v6.end[k]!),
      o6.map((k) => v6.info[k]!),
      dir,
    );
  }

  get ranges(): number {
    return this.v4Start.length + this.v6Start.length;
  }

  /** AS of an IPv4 (unsigned 32-bit) or IPv6 (bigint) address, null when no range holds it. */
  lookup(value: number | bigint): AsnInfo | null {
    if (typeof value === 'number') {
      const s = this.v4Start;
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

/** Index order that sorts `keys` (identity when they already are). */
function sortedOrder<K>(keys: K[], cmp: (a: K, b: K) => number): number[] {
  const order = keys.map((_, i) => i);
  for (let i = 1; i < keys.length; i++) if (cmp(keys[i - 1]!, keys[i]!) > 0) return order.sort((a, b) => cmp(keys[a]!, keys[b]!));
  return order;
}

/** `start,end,asn,org` lines; org may be quoted ("Cloudflare, Inc.", "" escapes a quote). Bad lines are skipped. */
function eachRow(text: string, infos: Map<string, AsnInfo>, row: (start: string, end: string, info: AsnInfo) => void): void {
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const lineEnd = text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const c1 = text.indexOf(',', pos);
    const c2 = c1 < 0 ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 < 0 ? -1 : text.indexOf(',', c2 + 1);
    if (c3 >= 0 && c3 < lineEnd) {
      const key = text.slice(c2 + 1, lineEnd);
      let info = infos.get(key);
      if (!info) {
        const asn = Number(text.slice(c2 + 1, c3));
        let org = text.slice(c3 + 1, lineEnd);
        if (org.length >= 2 && org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replaceAll('""', '"');
        info = Object.freeze({ asn: Number.isInteger(asn) ? asn : null, asOrg: org === '' ? null : org });
        infos.set(key, info);
      }
      row(text.slice(pos, c1), text.slice(c1 + 1, c2), info);
    }
    pos = nl + 1;
  }
}
