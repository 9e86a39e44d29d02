// In-memory index of the `iocs` table for detection rule 3 (IoC matching): indicator value → the feed rows that
// name it, with their validity windows. Pure (no I/O): the detector loads it from the table and upserts rows as
// feeds arrive. Built for ~1 M indicators: one Map per IoC type keyed by the normalised value, pointing into
// parallel typed arrays (a linked list per value, one slot per (type, value, dataset)), so no object per indicator.
import { isIP } from 'node:net';
import { IOC_TYPES, isIocType, normaliseIndicator, type IocType } from '../tables/threatintel/iocTypes.ts';

/** One row of the `iocs` table, as the detector reads it (times in epoch microseconds). */
export interface IocRow {
  indicator: string;
  type: string;
  dataset: string;
  first_seen: number;
  last_seen?: number | null;
  confidence?: number | null;
  threat?: string | null;
  event_name?: string | null;
  /**
   * Ordering of rows for the same (type, indicator, dataset), e.g. the row's ingest time or raw sequence. A row
   * whose version is lower than the stored one is ignored (stale redelivery); without versions the last upsert wins.
   */
  version?: number | null;
}

/** A valid indicator returned by a lookup. */
export interface IocHit {
  type: IocType;
  /** The normalised indicator value (the key it was found under). */
  indicator: string;
  dataset: string;
  firstSeen: number;
  /** null = open-ended (valid until now). */
  lastSeen: number | null;
  confidence: number | null;
  threat: string | null;
  eventName: string | null;
}

export interface UpsertResult {
  added: number;
  replaced: number;
  /** Rows older (by `version`) than the stored row for the same key. */
  stale: number;
  /** Unknown type, empty or unparsable value, or no finite first_seen. */
  invalid: number;
}

/** Registered domain (eTLD+1) of a host name, e.g. tldts `getDomain`; null when there is none. */
export type RegisteredDomainOf = (hostname: string) => string | null | undefined;

const EMPTY: readonly IocHit[] = Object.freeze([]);
const TYPE_CODE = new Map<string, number>(IOC_TYPES.map((t, i) => [t, i]));
const code = (t: IocType): number => TYPE_CODE.get(t)!;
const C_HOSTNAME = code('hostname');
const C_DOMAIN = code('domain');
const C_URL = code('URL');
const C_IPV4 = code('IPv4');
const C_IPV6 = code('IPv6');

// ---------------------------------------------------------------------------------------------------------------
// Normalisation. Indicators and observed values go through the same functions, so equal things compare equal.

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443', ftp: '21', ws: '80', wss: '443' };
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * Canonical URL text for matching:
 * - trimmed; a value without `scheme://` gets `defaultScheme://` (observed values are also tried as https, see
 *   `urlKeys`);
 * - scheme and host lower-case, host without a trailing root dot, IPv6 literals canonical;
 * - the scheme's default port dropped (http 80, https 443, ftp 21, ws 80, wss 443), other ports kept;
 * - the fragment (`#…`) dropped (it never reaches the server, so sensors do not see it);
 * - trailing slashes of the path removed, except that an empty path is `/`: `http://a.com`, `http://a.com/` →
 *   `http://a.com/`; `http://a.com/x/` → `http://a.com/x`;
 * - path, query and user info keep their case and encoding (paths are case-sensitive; no percent-decoding);
 *   an empty query (`?` alone) is dropped.
 * Returns null for an empty value or one with no host.
 */
export function normaliseUrl(value: string, defaultScheme = 'http'): string | null {
  const u = parseUrl(value, defaultScheme);
  return u === null ? null : formatUrl(u, u.scheme);
}

interface UrlParts {
  scheme: string;
  /** Whether the value carried its own scheme (else `scheme` is the default). */
  explicit: boolean;
  userinfo: string;
  host: string;
  /** The port as a canonical number text, '' when none (formatUrl drops the scheme's default port). */
  port: string;
  path: string;
  query: string;
}

export function parseUrl(value: string, defaultScheme: string): UrlParts | null {
  let v = value.trim();
  if (v === '') return null;
  let scheme: string;
  const m = SCHEME.exec(v);
  if (m) {
    scheme = m[1]!.toLowerCase();
    v = v.slice(m[0].length);
  } else {
    scheme = defaultScheme;
    if (v.startsWith('//')) v = v.slice(2);
  }
  let end = v.length;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  let authority = v.slice(0, end);
  let rest = v.slice(end);
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  if (at >= 0) authority = authority.slice(at + 1);
  let host: string;
  let port = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return null;
    host = `[${canonicalIpv6(authority.slice(1, close))}]`;
    const after = authority.slice(close + 1);
    if (after.startsWith(':')) port = after.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && /^\d*$/.test(authority.slice(colon + 1))) {
      port = authority.slice(colon + 1);
      authority = authority.slice(0, colon);
    }
    host = authority.toLowerCase().replace(/\.$/, '');
  }
  if (host === '' || host === '[]') return null;
  if (port !== '') port = String(Number(port));
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  let path = q >= 0 ? rest.slice(0, q) : rest;
  let query = q >= 0 ? rest.slice(q) : '';
  if (query === '?') query = '';
  path = path.replace(/\/+$/, '');
  if (path === '') path = '/';
  return { scheme, explicit: m !== null, userinfo, host, port, path, query };
}

function formatUrl(u: UrlParts, scheme: string): string {
  const port = u.port === '' || DEFAULT_PORT[scheme] === u.port ? '' : `:${u.port}`;
  return `${scheme}://${u.userinfo}${u.host}${port}${u.path}${u.query}`;
}

/** The keys an observed URL is looked up under: a scheme-less value (Defender RemoteUrl) as http and as https. */
export function urlKeys(value: string): string[] {
  // Parsed once: the two keys differ only in the scheme and which default port is dropped.
  const u = parseUrl(value, 'http');
  if (u === null) return [];
  const a = formatUrl(u, u.scheme);
  return u.explicit ? [a] : [a, formatUrl(u, 'https')];
}

/**
 * Canonical host name: trimmed, lower-case, without the root dot; a URL (with or without scheme) gives its host;
 * a `host:port` form loses the port (Zeek `http.host` can carry one). Null when nothing is left.
 */
export function normaliseHostname(value: string): string | null {
  let v = value.trim();
  if (v.includes('://')) {
    const u = normaliseUrl(v);
    if (u === null) return null;
    v = u.slice(u.indexOf('://') + 3);
    const slash = v.indexOf('/');
    if (slash >= 0) v = v.slice(0, slash);
    const at = v.lastIndexOf('@');
    if (at >= 0) v = v.slice(at + 1);
  } else {
    // A scheme-less URL (Defender RemoteUrl `host/path`) gives its host.
    const cut = v.search(/[/?#]/);
    if (cut >= 0) v = v.slice(0, cut);
  }
  const colon = v.indexOf(':');
  if (colon >= 0 && colon === v.lastIndexOf(':') && /^\d+$/.test(v.slice(colon + 1))) v = v.slice(0, colon);
  v = v.toLowerCase();
  if (v.endsWith('.')) v = v.slice(0, -1);
  return v === '' ? null : v;
}

/**
 * RFC 5952 text of an IPv6 address (lower case, no leading zeros, longest zero run as `::`, zone id dropped);
 * the input lower-cased when it is not an IPv6 address.
 */
export function canonicalIpv6(value: string): string {
  let v = value.trim().toLowerCase();
  const pct = v.indexOf('%');
  if (pct >= 0) v = v.slice(0, pct);
  if (isIP(v) !== 6) return v;
  let groups: number[];
  const dbl = v.indexOf('::');
  const parse = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const p of s.split(':')) {
      if (p.includes('.')) {
        const o = p.split('.').map(Number);
        out.push(((o[0]! << 8) | o[1]!) >>> 0, ((o[2]! << 8) | o[3]!) >>> 0);
      } else out.push(parseInt(p, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parse(v.slice(0, dbl));
    const tail = parse(v.slice(dbl + 2));
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else groups = parse(v);
  // IPv4-mapped addresses keep their dotted tail (::ffff:1.2.3.4), as RFC 5952 §5 recommends.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * An IP address as (type, key): an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, common in Defender RemoteIP) is the
 * IPv4 address; the family comes from the value, not the column. Null when the value is not an IP address.
 */
export function ipKey(value: string): { type: 'IPv4' | 'IPv6'; key: string } | null {
  const v = value.trim().toLowerCase();
  const fam = isIP(v);
  if (fam === 4) return { type: 'IPv4', key: v };
  if (fam !== 6 && !v.includes('%')) return null;
  const c = canonicalIpv6(v);
  if (c.startsWith('::ffff:') && isIP(c.slice(7)) === 4) return { type: 'IPv4', key: c.slice(7) };
  return isIP(c) === 6 ? { type: 'IPv6', key: c } : null;
}

/**
 * The index key of an indicator or observed value of a type: the table's normalisation (`normaliseIndicator`:
 * trim, lower-case hashes/IPs/e-mail/names, names without root dot) plus canonical URLs and IPv6 text.
 */
export function indicatorKey(type: IocType, value: string): string | null {
  switch (type) {
    case 'URL':
      return normaliseUrl(value);
    case 'IPv6':
      return canonicalIpv6(value);
    case 'hostname':
    case 'domain':
      return normaliseHostname(value);
    default: {
      const k = normaliseIndicator(type, value);
      return k === '' ? null : k;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cheap negative checks before a lookup: most observed values match nothing, so what can be decided without building
// the normalised keys is decided first. Each is exact: it only skips lookups that cannot find a key.

/**
 * A canonical dotted-quad IPv4 text (what `isIP` accepts as 4: four decimal octets 0–255 without leading zeros, no
 * spaces) as its 32-bit number; -1 for anything else (which then takes the general path).
 */
export function dottedQuad(v: string): number {
  const n = v.length;
  if (n < 7 || n > 15) return -1;
  let out = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      out = out * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // A leading zero is only valid as the whole octet.
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return out * 256 + octet;
}

/** The host of a URL index key up to its first `:` (host and port: the text after the user info, before the path). */
function urlKeyHostPrefix(key: string): string {
  const start = key.indexOf('://') + 3;
  let end = key.indexOf('/', start);
  if (end < 0) end = key.length;
  const at = key.lastIndexOf('@', end - 1);
  const from = at >= start ? at + 1 : start;
  const colon = key.indexOf(':', from);
  return key.slice(from, colon >= 0 && colon < end ? colon : end);
}

/**
 * `hostPrefix(parseUrl(value, …).host)` without parsing the rest (path, query, port) or building the parts: null when
 * parseUrl gives null, undefined for a bracketed (IPv6) host, whose prefix needs the full parse.
 */
export function urlHostPrefix(value: string): string | null | undefined {
  const v = value.trim();
  const n = v.length;
  if (n === 0) return null;
  // The scheme as SCHEME matches it: a letter, then letters, digits, + . -, then `://`.
  let start = 0;
  let c = v.charCodeAt(0);
  if ((c | 32) >= 97 && (c | 32) <= 122) {
    let i = 1;
    for (; i < n; i++) {
      c = v.charCodeAt(i);
      const lc = c | 32;
      if (!((lc >= 97 && lc <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45)) break;
    }
    if (c === 58 && v.charCodeAt(i + 1) === 47 && v.charCodeAt(i + 2) === 47) start = i + 3;
  }
  if (start === 0 && v.charCodeAt(0) === 47 && v.charCodeAt(1) === 47) start = 2;
  // The authority: up to the first / ? #; the host after its last @.
  let end = n;
  let at = -1;
  let lastColon = -1;
  for (let i = start; i < n; i++) {
    const ch = v.charCodeAt(i);
    if (ch === 47 || ch === 63 || ch === 35) {
      end = i;
      break;
    }
    if (ch === 64) at = i;
  }
  const hostStart = at >= 0 ? at + 1 : start;
  if (v.charCodeAt(hostStart) === 91 /* [ */ && hostStart < end) return undefined;
  for (let i = end - 1; i >= hostStart; i--) {
    if (v.charCodeAt(i) === 58) {
      lastColon = i;
      break;
    }
  }
  let hostEnd = end;
  if (lastColon >= 0) {
    let digits = true;
    for (let i = lastColon + 1; i < end; i++) {
      const ch = v.charCodeAt(i);
      if (ch < 48 || ch > 57) {
        digits = false;
        break;
      }
    }
    if (digits) hostEnd = lastColon;
  }
  let host = v.slice(hostStart, hostEnd).toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return null;
  return hostPrefix(host);
}

/** A parsed URL host up to its first `:` — equal to `urlKeyHostPrefix` of every key formatted from it. */
function hostPrefix(host: string): string {
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/**
 * The last two labels of a name (the name itself with fewer). Every name a DNS lookup tries (the name and its parents)
 * is a label-boundary suffix of the observed name, so its last two labels are the observed name's last two or last one.
 */
function lastTwoLabels(name: string): string {
  const last = name.lastIndexOf('.');
  if (last <= 0) return name;
  const prev = name.lastIndexOf('.', last - 1);
  return prev < 0 ? name : name.slice(prev + 1);
}

function lastLabel(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** Reference counts of strings (a multiset): how many index keys share a host prefix or a name suffix. */
class Counts {
  private readonly m = new Map<string, number>();
  add(s: string): void {
    this.m.set(s, (this.m.get(s) ?? 0) + 1);
  }
  remove(s: string): void {
    const n = this.m.get(s);
    if (n === undefined) return;
    if (n <= 1) this.m.delete(s);
    else this.m.set(s, n - 1);
  }
  has(s: string): boolean {
    return this.m.has(s);
  }
}

/** String ↔ small integer, for columns with few distinct values (dataset, threat, event name). 0 = null. */
class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: (string | null)[] = [null];
  id(s: string | null | undefined): number {
    if (s === null || s === undefined || s === '') return 0;
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.ids.set(s, i);
    }
    return i;
  }
}

/** The indicator index. */
export class IocIndex {
  // Per type code: normalised value → first slot of its chain.
  private readonly heads: Map<string, number>[] = IOC_TYPES.map(() => new Map<string, number>());
  // IPv4 keys are held by their 32-bit number here instead (heads[IPv4] stays empty): an observed dotted quad is
  // looked up without building a key string. Beside `heads`, kept in step by addKey/deleteKey: the URL keys' host
  // prefixes and the hostname/domain keys' last two labels (negative checks before normalising and formatting).
  private readonly v4 = new Map<number, number>();
  private readonly urlHosts = new Counts();
  private readonly nameSuffixes = new Counts();
  private cap = 0;
  private used = 0;
  private live = 0;
  private free: number[] = [];
  private first = new Float64Array(0);
  private last = new Float64Array(0); // NaN = open-ended
  private version = new Float64Array(0); // NaN = none
  private next = new Int32Array(0); // -1 = end of chain
  private dataset = new Uint16Array(0);
  private confidence = new Int8Array(0); // -1 = null
  private threat = new Int32Array(0);
  private eventName = new Int32Array(0);
  private readonly datasets = new Interner();
  private readonly strings = new Interner();

  constructor(initialCapacity = 1024) {
    this.grow(Math.max(16, initialCapacity));
  }

  /** Number of (type, value, dataset) entries held. */
  get size(): number {
    return this.live;
  }

  /** Number of distinct (type, value) keys. */
  get keys(): number {
    return this.heads.reduce((n, m) => n + m.size, this.v4.size);
  }

  private grow(min: number): void {
    let cap = Math.max(this.cap * 2, 16);
    while (cap < min) cap *= 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.first = f64(this.first);
    this.last = f64(this.last);
    this.version = f64(this.version);
    const n = new Int32Array(cap);
    n.set(this.next);
    this.next = n;
    const d = new Uint16Array(cap);
    d.set(this.dataset);
    this.dataset = d;
    const c = new Int8Array(cap);
    c.set(this.confidence);
    this.confidence = c;
    const t = new Int32Array(cap);
    t.set(this.threat);
    this.threat = t;
    const e = new Int32Array(cap);
    e.set(this.eventName);
    this.eventName = e;
    this.cap = cap;
  }

  private alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.used === this.cap) this.grow(this.used + 1);
    return this.used++;
  }

  private write(slot: number, row: IocRow): void {
    this.first[slot] = row.first_seen;
    this.last[slot] = typeof row.last_seen === 'number' ? row.last_seen : NaN;
    this.version[slot] = typeof row.version === 'number' ? row.version : NaN;
    const c = row.confidence;
    this.confidence[slot] = typeof c === 'number' && c >= 0 && c <= 100 ? c : -1;
    this.threat[slot] = this.strings.id(row.threat);
    this.eventName[slot] = this.strings.id(row.event_name);
  }

  /**
   * Adds or replaces indicators. Key = (type, normalised indicator, dataset): a row for a key already held replaces
   * it (so a feed can shorten or extend a validity window), unless its `version` is lower than the stored one.
   */
  upsert(rows: Iterable<IocRow>): UpsertResult {
    const res: UpsertResult = { added: 0, replaced: 0, stale: 0, invalid: 0 };
    for (const row of rows) {
      if (!isIocType(row.type) || typeof row.indicator !== 'string' || typeof row.dataset !== 'string' || !Number.isFinite(row.first_seen)) {
        res.invalid++;
        continue;
      }
      let type: IocType = row.type;
      let key: string | null;
      if (type === 'IPv4' || type === 'IPv6') {
        const ip = ipKey(row.indicator);
        if (ip !== null) type = ip.type;
        key = ip?.key ?? null;
      } else key = indicatorKey(type, row.indicator);
      if (key === null) {
        res.invalid++;
        continue;
      }
      const c = code(type);
      const ds = this.datasets.id(row.dataset);
      const head = this.headOf(c, key);
      let slot = head ?? -1;
      while (slot >= 0 && this.dataset[slot] !== ds) slot = this.next[slot]!;
      if (slot >= 0) {
        const v = row.version;
        if (typeof v === 'number' && this.version[slot]! > v) {
          res.stale++;
          continue;
        }
        this.write(slot, row);
        res.replaced++;
        continue;
      }
      slot = this.alloc();
      this.write(slot, row);
      this.dataset[slot] = ds;
      this.next[slot] = head ?? -1;
      if (head === undefined) this.addKey(c, key, slot);
      else this.moveHead(c, key, slot);
      this.live++;
      res.added++;
    }
    return res;
  }

  /**
   * Drops entries whose validity ended before `lastSeenBefore` (epoch µs): they can only match events older than
   * that. Keep a margin for late events. Returns the number removed.
   */
  prune(lastSeenBefore: number): number {
    let removed = 0;
    /** The chain from `head` without its ended entries: its new head (-1 = empty). */
    const pruneChain = (head: number): number => {
      let slot = head;
      let prev = -1;
      let newHead = head;
      while (slot >= 0) {
        const nxt = this.next[slot]!;
        const l = this.last[slot]!;
        if (!Number.isNaN(l) && l < lastSeenBefore) {
          if (prev < 0) newHead = nxt;
          else this.next[prev] = nxt;
          this.free.push(slot);
          removed++;
        } else prev = slot;
        slot = nxt;
      }
      return newHead;
    };
    for (let c = 0; c < this.heads.length; c++) {
      for (const [key, head] of this.heads[c]!) {
        const newHead = pruneChain(head);
        if (newHead < 0) this.deleteKey(c, key);
        else if (newHead !== head) this.moveHead(c, key, newHead);
      }
    }
    for (const [n, head] of this.v4) {
      const newHead = pruneChain(head);
      if (newHead < 0) this.v4.delete(n);
      else if (newHead !== head) this.v4.set(n, newHead);
    }
    this.live -= removed;
    return removed;
  }

  /** First slot of the chain of (type code, key); IPv4 keys (dotted quads, as ipKey gives them) by number. */
  private headOf(c: number, key: string): number | undefined {
    return c === C_IPV4 ? this.v4.get(dottedQuad(key)) : this.heads[c]!.get(key);
  }

  /** A new key of type code `c` whose chain starts at `slot`. */
  private addKey(c: number, key: string, slot: number): void {
    if (c === C_IPV4) return void this.v4.set(dottedQuad(key), slot);
    this.heads[c]!.set(key, slot);
    if (c === C_URL) this.urlHosts.add(urlKeyHostPrefix(key));
    else if (c === C_HOSTNAME || c === C_DOMAIN) this.nameSuffixes.add(lastTwoLabels(key));
  }

  private moveHead(c: number, key: string, slot: number): void {
    if (c === C_IPV4) this.v4.set(dottedQuad(key), slot);
    else this.heads[c]!.set(key, slot);
  }

  private deleteKey(c: number, key: string): void {
    this.heads[c]!.delete(key);
    if (c === C_URL) this.urlHosts.remove(urlKeyHostPrefix(key));
    else if (c === C_HOSTNAME || c === C_DOMAIN) this.nameSuffixes.remove(lastTwoLabels(key));
  }

  /** Valid entries of one (type code, key): first_seen ≤ eventTime ≤ (last_seen ?? now). */
  private collect(c: number, key: string, eventTime: number, now: number, out: IocHit[] | null): IocHit[] | null {
    const head = this.headOf(c, key);
    return head === undefined ? out : this.collectChain(c, key, head, eventTime, now, out);
  }

  /** `collect` from the chain's first slot. */
  private collectChain(c: number, key: string, head: number, eventTime: number, now: number, out: IocHit[] | null): IocHit[] | null {
    for (let slot = head; slot >= 0; slot = this.next[slot]!) {
      const l = this.last[slot]!;
      if (this.first[slot]! > eventTime || eventTime > (Number.isNaN(l) ? now : l)) continue;
      const conf = this.confidence[slot]!;
      (out ??= []).push({
        type: IOC_TYPES[c]!,
        indicator: key,
        dataset: this.datasets.values[this.dataset[slot]!]!,
        firstSeen: this.first[slot]!,
        lastSeen: Number.isNaN(l) ? null : l,
        confidence: conf < 0 ? null : conf,
        threat: this.strings.values[this.threat[slot]!] ?? null,
        eventName: this.strings.values[this.eventName[slot]!] ?? null,
      });
    }
    return out;
  }

  /**
   * Indicators of `type` valid at `eventTime` for an observed value (normalised like the table's values).
   * IPv4/IPv6: the family is taken from the value (`::ffff:a.b.c.d` is IPv4). URL: a scheme-less value is tried as
   * http and https. hostname/domain: exact name under that type only (see `matchName` for DNS names).
   * Returns a shared empty array on a miss.
   */
  match(type: IocType, value: string, eventTime: number, now: number): readonly IocHit[] {
    let out: IocHit[] | null = null;
    if (type === 'IPv4' || type === 'IPv6') {
      // A plain dotted quad (most observed IPs) is its own key: looked up by number, no key built on a miss.
      const n = dottedQuad(value);
      if (n >= 0) {
        const head = this.v4.get(n);
        return head === undefined ? EMPTY : (this.collectChain(C_IPV4, value, head, eventTime, now, null) ?? EMPTY);
      }
      const ip = ipKey(value);
      if (ip !== null) out = this.collect(ip.type === 'IPv4' ? C_IPV4 : C_IPV6, ip.key, eventTime, now, out);
    } else if (type === 'URL') {
      if (this.heads[C_URL]!.size === 0) return EMPTY;
      // The value is parsed and its keys formatted only when some URL indicator has its host.
      const prefix = urlHostPrefix(value);
      if (prefix === null || (prefix !== undefined && !this.urlHosts.has(prefix))) return EMPTY;
      const u = parseUrl(value, 'http');
      if (u === null || !this.urlHosts.has(hostPrefix(u.host))) return EMPTY;
      out = this.collect(C_URL, formatUrl(u, u.scheme), eventTime, now, out);
      if (!u.explicit) out = this.collect(C_URL, formatUrl(u, 'https'), eventTime, now, out);
    } else {
      const key = indicatorKey(type, value);
      if (key !== null) out = this.collect(code(type), key, eventTime, now, out);
    }
    return out ?? EMPTY;
  }

  /**
   * Indicators for a DNS name (a query, an SNI, a Host header): `hostname` and `domain` indicators equal to the
   * name; with `registeredDomainOf`, also `domain` indicators on each parent of the name down to and including its
   * registered domain (a.b.evil.co.uk → b.evil.co.uk, evil.co.uk), never the public suffix itself.
   */
  matchName(value: string, eventTime: number, now: number, registeredDomainOf?: RegisteredDomainOf): readonly IocHit[] {
    if (this.heads[C_HOSTNAME]!.size === 0 && this.heads[C_DOMAIN]!.size === 0) return EMPTY;
    const name = normaliseHostname(value);
    if (name === null) return EMPTY;
    // Every name tried below ends with the name's last two labels or is its last label.
    if (!this.nameSuffixes.has(lastTwoLabels(name)) && !this.nameSuffixes.has(lastLabel(name))) return EMPTY;
    let out = this.collect(C_HOSTNAME, name, eventTime, now, null);
    out = this.collect(C_DOMAIN, name, eventTime, now, out);
    if (registeredDomainOf) {
      const rd = registeredDomainOf(name)?.toLowerCase();
      if (rd && rd !== name && name.endsWith(`.${rd}`)) {
        let p = name;
        while (p !== rd) {
          p = p.slice(p.indexOf('.') + 1);
          out = this.collect(C_DOMAIN, p, eventTime, now, out);
        }
      }
    }
    return out ?? EMPTY;
  }

  /** Approximate bytes held by the typed arrays (the Map and its key strings come on top). */
  arrayBytes(): number {
    return this.cap * (8 * 3 + 4 + 2 + 1 + 4 + 4);
  }
}
