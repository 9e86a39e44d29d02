// Detection 5: data quality as a rate. The parser publishes one stats message per input envelope and table on
// quality.<table> (services/parser/qualityStats.ts): rows in, kept, dropped, quarantined, rows failing each check.
// Per table, a tumbling window on the envelopes' ingest time sums them; the rule alerts once per window when
//  - an expectation's failure ratio (rows failing it / rows in) exceeds its threshold, warn expectations included;
//  - or the table's reject ratio (rows dropped or quarantined / rows in) exceeds the table's threshold while no
//    single expectation already explains it;
// and only once the window holds at least `minRows` rows, so 1 bad row of 2 pages nobody. Key: the table.
import { alertId, isoOfMs, sqlString } from './alertId.ts';
import { MESSAGE_TIME_FIELD } from './dataQualityRule.ts';
import { str, type Cell, type EventBatch } from './eventBatch.ts';
import type { DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const EXPECTATION_RATE_RULE = 'data_quality_expectation_rate';
/** Input name of the parser's stats (stream QUALITY, subjects quality.>). */
export const QUALITY_INPUT = 'quality';
/** Field the service adds to each stats row (as to quarantine records): the message's stream time (ms), used when ingest_time is missing. */
export const QUALITY_MESSAGE_TIME_FIELD = MESSAGE_TIME_FIELD;
/** The table-wide ratio's name in ids, `a` lists and `detail.expectation`. */
export const ALL_CHECKS = '*';

export interface TableRateOverride {
  /** The table's reject-ratio threshold, and the default for its expectations. */
  maxRatio?: number;
  minRows?: number;
  /** Per expectation of this table. */
  expectations?: Record<string, number>;
}

export interface ExpectationRateRuleConfig {
  /** Tumbling window on the envelopes' ingest time. */
  windowMinutes: number;
  /** Alert when a failure ratio (0…1) exceeds this… */
  maxRatio: number;
  /** …once the table has at least this many rows in the window. */
  minRows: number;
  /** Per-table thresholds. */
  tables: Record<string, TableRateOverride>;
  /** Per expectation (check) name, any table; a table's own `expectations` entry wins. */
  expectations: Record<string, number>;
  /** Not counted, not alerted: `<check>` anywhere, `<table>.<check>`, or `<table>.*` (the whole table). */
  ignore: string[];
  severity: 'low' | 'medium' | 'high' | 'critical';
}

export const DEFAULT_EXPECTATION_RATE_CONFIG: ExpectationRateRuleConfig = {
  windowMinutes: 15,
  maxRatio: 0.05,
  minRows: 200,
  tables: {},
  expectations: {},
  ignore: [],
  severity: 'medium',
};

/** Lineage of an envelope that had failures: evidence for the alert. */
interface Lineage {
  source: string;
  object: string;
  raw_seq: number | null;
}

/** One window of a table: start `w`, rows `n`, rejected rows `x`, failures per check `f`, rejected per check `r`, envelopes counted `ids`, alerted checks `a`, evidence `ev`. */
export interface RateWindow {
  w: number;
  n: number;
  x: number;
  f: Record<string, number>;
  r: Record<string, number>;
  ids: Set<string>;
  a: string[];
  ev: Lineage[];
}

/** A table's state: the current window and the one before it (late stats of it still count; older ones do not). */
export interface RateState extends KeyState {
  cur: RateWindow;
  prev?: RateWindow;
}

type EncodedWindow = Omit<RateWindow, 'ids'> & { ids: string[] };

const counts = (): Record<string, number> => Object.create(null) as Record<string, number>;
const newWindow = (w: number): RateWindow => ({ w, n: 0, x: 0, f: counts(), r: counts(), ids: new Set(), a: [], ev: [] });
const encodeWindow = (w: RateWindow): EncodedWindow => ({ ...w, ids: [...w.ids] });
const decodeWindow = (w: EncodedWindow): RateWindow => ({ ...w, f: Object.assign(counts(), w.f), r: Object.assign(counts(), w.r), ids: new Set(w.ids) });

/** A JSON object column cell (objectBatch serialises nested objects) as counts; anything else is empty. */
function countsOf(c: Cell | undefined): Record<string, number> {
  if (typeof c !== 'string' || !c.startsWith('{')) return {};
  try {
    const o = JSON.parse(c) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

const pct = (x: number) => `${Math.round(x * 10000) / 100}%`;

export function expectationRateRule(cfg: ExpectationRateRuleConfig): DetectionRule<RateState> {
  const windowMs = cfg.windowMinutes * 60_000;
  const ignored = new Set(cfg.ignore);
  const isIgnored = (table: string, check: string) => ignored.has(check) || ignored.has(`${table}.${check}`);
  const thresholdOf = (table: string, check: string) =>
    check === ALL_CHECKS
      ? (cfg.tables[table]?.maxRatio ?? cfg.maxRatio)
      : (cfg.tables[table]?.expectations?.[check] ?? cfg.expectations[check] ?? cfg.tables[table]?.maxRatio ?? cfg.maxRatio);
  const minRowsOf = (table: string) => cfg.tables[table]?.minRows ?? cfg.minRows;

  return {
    name: EXPECTATION_RATE_RULE,
    reads: 'quality',
    inputs: [QUALITY_INPUT],
    encodeState: (s) => ({ t: s.t, cur: encodeWindow(s.cur), ...(s.prev ? { prev: encodeWindow(s.prev) } : {}) }),
    decodeState(v) {
      const e = v as { t: number; cur: EncodedWindow; prev?: EncodedWindow };
      return { t: e.t, cur: decodeWindow(e.cur), ...(e.prev ? { prev: decodeWindow(e.prev) } : {}) };
    },
    prepare(batch: EventBatch): PreparedBatch<RateState> | null {
      const table = batch.column('table');
      const rows = batch.column('rows');
      if (!table || !rows) return null;
      const failures = batch.column('failures');
      const rejected = batch.column('rejected');
      const inStream = batch.column('input_stream');
      const inSeq = batch.column('input_seq');
      const ingest = batch.column('ingest_time');
      const msgTime = batch.column(QUALITY_MESSAGE_TIME_FIELD);
      const source = batch.column('source');
      const object = batch.column('object');
      const rawSeq = batch.column('raw_seq');
      const timeOf = (r: number) => {
        const t = Date.parse(str(ingest?.[r]));
        return Number.isFinite(t) ? t : Number(msgTime?.[r] ?? 0);
      };
      return {
        key(r) {
          const t = str(table[r]);
          if (!t || ignored.has(`${t}.*`) || !(Number(rows[r]) > 0)) return null;
          return t;
        },
        eventTimeMs: timeOf,
        apply(prev, r, ctx) {
          const tableName = str(table[r]);
          const t = timeOf(r);
          const w = Math.floor(t / windowMs) * windowMs;
          let s: RateState;
          if (!prev) s = { t, cur: newWindow(w) };
          else if (w > prev.cur.w) s = { t: Math.max(prev.t, t), cur: newWindow(w), ...(w - prev.cur.w === windowMs ? { prev: prev.cur } : {}) };
          else s = prev;
          const win = w === s.cur.w ? s.cur : w === s.prev?.w ? s.prev : undefined;
          // Older than the previous window: too late to count (the windows it belonged to are gone).
          if (!win) return s;
          // The same envelope's stats published twice (a redelivery after the stream's duplicate window): once.
          const id = `${str(inStream?.[r])}:${str(inSeq?.[r])}`;
          if (win.ids.has(id)) return s;
          win.ids.add(id);
          s.t = Math.max(s.t, t);

          const f = countsOf(failures?.[r]);
          const x = countsOf(rejected?.[r]);
          win.n += Number(rows[r]);
          let failedHere = false;
          for (const [check, n] of Object.entries(f)) {
            if (isIgnored(tableName, check)) continue;
            win.f[check] = (win.f[check] ?? 0) + n;
            failedHere = true;
          }
          for (const [check, n] of Object.entries(x)) {
            if (isIgnored(tableName, check)) continue;
            win.r[check] = (win.r[check] ?? 0) + n;
            win.x += n;
          }
          if (failedHere && win.ev.length < 3) win.ev.push({ source: str(source?.[r]), object: str(object?.[r]), raw_seq: rawSeq?.[r] == null ? null : Number(rawSeq[r]) });

          const minRows = minRowsOf(tableName);
          if (win.n < minRows) return s;
          const fire = (check: string, failing: number) => {
            const threshold = thresholdOf(tableName, check);
            const ratio = failing / win.n;
            if (!(ratio > threshold) || win.a.includes(check)) return;
            win.a.push(check);
            const start = isoOfMs(win.w);
            const end = isoOfMs(win.w + windowMs);
            const all = check === ALL_CHECKS;
            const top = Object.entries(all ? win.r : win.f)
              .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
              .slice(0, 5)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ');
            const inQuarantine = `FROM quarantine WHERE table_name = ${sqlString(tableName)} AND ingest_time >= TIMESTAMP '${start}' AND ingest_time < TIMESTAMP '${end}'`;
            // Rows an expectation only warned about were kept: they are in the table itself, not in quarantine.
            const next = all
              ? `SELECT rule, count(*) AS records ${inQuarantine} GROUP BY rule ORDER BY records DESC`
              : (win.r[check] ?? 0) > 0
                ? `SELECT reason, raw, source, object, raw_seq ${inQuarantine} AND rule = ${sqlString(check)} LIMIT 100`
                : `SELECT * FROM ${tableName} WHERE _ingest_time >= TIMESTAMP '${start}' AND _ingest_time < TIMESTAMP '${end}' LIMIT 100 -- rows kept with a warning from ${check}`;
            ctx.emit({
              alert_id: alertId(EXPECTATION_RATE_RULE, tableName, check, start),
              rule: EXPECTATION_RATE_RULE,
              severity: cfg.severity,
              title: all
                ? `Data quality: ${pct(ratio)} of ${tableName} rows rejected in ${cfg.windowMinutes} min (threshold ${pct(threshold)})`
                : `Data quality: expectation ${check} fails on ${pct(ratio)} of ${tableName} rows in ${cfg.windowMinutes} min (threshold ${pct(threshold)})`,
              entity: tableName,
              event_time: isoOfMs(t),
              created_time: ctx.nowIso,
              detail: {
                table: tableName,
                expectation: check,
                window_start: start,
                window_end: end,
                time_basis: 'ingest_time',
                rows: win.n,
                failures: failing,
                ratio: Math.round(ratio * 10000) / 10000,
                threshold,
                min_rows: minRows,
                rejected: win.x,
                envelopes: win.ids.size,
                top_checks: top,
              },
              evidence: win.ev.map((e) => ({ table: 'quality', ...e })),
              next_query: next,
            });
          };
          for (const [check, n] of Object.entries(win.f)) fire(check, n);
          // The table-wide ratio speaks only when no single expectation has already been reported for the window.
          if (!win.a.some((c) => c !== ALL_CHECKS)) fire(ALL_CHECKS, win.x);
          return s;
        },
      };
    },
  };
}
