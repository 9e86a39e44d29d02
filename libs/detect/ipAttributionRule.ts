// IP attribution: per IP address (the key), the interval that is open now — who holds the address (MAC, user,
// host name) since when — built from DHCP leases (dhcp) and Cisco ISE sessions (ise_posture, ise_profiler). Emits
// rows of the gold ip_lookup table (not alerts): a revision of an interval when it opens, when its user or host
// name becomes known, and when it closes (release, expire, a new holder, or a lapsed lease). The row with the
// highest revision of an interval_id is the current truth; `sluice query --ip --at` answers from that.
import type { Alert } from '@sluice/slack';
import { alertId, isoOfMs } from './alertId.ts';
import { str, type Cell, type EventBatch } from './eventBatch.ts';
import type { ApplyContext, DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const IP_ATTRIBUTION_RULE = 'ip_attribution';
export const IP_LOOKUP_TABLE = 'ip_lookup';

export interface IpAttributionRuleConfig {
  dhcpTable: string;
  iseTables: string[];
}

export const DEFAULT_IP_ATTRIBUTION_CONFIG: IpAttributionRuleConfig = { dhcpTable: 'dhcp', iseTables: ['ise_posture', 'ise_profiler'] };

/** One input row's lineage, as [table, source, object, raw_seq]. */
type Lineage = [string, string, string, number | null];

/** The open interval of an IP. Times are epoch ms; `e` = lease expiry (null = unknown); `r` = last emitted revision. */
export interface IpHolder extends KeyState {
  mac: string | null;
  user: string | null;
  host: string | null;
  src: 'dhcp' | 'ise';
  from: number;
  e: number | null;
  r: number;
  id: string;
  ev: Lineage[];
}

/** What one input row says about its IP. */
interface Observation {
  kind: 'hold' | 'close';
  /** Why a close closes: release / expire. */
  why?: string;
  ip: string;
  mac: string | null;
  user: string | null;
  host: string | null;
  src: 'dhcp' | 'ise';
  t: number;
  /** Lease expiry when known (ms). */
  e: number | null;
  lineage: Lineage;
}

const CLOSING_LEASE_STATES = new Set(['freed', 'abandoned', 'released', 'expired', 'free', 'backup']);
const nz = (v: string): string | null => (v === '' || v === '-' ? null : v);
const num = (c: Cell | undefined): number | null => (c === null || c === undefined || c === '' ? null : Number.isFinite(Number(c)) ? Number(c) : null);

function intervalId(ip: string, mac: string | null, user: string | null, from: number): string {
  return alertId(IP_LOOKUP_TABLE, ip, mac ?? '', user ?? '', from);
}

export function ipAttributionRule(cfg: IpAttributionRuleConfig = DEFAULT_IP_ATTRIBUTION_CONFIG): DetectionRule<IpHolder> {
  const ise = new Set(cfg.iseTables);

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

  const open = (ctx: ApplyContext, o: Observation): IpHolder => {
    const h: IpHolder = { t: o.t, mac: o.mac, user: o.user, host: o.host, src: o.src, from: o.t, e: o.e, r: 0, id: intervalId(o.ip, o.mac, o.user, o.t), ev: [o.lineage] };
    emit(ctx, o.ip, h, null, null);
    return h;
  };

  /** Closes `h` at `at` (revision + 1) and returns nothing: the IP has no open interval afterwards. */
  const close = (ctx: ApplyContext, ip: string, h: IpHolder, at: number, why: string, lineage: Lineage | null) => {
    h.r++;
    if (lineage) h.ev = [...h.ev.slice(0, 3), lineage];
    emit(ctx, ip, h, Math.max(at, h.from), why);
  };

  /** No contradiction: MACs equal when both are known, users equal when both are known (ISE fills a DHCP user). */
  const sameHolder = (h: IpHolder, o: Observation): boolean => (!h.mac || !o.mac || h.mac === o.mac) && (!h.user || !o.user || h.user === o.user);

  return {
    name: IP_ATTRIBUTION_RULE,
    reads: 'events',
    inputs: [cfg.dhcpTable, ...cfg.iseTables],
    emitsTable: IP_LOOKUP_TABLE,
    encodeState: (s) => [s.t, s.mac, s.user, s.host, s.src, s.from, s.e, s.r, s.id, s.ev],
    decodeState(v) {
      const [t, mac, user, host, src, from, e, r, id, ev] = v as [number, string | null, string | null, string | null, 'dhcp' | 'ise', number, number | null, number, string, Lineage[]];
      return { t, mac, user, host, src, from, e, r, id, ev };
    },
    prepare(batch: EventBatch): PreparedBatch<IpHolder> | null {
      const isDhcp = batch.input === cfg.dhcpTable;
      if (!isDhcp && !ise.has(batch.input)) return null;
      const ts = batch.column('timestamp');
      const source = batch.column('_source');
      const object = batch.column('_object');
      const rawSeq = batch.column('_raw_seq');
      const c = isDhcp
        ? { type: batch.column('event_type'), ip: batch.column('ip'), mac: batch.column('mac'), host: batch.column('hostname'), dur: batch.column('lease_duration'), leaseEnd: batch.column('lease_end'), leaseState: batch.column('lease_state') }
        : { ip: batch.column('endpoint_ip'), mac: batch.column('endpoint_mac'), user: batch.column('user_name'), host: batch.column('endpoint_hostname') ?? batch.column('system_name') };
      if (!ts || !c.ip) return null;

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
          if (o.kind === 'close') {
            // A close for another MAC, or older than the open interval, belongs to an interval already replaced.
            if (!prev || (o.mac && prev.mac && o.mac !== prev.mac) || o.t < prev.from) return prev;
            close(ctx, o.ip, prev, o.t, o.why!, o.lineage);
            return undefined;
          }
          if (!prev) return open(ctx, o);
          if (o.t < prev.from) {
            // Late (out of order): a different holder before the open interval held it until that interval began.
            if (!sameHolder(prev, o)) {
              const past: IpHolder = { t: o.t, mac: o.mac, user: o.user, host: o.host, src: o.src, from: o.t, e: o.e, r: 0, id: intervalId(o.ip, o.mac, o.user, o.t), ev: [o.lineage] };
              const end = past.e !== null && past.e < prev.from ? past.e : prev.from;
              emit(ctx, o.ip, past, end, past.e !== null && past.e < prev.from ? 'lease_lapsed' : 'new_holder');
            }
            return prev;
          }
          const lapsed = prev.e !== null && prev.e < o.t;
          if (!sameHolder(prev, o) || lapsed) {
            // A lease that ran out before this event ended at its expiry; otherwise the new holder ends it now.
            close(ctx, o.ip, prev, lapsed ? prev.e! : o.t, lapsed ? 'lease_lapsed' : 'new_holder', null);
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
