// IP attribution: per IP address (the key), the interval that is open now — who holds the address (MAC, user,
// host name) since when — built from DHCP leases (dhcp), Cisco ISE sessions (ise_posture, ise_profiler) and RADIUS
// accounting sessions (ise_radius_accounting: wired / wireless / VPN). Emits rows of the gold ip_lookup table (not
// alerts): a revision of an interval when it opens, when its user or host name becomes known, and when it closes
// (release, expire, RADIUS stop, a new holder, a lapsed lease, or silence). The row with the highest revision of an
// interval_id is the current truth; `sluice query --ip --at` and the enricher answer from that.
//
// Lapse and silence: an interval ends at its lease expiry when one is known, else `maxSilenceHours` after the last
// event that confirmed it. It is closed then as soon as either the next event for the IP or the replica's event-time
// clock (the newest event time of any input row it applied) passes that end — so a lease that lapses without a log
// line does not stay open. A later explicit close (RELEASE / EXPIRE / Stop) of the same holder corrects the end.
import type { Alert } from '@sluice/slack';
import { alertId, isoOfMs } from './alertId.ts';
import { str, type Cell, type EventBatch } from './eventBatch.ts';
import type { ApplyContext, DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const IP_ATTRIBUTION_RULE = 'ip_attribution';
export const IP_LOOKUP_TABLE = 'ip_lookup';

export interface IpAttributionRuleConfig {
  dhcpTable: string;
  /** ISE tables: posture / profiler rows (endpoint_ip + MAC / user) and RADIUS accounting (rows with acct_status_type). */
  iseTables: string[];
  /** An interval without a known lease expiry ends this long after its last confirming event (0: never). */
  maxSilenceHours?: number;
}

export const DEFAULT_MAX_SILENCE_HOURS = 24;

export const DEFAULT_IP_ATTRIBUTION_CONFIG: IpAttributionRuleConfig = {
  dhcpTable: 'dhcp',
  iseTables: ['ise_posture', 'ise_profiler', 'ise_radius_accounting'],
  maxSilenceHours: DEFAULT_MAX_SILENCE_HOURS,
};

/** One input row's lineage, as [table, source, object, raw_seq]. */
type Lineage = [string, string, string, number | null];

export type HolderSource = 'dhcp' | 'ise' | 'radius' | 'vpn';

/**
 * The interval of an IP. Times are epoch ms; `e` = lease expiry (null = unknown); `r` = last emitted revision;
 * `ip` = the key (kept for the silence sweep); `c` = when it was closed by lapse / silence (it stays in the state
 * so a later explicit close of the same holder can correct the end); undefined while open.
 */
export interface IpHolder extends KeyState {
  mac: string | null;
  user: string | null;
  host: string | null;
  src: HolderSource;
  from: number;
  e: number | null;
  r: number;
  id: string;
  ev: Lineage[];
  ip?: string;
  c?: number;
}

/** What one input row says about its IP. */
interface Observation {
  kind: 'hold' | 'close';
  /** Why a close closes: release / expire / stop. */
  why?: string;
  ip: string;
  mac: string | null;
  user: string | null;
  host: string | null;
  src: HolderSource;
  t: number;
  /** Lease expiry when known (ms). */
  e: number | null;
  lineage: Lineage;
}

const CLOSING_LEASE_STATES = new Set(['freed', 'abandoned', 'released', 'expired', 'free', 'backup']);
const MAC48 = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const MAC_TEXT = /^[0-9a-f]{2}([-:.]?[0-9a-f]{2}){5}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;
const nz = (v: string): string | null => (v === '' || v === '-' ? null : v);
const num = (c: Cell | undefined): number | null => (c === null || c === undefined || c === '' ? null : Number.isFinite(Number(c)) ? Number(c) : null);
/** Event times further ahead of the wall clock than this do not move the silence clock (a skewed or bad record). */
const FUTURE_SLACK_MS = 86_400_000;

function intervalId(ip: string, mac: string | null, user: string | null, from: number): string {
  return alertId(IP_LOOKUP_TABLE, ip, mac ?? '', user ?? '', from);
}

/**
 * A RADIUS User-Name as the holder's user: MAC authentication bypass sends the MAC as the user name (not a user),
 * and machine authentication sends `host/<name>` (the host name, not a user).
 */
export function radiusIdentity(userName: string | null): { user: string | null; host: string | null } {
  if (userName === null) return { user: null, host: null };
  if (MAC_TEXT.test(userName.toLowerCase())) return { user: null, host: null };
  if (userName.toLowerCase().startsWith('host/')) return { user: null, host: nz(userName.slice(5)) };
  return { user: userName, host: null };
}

/** The partition's silence sweep: open intervals by the time they end unless confirmed again (a min-heap). */
interface SilenceQueue {
  heap: { d: number; ip: string; h: IpHolder }[];
}

function heapPush(q: SilenceQueue, item: SilenceQueue['heap'][number]): void {
  const a = q.heap;
  a.push(item);
  for (let i = a.length - 1; i > 0; ) {
    const p = (i - 1) >> 1;
    if (a[p]!.d <= a[i]!.d) break;
    [a[p], a[i]] = [a[i]!, a[p]!];
    i = p;
  }
}

function heapPop(q: SilenceQueue): SilenceQueue['heap'][number] | undefined {
  const a = q.heap;
  const top = a[0];
  const last = a.pop();
  if (a.length > 0 && last) {
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.d < a[m]!.d) m = l;
      if (r < a.length && a[r]!.d < a[m]!.d) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
  }
  return top;
}

export function ipAttributionRule(cfg: IpAttributionRuleConfig = DEFAULT_IP_ATTRIBUTION_CONFIG): DetectionRule<IpHolder, SilenceQueue> {
  const ise = new Set(cfg.iseTables);
  const silenceMs = (cfg.maxSilenceHours ?? DEFAULT_MAX_SILENCE_HOURS) * 3_600_000;
  /** The replica's event-time clock: the newest event time among the rows it applied (see the header). */
  let clock = -Infinity;
  /** Holders decoded by the restore in progress; the partition's queue is rebuilt from them (see partitionState). */
  const restored: IpHolder[] = [];

  /** When an open interval ends unless confirmed again: its lease expiry, else last event + max silence. */
  const endOf = (h: IpHolder): number | null => h.e ?? (silenceMs > 0 ? h.t + silenceMs : null);
  const track = (q: SilenceQueue, ip: string, h: IpHolder) => {
    const d = endOf(h);
    if (d !== null) heapPush(q, { d, ip, h });
  };

  /** Emits the current revision of `h` as an ip_lookup row (valid_to / closed_by set when it closes). */
  const emit = (ctx: ApplyContext, ip: string, h: IpHolder, validTo: number | null, closedBy: string | null) => {
    const row = {
      ip,
      mac: h.mac,
      user: h.user,
      hostname: h.host,
      source: h.src,
      valid_from: isoOfMs(h.from),
      valid_to: validTo === null ? null : isoOfMs(validTo),
      lease_expires: h.e === null ? null : isoOfMs(h.e),
      closed_by: closedBy,
      interval_id: h.id,
      revision: h.r,
      emitted_time: ctx.nowIso,
      evidence: JSON.stringify(h.ev.map(([table, source, object, raw_seq]) => ({ table, source, object, raw_seq }))),
    };
    const last = h.ev.at(-1);
    const carrier: Alert = {
      alert_id: alertId(IP_ATTRIBUTION_RULE, h.id, h.r),
      rule: IP_ATTRIBUTION_RULE,
      severity: 'low',
      title: `${ip} held by ${h.mac ?? h.user ?? '?'}`,
      entity: ip,
      event_time: isoOfMs(validTo ?? h.from),
      created_time: ctx.nowIso,
      detail: row,
      evidence: last ? [{ table: last[0], source: last[1], object: last[2], raw_seq: last[3] }] : [],
    };
    ctx.emit(carrier);
  };

  const open = (ctx: ApplyContext<SilenceQueue>, o: Observation): IpHolder => {
    const h: IpHolder = { t: o.t, mac: o.mac, user: o.user, host: o.host, src: o.src, from: o.t, e: o.e, r: 0, id: intervalId(o.ip, o.mac, o.user, o.t), ev: [o.lineage], ip: o.ip };
    emit(ctx, o.ip, h, null, null);
    track(ctx.local, o.ip, h);
    return h;
  };

  /** Closes `h` at `at` (revision + 1) and returns nothing: the IP has no open interval afterwards. */
  const close = (ctx: ApplyContext, ip: string, h: IpHolder, at: number, why: string, lineage: Lineage | null) => {
    h.r++;
    h.c = Math.max(at, h.from); // also tells the silence queue the interval is gone
    if (lineage) h.ev = [...h.ev.slice(0, 3), lineage];
    emit(ctx, ip, h, h.c, why);
  };

  /** Lapse / silence: closes `h` at its end and keeps it in the state, closed, for a correcting explicit close. */
  const lapse = (ctx: ApplyContext, ip: string, h: IpHolder, end: number) => close(ctx, ip, h, end, h.e !== null ? 'lease_lapsed' : 'silence', null);

  /** No contradiction: MACs equal when both are known, users equal when both are known (ISE fills a DHCP user). */
  const sameHolder = (h: IpHolder, o: Observation): boolean => (!h.mac || !o.mac || h.mac === o.mac) && (!h.user || !o.user || h.user === o.user);

  /** Late (out of order): a different holder before the interval held it until that interval began. */
  const pastInterval = (ctx: ApplyContext, o: Observation, next: IpHolder) => {
    const past: IpHolder = { t: o.t, mac: o.mac, user: o.user, host: o.host, src: o.src, from: o.t, e: o.e, r: 0, id: intervalId(o.ip, o.mac, o.user, o.t), ev: [o.lineage] };
    const end = past.e !== null && past.e < next.from ? past.e : next.from;
    emit(ctx, o.ip, past, end, past.e !== null && past.e < next.from ? 'lease_lapsed' : 'new_holder');
  };

  /** An observation for an IP whose interval was closed by lapse / silence at `h.c`. */
  const afterLapse = (ctx: ApplyContext<SilenceQueue>, h: IpHolder, o: Observation): IpHolder | undefined => {
    if (o.kind === 'close') {
      // The holder's own RELEASE / EXPIRE / Stop after the guessed end: it held the address until then.
      if (sameHolder(h, o) && o.t > h.c!) {
        h.r++;
        h.c = o.t;
        h.ev = [...h.ev.slice(0, 3), o.lineage];
        emit(ctx, o.ip, h, o.t, o.why!);
        return undefined;
      }
      return h;
    }
    if (o.t >= h.c!) return open(ctx, o); // seen again after the end: a new interval (the gap stays unattributed)
    if (o.t < h.from && !sameHolder(h, o)) pastInterval(ctx, o, h);
    return h; // a late event inside the closed interval changes nothing
  };

  /** Closes, at their end, the queued intervals that the event-time clock has passed (the partition's afterBatch). */
  const sweep = (q: SilenceQueue, ctx: ApplyContext<SilenceQueue>) => {
    while (q.heap.length > 0 && q.heap[0]!.d < clock) {
      const { d, ip, h } = heapPop(q)!;
      if (h.c !== undefined) continue; // closed or replaced meanwhile
      const end = endOf(h);
      if (end === null) continue;
      if (end > d) heapPush(q, { d: end, ip, h }); // confirmed again since it was queued
      else lapse(ctx, ip, h, end);
    }
  };

  return {
    name: IP_ATTRIBUTION_RULE,
    reads: 'events',
    inputs: [cfg.dhcpTable, ...cfg.iseTables],
    emitsTable: IP_LOOKUP_TABLE,
    encodeState: (s) => [s.t, s.mac, s.user, s.host, s.src, s.from, s.e, s.r, s.id, s.ev, s.ip ?? null, s.c ?? null],
    decodeState(v) {
      const [t, mac, user, host, src, from, e, r, id, ev, ip, c] = v as [number, string | null, string | null, string | null, HolderSource, number, number | null, number, string, Lineage[], string | null | undefined, number | null | undefined];
      const h: IpHolder = { t, mac, user, host, src, from, e, r, id, ev };
      if (ip) h.ip = ip;
      if (c !== null && c !== undefined) h.c = c;
      if (h.ip && h.c === undefined) restored.push(h);
      return h;
    },
    // The silence queue is not snapshotted: DetectorRuntime.restore creates the partition (create), decodes its keys
    // (decodeState collects the open ones) and then decodes the local state, which queues exactly those.
    partitionState: {
      create: () => {
        restored.length = 0;
        return { heap: [] };
      },
      afterBatch: sweep,
      encode: () => 0,
      decode: () => {
        const q: SilenceQueue = { heap: [] };
        for (const h of restored) track(q, h.ip!, h);
        restored.length = 0;
        return q;
      },
    },
    prepare(batch: EventBatch): PreparedBatch<IpHolder, SilenceQueue> | null {
      const isDhcp = batch.input === cfg.dhcpTable;
      if (!isDhcp && !ise.has(batch.input)) return null;
      const ts = batch.column('timestamp');
      const source = batch.column('_source');
      const object = batch.column('_object');
      const rawSeq = batch.column('_raw_seq');
      const status = isDhcp ? undefined : batch.column('acct_status_type');
      const portType = status ? batch.column('nas_port_type') : undefined;
      const c = isDhcp
        ? { type: batch.column('event_type'), ip: batch.column('ip'), mac: batch.column('mac'), host: batch.column('hostname'), dur: batch.column('lease_duration'), leaseEnd: batch.column('lease_end'), leaseState: batch.column('lease_state') }
        : { ip: batch.column('endpoint_ip'), mac: batch.column('endpoint_mac'), user: batch.column('user_name'), host: batch.column('endpoint_hostname') ?? batch.column('system_name') };
      if (!ts || !c.ip) return null;
      const now = Date.now();

      let lastRow = -1;
      let lastObs: Observation | null = null;
      const observe = (r: number): Observation | null => {
        if (r === lastRow) return lastObs;
        lastRow = r;
        lastObs = null;
        const ip = str(c.ip?.[r]);
        const t = num(ts[r]);
        if (!ip || t === null) return null;
        const lineage: Lineage = [batch.input, str(source?.[r]), str(object?.[r]), num(rawSeq?.[r])];
        const mac = nz(str(c.mac?.[r]).toLowerCase());
        const host = nz(str(c.host?.[r]));
        if (!('type' in c) && status) {
          // RADIUS accounting: Start / Interim-Update hold the framed IP for the session, Stop ends it.
          const type = str(status[r]);
          const id = radiusIdentity(nz(str(c.user?.[r])));
          const src: HolderSource = str(portType?.[r]).toLowerCase() === 'virtual' ? 'vpn' : 'radius';
          const holder = { ip, mac: mac && MAC48.test(mac) ? mac : null, user: id.user, host: id.host ?? host, src, t, e: null, lineage };
          if (type === 'Stop') lastObs = { kind: 'close', why: 'stop', ...holder };
          else if ((type === 'Start' || type === 'Interim-Update') && (holder.mac || holder.user)) lastObs = { kind: 'hold', ...holder };
          return lastObs;
        }
        if (!('type' in c)) {
          const user = nz(str(c.user?.[r]));
          if (!mac && !user) return null;
          lastObs = { kind: 'hold', ip, mac, user, host, src: 'ise', t, e: null, lineage };
          return lastObs;
        }
        const type = str(c.type?.[r]).toUpperCase();
        if (type === 'ACK' || type === 'LEASE') {
          const state = str(c.leaseState?.[r]).toLowerCase();
          if (type === 'LEASE' && CLOSING_LEASE_STATES.has(state)) {
            lastObs = { kind: 'close', why: state.startsWith('expire') ? 'expire' : 'release', ip, mac, user: null, host, src: 'dhcp', t, e: null, lineage };
            return lastObs;
          }
          if (!mac) return null;
          const dur = num(c.dur?.[r]);
          const end = num(c.leaseEnd?.[r]);
          lastObs = { kind: 'hold', ip, mac, user: null, host, src: 'dhcp', t, e: end ?? (dur === null ? null : t + dur * 1000), lineage };
          return lastObs;
        }
        if (type === 'RELEASE' || type === 'EXPIRE') {
          lastObs = { kind: 'close', why: type.toLowerCase(), ip, mac, user: null, host, src: 'dhcp', t, e: null, lineage };
          return lastObs;
        }
        return null;
      };

      return {
        key: (r) => observe(r)?.ip ?? null,
        eventTimeMs: (r) => num(ts[r]) ?? 0,
        apply(prev, r, ctx) {
          const o = observe(r)!;
          if (o.t > clock && o.t <= now + FUTURE_SLACK_MS) clock = o.t;
          if (prev && prev.ip === undefined) prev.ip = o.ip; // restored from a snapshot taken before ip was kept
          if (prev && prev.c === undefined && o.t >= prev.from) {
            // A lease that ran out, or an interval silent for too long, before this event ended at its end.
            const end = endOf(prev);
            if (end !== null && end < o.t) lapse(ctx, o.ip, prev, end);
          }
          if (prev && prev.c !== undefined) return afterLapse(ctx, prev, o);
          if (o.kind === 'close') {
            // A close for another holder, or older than the open interval, belongs to an interval already replaced.
            if (!prev || !sameHolder(prev, o) || o.t < prev.from) return prev;
            close(ctx, o.ip, prev, o.t, o.why!, o.lineage);
            return undefined;
          }
          if (!prev) return open(ctx, o);
          if (o.t < prev.from) {
            if (!sameHolder(prev, o)) pastInterval(ctx, o, prev);
            return prev;
          }
          if (!sameHolder(prev, o)) {
            // The new holder ends the open interval now.
            close(ctx, o.ip, prev, o.t, 'new_holder', null);
            return open(ctx, o);
          }
          // Same holder: a renewal extends the lease silently; new facts (user, host name) make a new revision.
          prev.t = Math.max(prev.t, o.t);
          if (o.e !== null && (prev.e === null || o.e > prev.e)) prev.e = o.e;
          let changed = false;
          if (o.user && !prev.user) {
            prev.user = o.user;
            changed = true;
          }
          if (o.mac && !prev.mac) {
            prev.mac = o.mac;
            changed = true;
          }
          if (o.host && o.host !== prev.host) {
            prev.host = o.host;
            changed = true;
          }
          if (changed) {
            prev.r++;
            prev.ev = [...prev.ev.slice(0, 3), o.lineage];
            emit(ctx, o.ip, prev, null, null);
          }
          return prev;
        },
      };
    },
  };
}
