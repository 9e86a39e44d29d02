// Detection 5, counts: records reaching the QUARANTINE stream per table per tumbling window (on the records' ingest
// time), one alert per (table, window) once the count exceeds the table's threshold. Key: the table. Failure *rates*
// of the parser's expectations are expectationRateRule.ts; this rule remains for what the parser never counts
// (splitter and sink rejects) and absolute bursts on small tables (docs/detections/data-quality.md).
import { alertId, isoOfMs, sqlString } from './alertId.ts';
import { str, type EventBatch } from './eventBatch.ts';
import type { DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const DATA_QUALITY_RULE = 'data_quality_quarantine_rate';
/** Input name of the quarantine records (stream QUARANTINE, subjects quarantine.>). */
export const QUARANTINE_INPUT = 'quarantine';
/** Field the service adds to each record: the quarantine message's stream timestamp (ms), used when ingest_time is missing. */
export const MESSAGE_TIME_FIELD = '_msg_time';

export interface DataQualityRuleConfig {
  windowMinutes: number;
  /** Alert when a table's quarantined records in one window exceed this… */
  maxPerWindow: number;
  /** …or this table's own threshold. */
  tables: Record<string, number>;
  /** Expectation/check names not counted (e.g. a known-noisy rule). */
  ignoreRules: string[];
  /** Stages counted (parser, splitter, sink); empty = all. */
  stages: string[];
}

export const DEFAULT_DATA_QUALITY_CONFIG: DataQualityRuleConfig = { windowMinutes: 15, maxPerWindow: 100, tables: {}, ignoreRules: [], stages: [] };

/** A table's current window: start `w` (ms), count `c`, counts by rule `r`, one sample reason `s`, alerted `a`. */
export interface TableWindow extends KeyState {
  w: number;
  c: number;
  r: Record<string, number>;
  s: string;
  a: boolean;
}

export function dataQualityRule(cfg: DataQualityRuleConfig): DetectionRule<TableWindow> {
  const windowMs = cfg.windowMinutes * 60_000;
  const ignore = new Set(cfg.ignoreRules);
  const stages = new Set(cfg.stages);
  return {
    name: DATA_QUALITY_RULE,
    reads: 'quarantine',
    inputs: [QUARANTINE_INPUT],
    encodeState: (s) => s,
    decodeState: (v) => v as TableWindow,
    prepare(batch: EventBatch): PreparedBatch<TableWindow> | null {
      const table = batch.column('table');
      if (!table) return null;
      const rule = batch.column('rule');
      const stage = batch.column('stage');
      const reason = batch.column('reason');
      const ingest = batch.column('ingest_time');
      const msgTime = batch.column(MESSAGE_TIME_FIELD);
      const timeOf = (r: number) => {
        const t = Date.parse(str(ingest?.[r]));
        return Number.isFinite(t) ? t : Number(msgTime?.[r] ?? 0);
      };
      return {
        key(r) {
          const t = str(table[r]);
          if (!t || ignore.has(str(rule?.[r]))) return null;
          if (stages.size && !stages.has(str(stage?.[r]))) return null;
          return t;
        },
        eventTimeMs: timeOf,
        apply(prev, r, ctx) {
          const t = timeOf(r);
          const w = Math.floor(t / windowMs) * windowMs;
          // Late records of an older window are counted in the current one (the window only moves forward).
          const s: TableWindow = prev && prev.w >= w ? prev : { t, w, c: 0, r: {}, s: '', a: false };
          s.t = Math.max(s.t, t);
          s.c++;
          const ru = str(rule?.[r]) || 'unknown';
          s.r[ru] = (s.r[ru] ?? 0) + 1;
          if (!s.s) s.s = str(reason?.[r]).slice(0, 300);
          const tableName = str(table[r]);
          const threshold = cfg.tables[tableName] ?? cfg.maxPerWindow;
          if (!s.a && s.c > threshold) {
            s.a = true;
            const top = Object.entries(s.r)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 5)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ');
            const start = isoOfMs(s.w);
            const end = isoOfMs(s.w + windowMs);
            ctx.emit({
              alert_id: alertId(DATA_QUALITY_RULE, tableName, start),
              rule: DATA_QUALITY_RULE,
              severity: 'medium',
              title: `Data quality: more than ${threshold} quarantined records for ${tableName} in ${cfg.windowMinutes} min`,
              entity: tableName,
              event_time: isoOfMs(t),
              created_time: ctx.nowIso,
              detail: { table: tableName, window_start: start, window_end: end, count: s.c, threshold, top_rules: top, sample_reason: s.s },
              evidence: [{ table: 'quarantine', source: str(batch.column('source')?.[r]), object: str(batch.column('object')?.[r]), raw_seq: batch.column('raw_seq')?.[r] == null ? null : Number(batch.column('raw_seq')![r]) }],
              next_query: `SELECT rule, count(*) FROM quarantine WHERE table_name = ${sqlString(tableName)} AND ingest_time >= TIMESTAMP '${start}' AND ingest_time < TIMESTAMP '${end}' GROUP BY rule`,
            });
          }
          return s;
        },
      };
    },
  };
}
