// Detection rule 4: Zeek notice ⨝ conn on `uid` within a time window, over two streams that arrive in any order,
// with an event-time watermark so state stays bounded. Pure (no I/O): the detector feeds rows, calls `advance`
// after each batch, turns the results into alerts and snapshots `snapshot()` as JSON.
//
// Times are epoch microseconds (the tables' `ts`); conn `duration` is seconds.
//  - A notice joins the conn with its uid when  conn.ts − window ≤ notice.ts ≤ conn.ts + duration + window.
//  - Watermark = max(event time seen) − lateness (or a higher value given to `advance`). Events older than the
//    watermark are late; the watermark only moves forward.
//  - A conn is kept until the watermark passes conn.ts + duration + window; a notice waits for its conn until the
//    watermark passes notice.ts + window, then is emitted alone (`unjoined: 'emit'`) or dropped.
//  - The same notice (uid, note, ts) seen twice joins once.

export type ZeekRow = Record<string, unknown>;

export interface ZeekJoinConfig {
  /** Join window around the connection (µs). */
  windowMicros: number;
  /** Allowed lateness behind the highest event time seen (µs). */
  latenessMicros: number;
  /** Notices never joined (expired, or without uid): emitted alone or dropped. Default 'emit'. */
  unjoined?: 'emit' | 'drop';
  /** Notices arriving after their whole window is behind the watermark: emitted alone or dropped. Default 'emit'. */
  late?: 'emit' | 'drop';
  /** Conn columns kept in state and returned in joins (null when the row lacks one); default `DEFAULT_CONN_FIELDS`. */
  connFields?: readonly string[];
}

/** Conn columns kept per open connection: the connection context of an alert and the lineage for its evidence. */
export const DEFAULT_CONN_FIELDS = [
  'ts',
  'uid',
  'id_orig_h',
  'id_orig_p',
  'id_resp_h',
  'id_resp_p',
  'proto',
  'service',
  'duration',
  'orig_bytes',
  'resp_bytes',
  'conn_state',
  'history',
  'community_id',
  '_source',
  '_object',
  '_raw_seq',
] as const;

export type ZeekJoinResult =
  | { kind: 'joined'; key: string; notice: ZeekRow; conn: ZeekRow }
  | { kind: 'alone'; key: string; notice: ZeekRow; reason: 'expired' | 'late' | 'no_uid' };

export interface AdvanceResult {
  watermark: number;
  expiredConns: number;
  /** Notices whose wait ended unjoined (empty when `unjoined: 'drop'`). */
  results: ZeekJoinResult[];
  droppedNotices: number;
}

export interface ZeekJoinCounters {
  conns: number;
  notices: number;
  joined: number;
  duplicateConns: number;
  duplicateNotices: number;
  /** Conns that arrived with their whole window behind the watermark (checked against waiting notices, not kept). */
  lateConns: number;
  lateNotices: number;
  expiredConns: number;
  expiredNotices: number;
  invalid: number;
}

export interface ZeekJoinSnapshot {
  version: 1;
  watermark: number;
  maxEventTime: number;
  conns: { row: ZeekRow; end: number; joined: string[] }[];
  pending: ZeekRow[];
  counters: ZeekJoinCounters;
}

/** Min-heap of (time, uid) with lazy deletion: entries are checked against the live state when popped. */
class TimeHeap {
  private t: number[] = [];
  private v: string[] = [];
  get size(): number {
    return this.t.length;
  }
  push(time: number, value: string): void {
    const t = this.t;
    const v = this.v;
    let i = t.length;
    t.push(time);
    v.push(value);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      v[i] = v[p]!;
      i = p;
    }
    t[i] = time;
    v[i] = value;
  }
  peek(): number {
    return this.t.length === 0 ? Infinity : this.t[0]!;
  }
  pop(): string {
    const t = this.t;
    const v = this.v;
    const top = v[0]!;
    const lt = t.pop()!;
    const lv = v.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lt) break;
        t[i] = t[c]!;
        v[i] = v[c]!;
        i = c;
      }
      t[i] = lt;
      v[i] = lv;
    }
    return top;
  }
}

// An open conn. Its columns are kept as one JSON array text: a string costs far less than an object with a dozen
// properties (doubles boxed), and only the rare conn that joins a notice is decoded again.
class ConnEntry {
  constructor(
    readonly packed: string,
    readonly ts: number,
    readonly end: number,
    public joined: string[] | null,
  ) {}
}

interface PendingNotice {
  row: ZeekRow;
  ts: number;
  key: string;
}

function micros(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

function uidOf(row: ZeekRow): string | null {
  const u = row.uid;
  return typeof u === 'string' && u !== '' && u !== '-' ? u : null;
}

/** Identity of a notice for de-duplication and stable alert ids: uid, note and ts. */
export function noticeKey(row: ZeekRow): string {
  return `${String(row.uid ?? '')}\u0000${String(row.note ?? '')}\u0000${String(row.ts ?? '')}`;
}

export class ZeekJoin {
  private readonly window: number;
  private readonly lateness: number;
  private readonly unjoined: 'emit' | 'drop';
  private readonly late: 'emit' | 'drop';
  private readonly fields: readonly string[];
  private readonly conns = new Map<string, ConnEntry>();
  private readonly connHeap = new TimeHeap();
  private readonly pending = new Map<string, PendingNotice[]>();
  private readonly noticeHeap = new TimeHeap();
  private wm = -Infinity;
  private maxSeen = -Infinity;
  readonly counters: ZeekJoinCounters = {
    conns: 0,
    notices: 0,
    joined: 0,
    duplicateConns: 0,
    duplicateNotices: 0,
    lateConns: 0,
    lateNotices: 0,
    expiredConns: 0,
    expiredNotices: 0,
    invalid: 0,
  };

  constructor(cfg: ZeekJoinConfig) {
    this.window = cfg.windowMicros;
    this.lateness = cfg.latenessMicros;
    this.unjoined = cfg.unjoined ?? 'emit';
    this.late = cfg.late ?? 'emit';
    this.fields = cfg.connFields ?? DEFAULT_CONN_FIELDS;
  }

  get watermark(): number {
    return this.wm;
  }
  get openConns(): number {
    return this.conns.size;
  }
  get waitingNotices(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  private pack(row: ZeekRow): string {
    const vals: unknown[] = new Array(this.fields.length);
    for (let i = 0; i < this.fields.length; i++) {
      const v = row[this.fields[i]!];
      vals[i] = v === undefined ? null : typeof v === 'bigint' ? Number(v) : v;
    }
    return JSON.stringify(vals);
  }

  private unpack(packed: string): ZeekRow {
    const vals = JSON.parse(packed) as unknown[];
    const out: ZeekRow = {};
    for (let i = 0; i < this.fields.length; i++) out[this.fields[i]!] = vals[i] ?? null;
    return out;
  }

  private fits(noticeTs: number, c: ConnEntry): boolean {
    return noticeTs >= c.ts - this.window && noticeTs <= c.end + this.window;
  }

  private seen(ts: number): void {
    if (ts > this.maxSeen) this.maxSeen = ts;
  }

  /** A conn row: returns the joins with notices that were waiting for it. */
  addConn(row: ZeekRow): ZeekJoinResult[] {
    const uid = uidOf(row);
    const ts = micros(row.ts);
    if (uid === null || ts === null) {
      this.counters.invalid++;
      return [];
    }
    this.counters.conns++;
    this.seen(ts);
    if (this.conns.has(uid)) {
      this.counters.duplicateConns++;
      return [];
    }
    const dur = typeof row.duration === 'number' && row.duration > 0 ? row.duration : 0;
    const entry = new ConnEntry(this.pack(row), ts, ts + Math.round(dur * 1e6), null);
    const out: ZeekJoinResult[] = [];
    const waiting = this.pending.get(uid);
    if (waiting) {
      const keep: PendingNotice[] = [];
      for (const p of waiting) {
        if (this.fits(p.ts, entry)) {
          (entry.joined ??= []).push(p.key);
          out.push({ kind: 'joined', key: p.key, notice: p.row, conn: this.unpack(entry.packed) });
          this.counters.joined++;
        } else keep.push(p);
      }
      if (keep.length === 0) this.pending.delete(uid);
      else this.pending.set(uid, keep);
    }
    const expiry = entry.end + this.window;
    if (expiry < this.wm) {
      this.counters.lateConns++;
      return out;
    }
    this.conns.set(uid, entry);
    this.connHeap.push(expiry, uid);
    return out;
  }

  /** A notice row: returns its join if its conn is held, or its alone result if it can never join. */
  addNotice(row: ZeekRow): ZeekJoinResult[] {
    const ts = micros(row.ts);
    if (ts === null) {
      this.counters.invalid++;
      return [];
    }
    this.counters.notices++;
    this.seen(ts);
    const key = noticeKey(row);
    const uid = uidOf(row);
    if (uid === null) return this.unjoined === 'emit' ? [{ kind: 'alone', key, notice: row, reason: 'no_uid' }] : [];
    const c = this.conns.get(uid);
    if (c && this.fits(ts, c)) {
      if (c.joined?.includes(key)) {
        this.counters.duplicateNotices++;
        return [];
      }
      (c.joined ??= []).push(key);
      this.counters.joined++;
      return [{ kind: 'joined', key, notice: row, conn: this.unpack(c.packed) }];
    }
    const waiting = this.pending.get(uid);
    if (waiting?.some((p) => p.key === key)) {
      this.counters.duplicateNotices++;
      return [];
    }
    if (ts + this.window < this.wm) {
      this.counters.lateNotices++;
      return this.late === 'emit' ? [{ kind: 'alone', key, notice: row, reason: 'late' }] : [];
    }
    const p: PendingNotice = { row, ts, key };
    if (waiting) waiting.push(p);
    else this.pending.set(uid, [p]);
    this.noticeHeap.push(ts + this.window, uid);
    return [];
  }

  /**
   * Moves the watermark to max(current, `watermark` ?? max event time seen − lateness) and expires what it
   * passed: conns whose window ended, notices whose wait ended (emitted alone or dropped).
   */
  advance(watermark?: number): AdvanceResult {
    const target = watermark ?? this.maxSeen - this.lateness;
    if (target > this.wm) this.wm = target;
    const wm = this.wm;
    let expiredConns = 0;
    while (this.connHeap.peek() < wm) {
      const uid = this.connHeap.pop();
      const c = this.conns.get(uid);
      if (c && c.end + this.window < wm) {
        this.conns.delete(uid);
        expiredConns++;
      }
    }
    const results: ZeekJoinResult[] = [];
    let dropped = 0;
    while (this.noticeHeap.peek() < wm) {
      const uid = this.noticeHeap.pop();
      const waiting = this.pending.get(uid);
      if (!waiting) continue;
      const keep: PendingNotice[] = [];
      for (const p of waiting) {
        if (p.ts + this.window < wm) {
          this.counters.expiredNotices++;
          if (this.unjoined === 'emit') results.push({ kind: 'alone', key: p.key, notice: p.row, reason: 'expired' });
          else dropped++;
        } else keep.push(p);
      }
      if (keep.length === 0) this.pending.delete(uid);
      else this.pending.set(uid, keep);
    }
    this.counters.expiredConns += expiredConns;
    return { watermark: wm, expiredConns, results, droppedNotices: dropped };
  }

  /** JSON-serialisable state (rows must hold JSON values: table rows do). */
  snapshot(): ZeekJoinSnapshot {
    const conns: ZeekJoinSnapshot['conns'] = [];
    for (const c of this.conns.values()) conns.push({ row: this.unpack(c.packed), end: c.end, joined: c.joined ?? [] });
    const pending: ZeekRow[] = [];
    for (const l of this.pending.values()) for (const p of l) pending.push(p.row);
    return { version: 1, watermark: this.wm, maxEventTime: this.maxSeen, conns, pending, counters: { ...this.counters } };
  }

  /** Rebuilds a join from `snapshot()` output (after JSON round trip: ±Infinity watermarks become null). */
  static restore(cfg: ZeekJoinConfig, snap: ZeekJoinSnapshot): ZeekJoin {
    const j = new ZeekJoin(cfg);
    j.wm = micros(snap.watermark) ?? -Infinity;
    j.maxSeen = micros(snap.maxEventTime) ?? -Infinity;
    for (const { row, end, joined } of snap.conns) {
      const ts = micros(row.ts);
      const uid = uidOf(row);
      if (ts === null || uid === null) continue;
      const e = new ConnEntry(j.pack(row), ts, micros(end) ?? ts, joined.length ? [...joined] : null);
      j.conns.set(uid, e);
      j.connHeap.push(e.end + j.window, uid);
    }
    for (const row of snap.pending) {
      const ts = micros(row.ts);
      const uid = uidOf(row);
      if (ts === null || uid === null) continue;
      const p: PendingNotice = { row, ts, key: noticeKey(row) };
      const l = j.pending.get(uid);
      if (l) l.push(p);
      else j.pending.set(uid, [p]);
      j.noticeHeap.push(ts + j.window, uid);
    }
    Object.assign(j.counters, snap.counters);
    return j;
  }
}
