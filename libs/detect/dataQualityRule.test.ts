// Rule 5: quarantined records counted per table per tumbling window; one alert per (table, window) once the count
// exceeds the threshold (global or per table); ignored rules and stages do not count; a new window starts at zero.
import { describe, expect, it } from 'vitest';
import { alertId } from './alertId.ts';
import { DATA_QUALITY_RULE, DEFAULT_DATA_QUALITY_CONFIG, dataQualityRule, MESSAGE_TIME_FIELD, QUARANTINE_INPUT, type DataQualityRuleConfig, type TableWindow } from './dataQualityRule.ts';
import { DetectorRuntime } from './detectorRuntime.ts';
import { objectBatch } from './eventBatch.ts';

const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const MIN = 60_000;
const NOW = new Date('2024-05-01T12:00:00Z');

const q = (table: string, atMs: number, rule = 'event_source_present', stage = 'parser') => ({
  stage,
  table,
  rule,
  reason: `${rule} failed`,
  raw: '{}',
  source: 'ct',
  object: 'f.json.gz',
  raw_seq: 9,
  input_seq: 3,
  ingest_time: new Date(atMs).toISOString(),
});

function runtime(over: Partial<DataQualityRuleConfig> = {}) {
  const rule = dataQualityRule({ ...DEFAULT_DATA_QUALITY_CONFIG, windowMinutes: 15, maxPerWindow: 3, ...over });
  return new DetectorRuntime<TableWindow>(rule, 2, [0, 1], { ttlMs: 2 * 86_400_000, maxKeysPerPartition: 1000 });
}
let seq = 0;
const feed = (rt: DetectorRuntime<TableWindow>, rows: Record<string, unknown>[]) => rt.apply(QUARANTINE_INPUT, ++seq, objectBatch(QUARANTINE_INPUT, rows), NOW).alerts;

describe('data quality rule', () => {
  it('alerts once when a table exceeds the count in a window, and again only in a later window', () => {
    const rt = runtime();
    expect(feed(rt, [q('cloudtrail', W0), q('cloudtrail', W0 + MIN), q('cloudtrail', W0 + 2 * MIN)])).toEqual([]);
    const [a, ...rest] = feed(rt, [q('cloudtrail', W0 + 3 * MIN, 'parse'), q('cloudtrail', W0 + 4 * MIN)]);
    expect(rest).toEqual([]);
    expect(a).toEqual({
      alert_id: alertId(DATA_QUALITY_RULE, 'cloudtrail', '2024-05-01T10:00:00.000Z'),
      rule: DATA_QUALITY_RULE,
      severity: 'medium',
      title: 'Data quality: more than 3 quarantined records for cloudtrail in 15 min',
      entity: 'cloudtrail',
      event_time: '2024-05-01T10:03:00.000Z',
      created_time: NOW.toISOString(),
      detail: {
        table: 'cloudtrail',
        window_start: '2024-05-01T10:00:00.000Z',
        window_end: '2024-05-01T10:15:00.000Z',
        count: 4,
        threshold: 3,
        top_rules: 'event_source_present=3, parse=1',
        sample_reason: 'event_source_present failed',
      },
      evidence: [{ table: 'quarantine', source: 'ct', object: 'f.json.gz', raw_seq: 9 }],
      next_query:
        "SELECT rule, count(*) FROM quarantine WHERE table_name = 'cloudtrail' AND ingest_time >= TIMESTAMP '2024-05-01T10:00:00.000Z' AND ingest_time < TIMESTAMP '2024-05-01T10:15:00.000Z' GROUP BY rule",
    });
    // More in the same window: silent. Next window: counts from zero.
    expect(feed(rt, Array.from({ length: 10 }, (_, i) => q('cloudtrail', W0 + 5 * MIN + i)))).toEqual([]);
    expect(feed(rt, [q('cloudtrail', W0 + 15 * MIN), q('cloudtrail', W0 + 16 * MIN), q('cloudtrail', W0 + 17 * MIN)])).toEqual([]);
    expect(feed(rt, [q('cloudtrail', W0 + 18 * MIN)]).map((x) => x.detail.window_start)).toEqual(['2024-05-01T10:15:00.000Z']);
  });

  it('counts tables apart, honours per-table thresholds, ignored rules and stage filters', () => {
    const rt = runtime({ tables: { zeek_conn: 1 }, ignoreRules: ['action_type_known'], stages: ['parser'] });
    const rows = [
      q('zeek_conn', W0),
      q('vpc_flow', W0),
      q('zeek_conn', W0, 'action_type_known'),
      q('zeek_conn', W0, 'parse', 'splitter'),
      q('vpc_flow', W0),
    ];
    expect(feed(rt, rows)).toEqual([]);
    expect(feed(rt, [q('zeek_conn', W0 + MIN)]).map((a) => [a.entity, a.detail.count, a.detail.threshold])).toEqual([['zeek_conn', 2, 1]]);
  });

  it('falls back to the message time when a record has no ingest time', () => {
    const rt = runtime({ maxPerWindow: 0 });
    const [a] = feed(rt, [{ ...q('dhcp', W0), ingest_time: null, [MESSAGE_TIME_FIELD]: W0 + 20 * MIN }]);
    expect(a!.detail.window_start).toBe('2024-05-01T10:15:00.000Z');
  });
});
