// Per-commit lake metrics: bytes and file sizes, checkpoint time, and latency histograms from the committed rows.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ColumnBuilder } from '@sluice/columnar';
import { createLakeMetrics } from '@sluice/runtime';
import { bronzeTable, familyTables } from '@sluice/tables';
import { Table } from 'apache-arrow';
import { lakeStats, latencyColumnsOf, observeLag } from './lakeMetrics.ts';

describe('sink lake metrics', () => {
  it('picks the ingest and event time columns of each layer', () => {
    const conn = familyTables.zeek!.conn!;
    expect(latencyColumnsOf(conn)).toEqual({ ingest: '_ingest_time', event: 'ts' });
    expect(latencyColumnsOf(bronzeTable)).toEqual({ ingest: 'ingest_time', event: undefined });
  });

  it('records bytes, file sizes, checkpoint time, commit failures and one latency sample per row', async () => {
    const registry = new Registry();
    const stats = lakeStats(createLakeMetrics(registry), new Map([[bronzeTable.name, bronzeTable]]));
    const b = new ColumnBuilder([{ name: 'ingest_time', type: 'timestamp', nullable: true }]);
    const now = Date.now();
    b.append({ ingest_time: (now - 2000) * 1000 });
    b.append({ ingest_time: (now - 500) * 1000 });
    b.append({ ingest_time: null });
    stats.onCommitted!('bronze', b.build(), [1000, 3000], true);
    stats.onCommitFailure!('bronze', 'retry');
    const text = await registry.metrics();
    expect(text).toContain('sluice_delta_bytes_total{table="bronze"} 4000');
    expect(text).toContain('sluice_delta_file_bytes_count{table="bronze"} 2');
    expect(text).toContain('sluice_ingest_lag_seconds_count{table="bronze"} 2');
    expect(text).toMatch(/sluice_ingest_lag_seconds_bucket\{le="1",table="bronze"\} 1/);
    expect(text).toMatch(/sluice_ingest_lag_seconds_bucket\{le="3",table="bronze"\} 2/);
    expect(text).toContain('sluice_delta_commit_failures_total{table="bronze",outcome="retry"} 1');
    expect(text).toMatch(/sluice_delta_last_checkpoint_timestamp_seconds\{table="bronze"\} \d+/);
  });

  it('reads µs timestamps from the buffers exactly as Arrow get does: chunks, slices, nulls, pre-1970 values', () => {
    const col = [{ name: 'ts', type: 'timestamp' as const, nullable: true }];
    const chunk = (vals: (number | null)[]) => {
      const b = new ColumnBuilder(col);
      for (const v of vals) b.append({ ts: v });
      return b.build();
    };
    const now = Date.UTC(2026, 10, 23);
    const a = chunk([(now - 1500) * 1000, null, (now - 250) * 1000 + 7, -86_400_000_000 * 3 - 5, null, (now + 5000) * 1000]);
    const b = chunk([null, (now - 3_600_000) * 1000, 1, 0]).slice(1, 4);
    const t = new Table([...a.batches, ...b.batches]);
    const got: number[] = [];
    observeLag(t, 'ts', now, (s) => got.push(s));
    const want: number[] = [];
    const v = t.getChild('ts')!;
    for (let i = 0; i < v.length; i++) {
      const ms = v.get(i) as number | null;
      if (typeof ms === 'number') want.push(Math.max(0, (now - ms) / 1000));
    }
    expect(want).toHaveLength(7);
    expect(got).toHaveLength(want.length);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 9));
  });
});
