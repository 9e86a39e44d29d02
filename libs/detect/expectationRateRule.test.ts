// Rule 5 (rates): the parser's per-envelope stats summed per table per ingest-time window; an alert once per
// (table, check, window) when the failure ratio exceeds its threshold with enough rows; redelivered stats count once;
// the window survives a snapshot round trip.
import { describe, expect, it } from 'vitest';
import { alertId } from './alertId.ts';
import { DetectorRuntime } from './detectorRuntime.ts';
import { objectBatch } from './eventBatch.ts';
import { DEFAULT_EXPECTATION_RATE_CONFIG, EXPECTATION_RATE_RULE, expectationRateRule, QUALITY_INPUT, type ExpectationRateRuleConfig, type RateState } from './expectationRateRule.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshotCodec.ts';

const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const MIN = 60_000;
const NOW = new Date('2024-05-01T12:00:00Z');

let inputSeq = 100;
/** One envelope's stats as the parser publishes them (objectBatch serialises the nested counts as JSON, as the host does). */
function stats(table: string, atMs: number, rows: number, failures: Record<string, number> = {}, rejected: Record<string, number> = {}, seq = ++inputSeq) {
  const q = Object.values(rejected).reduce((a, b) => a + b, 0);
  return { table, category: table, source: 'app', object: `f${seq}.json`, raw_seq: seq, input_stream: 'CATEGORIZED', input_seq: seq, ingest_time: new Date(atMs).toISOString(), parser_version: 't', rows, kept: rows - q, dropped: 0, quarantined: q, failures, rejected };
}

const cfgOf = (over: Partial<ExpectationRateRuleConfig> = {}): ExpectationRateRuleConfig => ({ ...DEFAULT_EXPECTATION_RATE_CONFIG, windowMinutes: 15, maxRatio: 0.1, minRows: 100, ...over });
const runtime = (over: Partial<ExpectationRateRuleConfig> = {}) => new DetectorRuntime<RateState>(expectationRateRule(cfgOf(over)), 2, [0, 1], { ttlMs: 2 * 86_400_000, maxKeysPerPartition: 1000 });
let seq = 0;
const feed = (rt: DetectorRuntime<RateState>, rows: Record<string, unknown>[]) => rt.apply(QUALITY_INPUT, ++seq, objectBatch(QUALITY_INPUT, rows), NOW).alerts;
const brief = (alerts: ReturnType<typeof feed>) => alerts.map((a) => [a.entity, a.detail.expectation, a.detail.rows, a.detail.failures, a.detail.ratio, a.detail.threshold]);

describe('expectation rate rule', () => {
  it('fires once when an expectation fails above the ratio with enough rows, then stays silent in that window', () => {
    const rt = runtime();
    expect(feed(rt, [stats('cloudtrail', W0, 60, { event_source_present: 5 }, { event_source_present: 5 })])).toEqual([]); // 60 rows < 100
    const [a, ...rest] = feed(rt, [stats('cloudtrail', W0 + 2 * MIN, 60, { event_source_present: 9 }, { event_source_present: 9 })]);
    expect(rest).toEqual([]);
    expect(a).toEqual({
      alert_id: alertId(EXPECTATION_RATE_RULE, 'cloudtrail', 'event_source_present', '2024-05-01T10:00:00.000Z'),
      rule: EXPECTATION_RATE_RULE,
      severity: 'medium',
      title: 'Data quality: expectation event_source_present fails on 11.67% of cloudtrail rows in 15 min (threshold 10%)',
      entity: 'cloudtrail',
      event_time: '2024-05-01T10:02:00.000Z',
      created_time: NOW.toISOString(),
      detail: {
        table: 'cloudtrail',
        expectation: 'event_source_present',
        window_start: '2024-05-01T10:00:00.000Z',
        window_end: '2024-05-01T10:15:00.000Z',
        time_basis: 'ingest_time',
        rows: 120,
        failures: 14,
        ratio: 0.1167,
        threshold: 0.1,
        min_rows: 100,
        rejected: 14,
        envelopes: 2,
        top_checks: 'event_source_present=14',
      },
      evidence: [
        { table: 'quality', source: 'app', object: 'f101.json', raw_seq: 101 },
        { table: 'quality', source: 'app', object: 'f102.json', raw_seq: 102 },
      ],
      next_query:
        "SELECT reason, raw, source, object, raw_seq FROM quarantine WHERE table_name = 'cloudtrail' AND ingest_time >= TIMESTAMP '2024-05-01T10:00:00.000Z' AND ingest_time < TIMESTAMP '2024-05-01T10:15:00.000Z' AND rule = 'event_source_present' LIMIT 100",
    });
    // Worse in the same window: silent. The next window starts from zero.
    expect(feed(rt, [stats('cloudtrail', W0 + 5 * MIN, 100, { event_source_present: 90 }, { event_source_present: 90 })])).toEqual([]);
    expect(feed(rt, [stats('cloudtrail', W0 + 15 * MIN, 99, { event_source_present: 99 })])).toEqual([]);
    expect(brief(feed(rt, [stats('cloudtrail', W0 + 16 * MIN, 1, { event_source_present: 1 })]))).toEqual([['cloudtrail', 'event_source_present', 100, 100, 1, 0.1]]);
  });

  it('stays silent at or below the ratio, and under the minimum rows however bad', () => {
    const rt = runtime();
    expect(feed(rt, [stats('vpc_flow', W0, 500, { flow_fields: 50 }, { flow_fields: 50 })])).toEqual([]); // exactly 10%: not above
    expect(feed(rt, [stats('zeek_dns', W0, 2, { query_present: 1 }, { query_present: 1 })])).toEqual([]); // 1 bad of 2
    expect(feed(rt, [stats('zeek_dns', W0 + MIN, 97, { query_present: 97 })])).toEqual([]); // 99 rows < 100
    expect(brief(feed(rt, [stats('zeek_dns', W0 + 2 * MIN, 1)]))).toEqual([['zeek_dns', 'query_present', 100, 98, 0.98, 0.1]]);
  });

  it('counts warn expectations (rows kept) and points the next query at the table for them', () => {
    const rt = runtime();
    const [a] = feed(rt, [stats('defender_device_events', W0, 200, { action_type_known: 30 })]);
    expect(brief([a!])).toEqual([['defender_device_events', 'action_type_known', 200, 30, 0.15, 0.1]]);
    expect(a!.next_query).toBe(
      "SELECT * FROM defender_device_events WHERE _ingest_time >= TIMESTAMP '2024-05-01T10:00:00.000Z' AND _ingest_time < TIMESTAMP '2024-05-01T10:15:00.000Z' LIMIT 100 -- rows kept with a warning from action_type_known",
    );
  });

  it('per-expectation and per-table overrides win over the default, the table entry over the global one', () => {
    const rt = runtime({
      expectations: { noisy_check: 0.5, strict_check: 0.01 },
      tables: { zeek_conn: { minRows: 10, expectations: { strict_check: 0.3 } }, vpc_flow: { maxRatio: 0.02 } },
    });
    // noisy_check at 40% < 50%: silent; strict_check at 2% > 1%: fires (global per-expectation override).
    expect(brief(feed(rt, [stats('cloudtrail', W0, 100, { noisy_check: 40, strict_check: 2 })]))).toEqual([['cloudtrail', 'strict_check', 100, 2, 0.02, 0.01]]);
    // zeek_conn: its own strict_check threshold (30%) and min rows (10).
    expect(feed(rt, [stats('zeek_conn', W0, 10, { strict_check: 3 })])).toEqual([]);
    expect(brief(feed(rt, [stats('zeek_conn', W0 + MIN, 10, { strict_check: 4 })]))).toEqual([['zeek_conn', 'strict_check', 20, 7, 0.35, 0.3]]);
    // vpc_flow: a table ratio of 2% applies to its expectations without their own threshold.
    expect(brief(feed(rt, [stats('vpc_flow', W0, 100, { other_check: 3 })]))).toEqual([['vpc_flow', 'other_check', 100, 3, 0.03, 0.02]]);
  });

  it('alerts on the table-wide reject ratio when no single expectation crosses, and ignores what it is told to', () => {
    const rt = runtime({ ignore: ['parse_noise', 'zeek_conn.*', 'vpc_flow.known_gap'] });
    const spread = { a_check: 7, b_check: 7, c_check: 7 }; // 3.5% each, 10.5% of rows rejected
    const [a, ...rest] = feed(rt, [stats('cloudtrail', W0, 200, spread, spread)]);
    expect(rest).toEqual([]);
    expect(a!.alert_id).toBe(alertId(EXPECTATION_RATE_RULE, 'cloudtrail', '*', '2024-05-01T10:00:00.000Z'));
    expect(a!.title).toBe('Data quality: 10.5% of cloudtrail rows rejected in 15 min (threshold 10%)');
    expect(a!.detail).toMatchObject({ expectation: '*', rows: 200, failures: 21, ratio: 0.105, threshold: 0.1, top_checks: 'a_check=7, b_check=7, c_check=7' });
    // Ignored: a check anywhere, a whole table, one check of one table.
    expect(feed(rt, [stats('cloudtrail', W0 + 15 * MIN, 100, { parse_noise: 90 }, { parse_noise: 90 })])).toEqual([]);
    expect(feed(rt, [stats('zeek_conn', W0, 100, { uid_present: 90 }, { uid_present: 90 })])).toEqual([]);
    expect(feed(rt, [stats('vpc_flow', W0, 100, { known_gap: 90 }, { known_gap: 90 })])).toEqual([]);
    expect(brief(feed(rt, [stats('vpc_flow', W0 + MIN, 100, { other: 30 })]))).toEqual([['vpc_flow', 'other', 200, 30, 0.15, 0.1]]);
  });

  it('does not count redelivered stats twice (same input envelope, new stream message)', () => {
    const rt = runtime();
    const once = stats('cloudtrail', W0, 60, { event_source_present: 9 }, { event_source_present: 9 });
    expect(feed(rt, [once])).toEqual([]);
    expect(feed(rt, [once])).toEqual([]); // 120 rows, 18 failures if counted twice: would fire
    expect(feed(rt, [{ ...once }, stats('cloudtrail', W0 + MIN, 39)])).toEqual([]);
    expect(brief(feed(rt, [stats('cloudtrail', W0 + 2 * MIN, 1, { event_source_present: 2 })]))).toEqual([['cloudtrail', 'event_source_present', 100, 11, 0.11, 0.1]]);
  });

  it('late stats of the previous window still count there; older ones are dropped', () => {
    const rt = runtime();
    expect(feed(rt, [stats('cloudtrail', W0, 90, { x_check: 5 })])).toEqual([]);
    expect(feed(rt, [stats('cloudtrail', W0 + 16 * MIN, 10)])).toEqual([]);
    // Late for window 10:00 (still kept): 100 rows, 15 failures → fires for 10:00.
    expect(feed(rt, [stats('cloudtrail', W0 + 14 * MIN, 10, { x_check: 10 })]).map((a) => [a.detail.window_start, a.detail.rows, a.detail.failures])).toEqual([['2024-05-01T10:00:00.000Z', 100, 15]]);
    expect(feed(rt, [stats('cloudtrail', W0 + 31 * MIN, 10)])).toEqual([]);
    // 10:00 is now two windows back: dropped.
    expect(feed(rt, [stats('cloudtrail', W0 + MIN, 1000, { y_check: 1000 })])).toEqual([]);
  });

  it('keeps the window across a restart (snapshot encode → decode → restore): no lost counts, no second alert', () => {
    const a = runtime();
    const before = stats('cloudtrail', W0, 80, { event_source_present: 8 });
    expect(feed(a, [before, stats('zeek_dns', W0, 200, { q_check: 40 })]).map((x) => x.entity)).toEqual(['zeek_dns']);
    const b = runtime();
    for (const p of a.parts.keys()) b.restore(decodeSnapshot(encodeSnapshot(a.snapshot(p))));
    // 80 + 20 rows, 8 + 3 failures: fires only if the 80 rows before the restart were kept.
    expect(brief(feed(b, [stats('cloudtrail', W0 + MIN, 20, { event_source_present: 3 })]))).toEqual([['cloudtrail', 'event_source_present', 100, 11, 0.11, 0.1]]);
    // zeek_dns already alerted for this window before the restart: silent; a redelivered envelope of before: ignored.
    expect(feed(b, [stats('zeek_dns', W0 + MIN, 10, { q_check: 10 })])).toEqual([]);
    expect(feed(b, [{ ...before }])).toEqual([]);
    const restored = b.parts.get([...b.parts.keys()].find((p) => b.parts.get(p)!.state.get('cloudtrail'))!)!.state.get('cloudtrail')!;
    expect([restored.cur.n, restored.cur.ids.size, restored.cur.a]).toEqual([100, 2, ['event_source_present']]);
  });
});
