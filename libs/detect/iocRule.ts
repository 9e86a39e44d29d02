// Detection 3 as a detector rule: rows of the mapped tables (iocMapping) matched against the indicator index
// (iocIndex). The index is rule-wide: the `iocs` table is a broadcast input every replica applies in full (its host
// loads the Delta table first, see services/detector/iocLoader.ts). The per-key state is the once-per-24 h
// suppression of one device: (IoC type, IoC) → event time (µs) of the match that opened the current window.
import type { Severity } from '@sluice/slack';
import { isoOfMs, sqlString } from './alertId.ts';
import { str, type Cell, type EventBatch } from './eventBatch.ts';
import { IocIndex, type IocHit, type IocRow, type RegisteredDomainOf } from './iocIndex.ts';
import { DAY_MICROS, entriesFor, iocAlertId, IOC_RULE, type IocMapping, type IocMappingEntry } from './iocMapping.ts';
import type { DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export { IOC_RULE };

export interface IocRuleConfig {
  mapping: IocMapping;
  /** Table of indicators (a broadcast input). */
  iocTable: string;
  /** Registered domain of a DNS name, for `alsoRegisteredDomain` entries; absent = exact names only. */
  registeredDomainOf?: RegisteredDomainOf;
  /** Severity from the highest confidence of the matching feed rows: ≥ high → high, ≥ medium → medium, else low. */
  severity: { high: number; medium: number; unknown: Severity };
  /** A suppression entry is kept this long past its 24 h window, for late events. */
  latenessMinutes: number;
}

export const DEFAULT_IOC_RULE_CONFIG: Omit<IocRuleConfig, 'mapping'> = {
  iocTable: 'iocs',
  severity: { high: 75, medium: 40, unknown: 'medium' },
  latenessMinutes: 60,
};

/**
 * A device's suppression windows: `k[i]` = `device \0 type \0 ioc`, opened at `o[i]` (event time, µs), last used at
 * `u[i]` (processing time, ms). A key may have several windows: out-of-order events more than 24 h apart each open
 * their own, and each is kept until it is both closed in event time and unused for a day of processing time, so a
 * backfill or an unordered stream revisiting an old window is suppressed instead of alerting on every event.
 */
export interface DeviceSuppression extends KeyState {
  k: string[];
  o: number[];
  u: number[];
}

const DAY_MS = 86_400_000;

export interface IocRule extends DetectionRule<DeviceSuppression> {
  readonly index: IocIndex;
}

interface RowMatch {
  entry: IocMappingEntry;
  device: string;
  observed: string;
  /** Event time (µs) the validity was checked at. */
  t: number;
  hits: IocHit[];
}

const NO_DEVICE = '(unknown device)';
/** The matches of a row without any (shared: never written). */
const NO_MATCHES: RowMatch[] = [];

function cellText(v: Cell | undefined): string | null {
  if (typeof v === 'string') return v === '' || v === '-' ? null : v;
  if (typeof v === 'number') return String(v);
  return null;
}

function num(v: Cell | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const TEMPLATE_FIELD = /\{([^}]+)\}/g;

export function iocRule(cfg: IocRuleConfig, index = new IocIndex(1 << 16)): IocRule {
  const lateMicros = cfg.latenessMinutes * 60_000_000;
  const severityOf = (hits: IocHit[]): Severity => {
    let best: number | null = null;
    for (const h of hits) if (h.confidence !== null && (best === null || h.confidence > best)) best = h.confidence;
    if (best === null) return cfg.severity.unknown;
    return best >= cfg.severity.high ? 'high' : best >= cfg.severity.medium ? 'medium' : 'low';
  };

  return {
    name: IOC_RULE,
    reads: 'events',
    index,
    inputs: [...new Set(cfg.mapping.map((e) => e.table))],
    broadcast: {
      inputs: [cfg.iocTable],
      apply(batch: EventBatch): number {
        const c = (n: string) => batch.column(n);
        const [ind, type, ds, first, last, conf, threat, ev, ingest] = ['indicator', 'type', 'dataset', 'first_seen', 'last_seen', 'confidence', 'threat', 'event_name', '_ingest_time'].map(c);
        if (!ind || !type || !first) return 0;
        const rows: IocRow[] = [];
        for (let r = 0; r < batch.numRows; r++) {
          const f = num(first[r]);
          const l = num(last?.[r]);
          const v = num(ingest?.[r]);
          // Arrow timestamps arrive in ms; the index holds µs like the table.
          rows.push({
            indicator: str(ind[r]),
            type: str(type[r]),
            dataset: str(ds?.[r]),
            first_seen: f === null ? NaN : Math.round(f * 1000),
            last_seen: l === null ? null : Math.round(l * 1000),
            confidence: num(conf?.[r]),
            threat: cellText(threat?.[r]),
            event_name: cellText(ev?.[r]),
            version: v === null ? null : Math.round(v * 1000),
          });
        }
        index.upsert(rows);
        return rows.length;
      },
    },
    encodeState: (s) => [s.t, s.k, s.o, s.u],
    decodeState(v) {
      // Snapshots from before `u` existed: their windows count as used at restore time.
      const [t, k, o, u] = v as [number, string[], number[], number[] | undefined];
      return { t, k, o, u: u ?? o.map(() => Date.now()) };
    },
    prepare(batch: EventBatch): PreparedBatch<DeviceSuppression> | null {
      const entries = entriesFor(cfg.mapping, batch.input);
      if (entries.length === 0) return null;
      const nowMicros = Date.now() * 1000;
      const col = (n: string) => batch.column(n);
      const plan = entries.map((e) => {
        // Device columns are read on the first hit only (most batches have none): the batch caches columns.
        const devices = e.device === undefined ? [] : typeof e.device === 'string' ? [e.device] : e.device;
        const fields = e.template === undefined ? null : [...e.template.matchAll(TEMPLATE_FIELD)].map((m) => [m[0], col(m[1]!)] as const);
        return { e, value: col(e.column), devices, fields, time: e.time === undefined ? undefined : col(e.time) };
      });

      const valueOf = (p: (typeof plan)[number], r: number): string | null => {
        if (!p.fields) return cellText(p.value?.[r]);
        let out = p.e.template!;
        for (const [field, c] of p.fields) {
          const t = cellText(c?.[r]);
          if (t === null) return null;
          out = out.replace(field, t);
        }
        return out;
      };

      // The matches of a row, computed in key() and reused by apply() (rows without a hit never touch state).
      let lastRow = -1;
      let lastMatches: RowMatch[] = NO_MATCHES;
      const matchesOf = (r: number): RowMatch[] => {
        if (r === lastRow) return lastMatches;
        lastRow = r;
        lastMatches = NO_MATCHES;
        for (const p of plan) {
          const value = valueOf(p, r);
          if (value === null) continue;
          const ms = num(p.time?.[r]);
          const t = ms === null ? nowMicros : Math.round(ms * 1000);
          const e = p.e;
          const hits =
            e.type === 'hostname' || e.type === 'domain'
              ? index.matchName(value, t, nowMicros, e.alsoRegisteredDomain ? cfg.registeredDomainOf : undefined)
              : index.match(e.type, value, t, nowMicros);
          if (hits.length === 0) continue;
          let device = NO_DEVICE;
          for (const d of p.devices) {
            const v = cellText(col(d)?.[r]);
            if (v !== null) {
              device = v;
              break;
            }
          }
          if (lastMatches === NO_MATCHES) lastMatches = [];
          lastMatches.push({ entry: e, device, observed: value, t, hits: [...hits] });
        }
        return lastMatches;
      };
      const timeMs = plan[0]!.time;
      // ctx.nowIso is one string per runtime apply: parsed once, not per matching row.
      let nowIsoSeen = '';
      let nowMsSeen = 0;

      return {
        key(r) {
          const m = matchesOf(r);
          return m.length ? m[0]!.device : null;
        },
        eventTimeMs: (r) => num(timeMs?.[r]) ?? matchesOf(r)[0]!.t / 1000,
        apply(prev, r, ctx) {
          const ms = matchesOf(r);
          const rowT = ms[0]!.t;
          const s: DeviceSuppression = prev ?? { t: 0, k: [], o: [], u: [] };
          s.t = Math.max(s.t, Math.floor(rowT / 1000));
          if (ctx.nowIso !== nowIsoSeen) {
            nowIsoSeen = ctx.nowIso;
            nowMsSeen = Date.parse(nowIsoSeen);
          }
          const nowMs = nowMsSeen;
          // Forget windows that ended (plus lateness) before this row and were not used for a day of processing time.
          for (let i = s.k.length - 1; i >= 0; i--) {
            if (s.o[i]! + DAY_MICROS + lateMicros <= rowT && nowMs - s.u[i]! >= DAY_MS) {
              s.k.splice(i, 1);
              s.o.splice(i, 1);
              s.u.splice(i, 1);
            }
          }
          for (const m of ms) {
            // Group the feed rows per IoC: the same value from several datasets is one match.
            const groups = new Map<string, IocHit[]>();
            for (const h of m.hits) {
              const g = groups.get(`${h.type}\u0000${h.indicator}`);
              if (g) g.push(h);
              else groups.set(`${h.type}\u0000${h.indicator}`, [h]);
            }
            for (const [gk, g] of groups) {
              // The device is part of the key: a row whose entries name different devices stays correct.
              const k = `${m.device}\u0000${gk}`;
              let covered = false;
              for (let i = 0; i < s.k.length; i++) {
                if (s.k[i] === k && Math.abs(m.t - s.o[i]!) < DAY_MICROS) {
                  s.u[i] = nowMs;
                  covered = true;
                  break;
                }
              }
              if (covered) continue;
              s.k.push(k);
              s.o.push(m.t);
              s.u.push(nowMs);
              ctx.emit(toAlert(batch, m, g, r, ctx.nowIso));
            }
          }
          return s;
        },
      };

      function toAlert(b: EventBatch, m: RowMatch, g: IocHit[], r: number, nowIso: string) {
        const h0 = g[0]!;
        const eventTime = isoOfMs(Math.floor(m.t / 1000));
        const day = eventTime.slice(0, 10);
        const conf = g.map((h) => h.confidence).filter((c): c is number => c !== null);
        return {
          alert_id: iocAlertId(IOC_RULE, m.device, h0.type, h0.indicator, m.t),
          rule: IOC_RULE,
          severity: severityOf(g),
          title: `${h0.type} indicator ${h0.indicator} seen on ${m.device}`,
          entity: m.device,
          event_time: eventTime,
          created_time: nowIso,
          detail: {
            table: b.input,
            column: m.entry.column,
            ioc_type: h0.type,
            ioc: h0.indicator,
            observed: m.observed,
            device: m.device,
            datasets: g.map((h) => h.dataset).join(','),
            confidence: conf.length ? Math.max(...conf) : null,
            threat: g.map((h) => h.threat).find((x) => x) ?? null,
            event_name: g.map((h) => h.eventName).find((x) => x) ?? null,
            first_seen: isoOfMs(Math.floor(Math.min(...g.map((h) => h.firstSeen)) / 1000)),
            last_seen: g.some((h) => h.lastSeen === null) ? null : isoOfMs(Math.floor(Math.max(...g.map((h) => h.lastSeen!)) / 1000)),
          },
          evidence: [{ table: b.input, source: str(col('_source')?.[r]), object: str(col('_object')?.[r]), raw_seq: col('_raw_seq')?.[r] == null ? null : Number(col('_raw_seq')![r]) }],
          next_query:
            `SELECT * FROM ${b.input} WHERE ${m.entry.column} = ${sqlString(m.entry.template ? str(col(m.entry.column)?.[r]) : m.observed)} AND eventDate = DATE '${day}'; ` +
            `SELECT * FROM ${cfg.iocTable} WHERE type = ${sqlString(h0.type)} AND indicator = ${sqlString(h0.indicator)}`,
        };
      }
    },
  };
}
