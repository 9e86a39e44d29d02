// In-memory interval index of the gold ip_lookup table: per IP address the holding intervals (who held it from when
// to when), built from ip_lookup revisions in any order — per interval_id the highest revision wins, as in the
// table's query semantics — and answering "who held this IP at time t" with a map lookup and a binary search.
// Memory is bounded by time: intervals that closed more than `retentionHours` before the pruning clock are dropped
// (open intervals are kept: they are the current holders). MACs, users and host names repeat across intervals (a
// device re-leasing its address), so they are interned; the detector's 32-hex interval ids are kept as a 52-bit
// number (ids are only compared among the intervals of one address, where a collision is out of reach).

/** One revision of an ip_lookup interval (times in epoch ms). */
export interface HoldingRevision {
  ip: string;
  mac: string | null;
  user: string | null;
  hostname: string | null;
  source: string;
  validFrom: number;
  /** Exclusive end; null while open. */
  validTo: number | null;
  intervalId: string;
  revision: number;
}

/** An interval as the index keeps it. `to` is Infinity while open; `id` is the interval id or its compact key. */
export interface Holding {
  readonly id: string | number;
  rev: number;
  from: number;
  to: number;
  mac: string | null;
  user: string | null;
  host: string | null;
  source: string;
}

export type UpsertResult = 'inserted' | 'revised' | 'stale' | 'expired';

export interface IntervalIndexOptions {
  /** Closed intervals whose end is older than this (relative to the clock given to prune) are dropped. */
  retentionHours: number;
}

// Sources are a handful of words; one string each instead of one per row parsed.
const SOURCES = new Map<string, string>();
function sourceOf(s: string): string {
  const known = SOURCES.get(s);
  if (known !== undefined) return known;
  if (SOURCES.size < 64) SOURCES.set(s, s);
  return s;
}

const HEX_ID = /^[0-9a-f]{13,}$/;
/** The interval id as stored: the first 52 bits of a hex id as a number, other ids as they are. */
function idKey(id: string): string | number {
  return HEX_ID.test(id) ? parseInt(id.slice(0, 13), 16) : id;
}

/** Index of the last interval with from <= t (-1 when none). `list` is sorted by from. */
function lastStartingBy(list: readonly Holding[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.from <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export class IntervalIndex {
  // An IP with one interval (the common case) holds it directly: no array per address.
  private readonly byIp = new Map<string, Holding | Holding[]>();
  private count = 0;
  private strings = new Map<string, string>();
  /** Intervals that ended before this are not kept (moves forward with prune). */
  private horizon = -Infinity;
  private latest = -Infinity;
  readonly retentionMs: number;

  constructor(opts: IntervalIndexOptions) {
    this.retentionMs = opts.retentionHours * 3_600_000;
  }

  /** Intervals held. */
  get size(): number {
    return this.count;
  }

  /** Addresses with at least one interval. */
  get addresses(): number {
    return this.byIp.size;
  }

  /** Applies one revision: a new interval, a higher revision of a known one, or nothing (stale / long closed). */
  upsert(r: HoldingRevision): UpsertResult {
    const to = r.validTo ?? Infinity;
    this.latest = Math.max(this.latest, r.validFrom, r.validTo ?? r.validFrom);
    const entry = this.byIp.get(r.ip);
    const list = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
    const id = idKey(r.intervalId);
    const i = list.findIndex((h) => h.id === id);
    if (i >= 0) {
      const h = list[i]!;
      if (r.revision <= h.rev) return 'stale'; // equal revisions are the same row
      if (to < this.horizon) {
        list.splice(i, 1);
        this.count--;
        this.store(r.ip, list);
        return 'expired';
      }
      h.rev = r.revision;
      h.to = to;
      h.mac = this.intern(r.mac);
      h.user = this.intern(r.user);
      h.host = this.intern(r.hostname);
      h.source = sourceOf(r.source);
      if (h.from !== r.validFrom) {
        // valid_from is part of the interval's id, so this does not happen with the detector's rows; stay sorted anyway.
        h.from = r.validFrom;
        list.sort((a, b) => a.from - b.from);
        this.store(r.ip, list);
      }
      return 'revised';
    }
    if (to < this.horizon) return 'expired';
    const h: Holding = { id, rev: r.revision, from: r.validFrom, to, mac: this.intern(r.mac), user: this.intern(r.user), host: this.intern(r.hostname), source: sourceOf(r.source) };
    list.splice(lastStartingBy(list, h.from) + 1, 0, h);
    this.count++;
    this.store(r.ip, list);
    return 'inserted';
  }

  private intern(s: string | null): string | null {
    if (s === null) return null;
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  private store(ip: string, list: Holding[]): void {
    if (list.length === 0) this.byIp.delete(ip);
    else this.byIp.set(ip, list.length === 1 ? list[0]! : list);
  }

  /**
   * The interval holding `ip` at `tMs` (valid_from <= t < valid_to, open intervals unbounded), null when none.
   * When intervals overlap (an out-of-order past interval), the one that started last wins.
   */
  lookup(ip: string, tMs: number): Holding | null {
    const entry = this.byIp.get(ip);
    if (entry === undefined) return null;
    if (!Array.isArray(entry)) return entry.from <= tMs && tMs < entry.to ? entry : null;
    for (let i = lastStartingBy(entry, tMs); i >= 0; i--) {
      const h = entry[i]!;
      if (tMs < h.to) return h;
    }
    return null;
  }

  /** Every interval of an address, earliest start first (a copy). */
  intervalsOf(ip: string): Holding[] {
    const entry = this.byIp.get(ip);
    return entry === undefined ? [] : Array.isArray(entry) ? [...entry] : [entry];
  }

  /**
   * The event-time clock of the index: the newest valid_from / valid_to of any revision (-Infinity when empty).
   * Pruning by it, not by the wall clock, keeps a backfill of old logs attributable.
   */
  get clock(): number {
    return this.latest;
  }

  /** Drops intervals that closed more than retentionHours before `nowMs`; returns how many. */
  prune(nowMs: number): number {
    const horizon = nowMs - this.retentionMs;
    if (horizon > this.horizon) this.horizon = horizon;
    let dropped = 0;
    for (const [ip, entry] of this.byIp) {
      if (!Array.isArray(entry)) {
        if (entry.to < this.horizon) {
          this.byIp.delete(ip);
          dropped++;
        }
        continue;
      }
      const kept = entry.filter((h) => h.to >= this.horizon);
      if (kept.length !== entry.length) {
        dropped += entry.length - kept.length;
        this.store(ip, kept);
      }
    }
    this.count -= dropped;
    // The intern table keeps only strings still in use.
    const live = new Map<string, string>();
    for (const entry of this.byIp.values()) {
      for (const h of Array.isArray(entry) ? entry : [entry]) for (const v of [h.mac, h.user, h.host]) if (v !== null) live.set(v, v);
    }
    this.strings = live;
    return dropped;
  }
}
