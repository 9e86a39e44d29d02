// Per-file statistics: exact values per type, truncation rules, and Spark 3.5's stats for the same
// data (kernel stats-writing-all-types) as the oracle.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flattenColumn } from './arrowColumns.ts';
import { parseCommitText } from './actions.ts';
import { decodeParquet } from './parquetFile.ts';
import { codePointPrefix, computeStats, statsJson } from './stats.ts';
import type { DeltaColumn, DeltaType } from './schema.ts';
import { arrowOf, KERNEL, type TestRow, itRef } from './testSupport.ts';

function statsOf(columns: DeltaColumn[], rows: TestRow[]): unknown {
  const t = arrowOf(columns, rows);
  const cols = columns.map((c) => ({ name: c.name, type: c.type, data: flattenColumn(c.name, c.type, t.getChild(c.name)!) }));
  return JSON.parse(statsJson(computeStats(t.numRows, cols)));
}

const col = (name: string, type: DeltaType): DeltaColumn => ({ name, type, nullable: true });

describe('per-file statistics', () => {
  it('records exact numRecords, min, max and nullCount per type', () => {
    const columns = [col('s', 'string'), col('l', 'long'), col('i', 'integer'), col('d', 'double'), col('b', 'boolean'), col('t', 'timestamp'), col('day', 'date'), col('n', 'long')];
    const stats = statsOf(columns, [
      { s: 'banana', l: -5, i: 10, d: 2.5, b: true, t: 1_704_067_200_000_000, day: 19_723, n: null },
      { s: 'apple', l: 7, i: -3, d: -0.25, b: false, t: 1_704_067_200_123_456, day: 19_724, n: null },
      { s: null, l: null, i: null, d: null, b: null, t: null, day: null, n: null },
      { s: 'cherry', l: 0, i: 0, d: 100, b: true, t: 1_704_067_199_999_999, day: 0, n: null },
    ]);
    expect(stats).toEqual({
      numRecords: 4,
      minValues: { s: 'apple', l: -5, i: -3, d: -0.25, t: '2023-12-31T23:59:59.999Z', day: '1970-01-01' },
      // Max timestamp .123456 is rounded UP to .124 so it still bounds the µs value.
      maxValues: { s: 'cherry', l: 7, i: 10, d: 100, t: '2024-01-01T00:00:00.124Z', day: '2024-01-02' },
      // Booleans get only nullCount (as Spark writes them); an all-null column has no bounds at all.
      nullCount: { s: 1, l: 1, i: 1, d: 1, b: 1, t: 1, day: 1, n: 4 },
    });
  });

  it('orders longs across the 32-bit word boundary and sign (min/max read as 32-bit halves)', () => {
    const vals = [2 ** 32 + 5, null, 2 ** 32 + 3, 2 ** 31, -1, -(2 ** 32), -(2 ** 40) + 7, 2 ** 33, 0, 2 ** 31 - 1];
    const stats = statsOf([col('l', 'long')], vals.map((l) => ({ l }))) as { minValues: { l: number }; maxValues: { l: number } };
    expect(stats.minValues.l).toBe(-(2 ** 40) + 7);
    expect(stats.maxValues.l).toBe(2 ** 33);
    const high = statsOf([col('l', 'long')], [2 ** 32 + 5, 2 ** 32 + 3, 2 ** 31 + 2 ** 32].map((l) => ({ l }))) as { minValues: { l: number }; maxValues: { l: number } };
    expect([high.minValues.l, high.maxValues.l]).toEqual([2 ** 32 + 3, 2 ** 31 + 2 ** 32]);
  });

  it('keeps timestamps exact when already on a millisecond, and floors negative µs correctly', () => {
    const stats = statsOf([col('t', 'timestamp')], [{ t: -1 }, { t: 5_000 }]) as { minValues: unknown; maxValues: unknown };
    expect(stats.minValues).toEqual({ t: '1969-12-31T23:59:59.999Z' });
    expect(stats.maxValues).toEqual({ t: '1970-01-01T00:00:00.005Z' });
  });

  it('writes longs beyond 2^53 exactly in the stats JSON', () => {
    // Number cannot carry these, so build the Arrow batch from BigInt64Array via the builder's path for longs.
    const t = arrowOf([col('l', 'long')], [{ l: 1 }]);
    const flat = flattenColumn('l', 'long', t.getChild('l')!);
    if (flat.kind !== 'int64') throw new Error('expected int64');
    flat.values[0] = 9_007_199_254_740_993n;
    const text = statsJson(computeStats(1, [{ name: 'l', type: 'long', data: flat }]));
    expect(text).toBe('{"numRecords":1,"minValues":{"l":9007199254740993},"maxValues":{"l":9007199254740993},"nullCount":{"l":0}}');
  });

  it('truncates the string min to 32 code points and omits a max it would have to truncate', () => {
    const long = 'x'.repeat(40);
    const emoji = '😀'.repeat(40); // surrogate pairs: the prefix must not split one
    const stats = statsOf([col('a', 'string'), col('b', 'string'), col('c', 'string')], [
      { a: long, b: 'short', c: emoji },
      { a: 'y', b: 'z'.repeat(32), c: 'a' },
    ]) as { minValues: Record<string, string>; maxValues: Record<string, string> };
    expect(stats.minValues.a).toBe('x'.repeat(32));
    expect(stats.maxValues.a).toBe('y');
    expect(stats.minValues.b).toBe('short');
    expect(stats.maxValues.b).toBe('z'.repeat(32)); // exactly 32: kept
    expect(stats.minValues.c).toBe('a');
    expect('c' in stats.maxValues).toBe(false);
    expect(codePointPrefix(emoji, 32).prefix).toBe('😀'.repeat(32));
  });

  it('gives the bounds of a full comparison for long values sharing long prefixes (compared on 129 bytes)', () => {
    const p = 'q'.repeat(150);
    const four = '😀'.repeat(32); // 128 bytes, 32 code points: a max that is kept
    const stats = statsOf([col('a', 'string'), col('b', 'string'), col('c', 'string'), col('d', 'string')], [
      { a: `${p}b`, b: four, c: 'abc', d: 'k'.repeat(129) },
      { a: `${p}a`, b: `${four}a`, c: 'abcd', d: 'k'.repeat(128) },
      { a: `${p}c`, b: 'a', c: 'ab', d: 'k'.repeat(129) },
    ]) as { minValues: Record<string, string>; maxValues: Record<string, string> };
    expect(stats.minValues).toEqual({ a: 'q'.repeat(32), b: 'a', c: 'ab', d: 'k'.repeat(32) });
    // b's max is the 33-code-point value (omitted), not the 32-code-point one it starts with.
    expect(stats.maxValues).toEqual({ c: 'abcd' });
    const kept = statsOf([col('b', 'string')], [{ b: four }, { b: 'a' }]) as { maxValues: Record<string, string> };
    expect(kept.maxValues).toEqual({ b: four });
  });

  it('finds the same string bounds as sorting the UTF-8 bytes, on random short, shared-prefix and long values', () => {
    let seed = 7;
    const rnd = (k: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % k);
    const alphabet = ['\u0000', 'a', 'b', 'z', 'é', '😀', '~'];
    for (let round = 0; round < 200; round++) {
      const prefix = ['', 'ab', 'abcd', 'x'.repeat(130)][rnd(4)]!;
      const values = Array.from({ length: 1 + rnd(12) }, () =>
        rnd(6) === 0 ? null : prefix + Array.from({ length: rnd(7) }, () => alphabet[rnd(alphabet.length)]).join(''),
      );
      const present = values.filter((v): v is string => v !== null);
      const sorted = [...present].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const want: { minValues: Record<string, string>; maxValues: Record<string, string> } = { minValues: {}, maxValues: {} };
      if (sorted.length) {
        want.minValues.s = codePointPrefix(sorted[0]!, 32).prefix;
        const max = sorted[sorted.length - 1]!;
        if (!codePointPrefix(max, 32).truncated) want.maxValues.s = max;
      }
      const got = statsOf([col('s', 'string')], values.map((s) => ({ s }))) as typeof want;
      expect({ minValues: got.minValues, maxValues: got.maxValues }, JSON.stringify(values)).toEqual(want);
    }
  });

  it('orders strings by code point (UTF-8 bytes), not UTF-16 units', () => {
    // U+FF5E sorts below U+1F600 by code point, but above it by UTF-16 code unit (0xD83D).
    const stats = statsOf([col('s', 'string')], [{ s: '\u{1F600}' }, { s: '\uFF5E' }]) as { minValues: unknown; maxValues: unknown };
    expect(stats.minValues).toEqual({ s: '\uFF5E' });
    expect(stats.maxValues).toEqual({ s: '\u{1F600}' });
  });

  it('writes no bounds for a double column containing NaN, and none for infinities', () => {
    const stats = statsOf([col('a', 'double'), col('b', 'double')], [{ a: NaN, b: Infinity }, { a: 1, b: 2 }]) as {
      minValues: unknown;
      maxValues: unknown;
      nullCount: unknown;
    };
    expect(stats.minValues).toEqual({ b: 2 });
    expect(stats.maxValues).toEqual({});
    expect(stats.nullCount).toEqual({ a: 0, b: 0 });
  });

  itRef('matches the stats Spark 3.5 wrote for the same data (kernel stats-writing-all-types)', async () => {
    const dir = join(KERNEL, 'stats-writing-all-types/delta');
    const log = await readFile(join(dir, '_delta_log/00000000000000000001.json'), 'utf8');
    const add = parseCommitText(log, 'commit 1').flatMap((a) => ('add' in a ? [a.add] : []))[0]!;
    const spark = JSON.parse(add.stats!) as { numRecords: number; minValues: Record<string, unknown>; maxValues: Record<string, unknown>; nullCount: Record<string, unknown> };
    const table = decodeParquet(await readFile(join(dir, add.path)));
    // Column-mapped table: the physical names in the file are the stats keys.
    const physical: [string, DeltaType][] = [
      ['col-042fadad-0f76-466d-a94d-e1159c2a9ed6', 'integer'], // byte_col
      ['col-6dc68f07-711d-4f00-8bd6-1f5bc698e8ad', 'integer'], // short_col
      ['col-e0571b78-2d49-4109-9add-f2c54d6ea29e', 'integer'],
      ['col-6c805ddb-539c-4ed3-bada-ac7a2082c889', 'long'],
      ['col-fd0d362b-c828-4ab2-aea0-d7fb194a87fa', 'double'],
      ['col-2e98df1d-e620-4a91-8ef8-6b196ce79105', 'date'],
      ['col-caa487cc-e27c-4d92-85ae-1c497cc9e92c', 'timestamp'], // INT96 in the file
      ['col-5006b1fd-f61e-40da-a5d4-3957248a4269', 'string'],
      ['col-f7007db6-65d0-4e2b-8552-d8a37bc06d2c', 'boolean'],
    ];
    const cols = physical.map(([name, type]) => ({ name, type, data: flattenColumn(name, type, table.getChild(name)!) }));
    const ours = JSON.parse(statsJson(computeStats(table.numRows, cols))) as typeof spark;
    expect(ours.numRecords).toBe(spark.numRecords);
    for (const [name] of physical) {
      expect([name, ours.minValues[name]]).toEqual([name, spark.minValues[name]]);
      expect([name, ours.maxValues[name]]).toEqual([name, spark.maxValues[name]]);
      expect([name, ours.nullCount[name]]).toEqual([name, spark.nullCount[name]]);
    }
  });

  itRef('keeps the max timestamp an upper bound where Spark truncated it down (kernel timestamp-truncation-stats)', async () => {
    const dir = join(KERNEL, 'timestamp-truncation-stats');
    const table = decodeParquet(await readFile(join(dir, 'part-00000-8be8dbf9-6bbb-481c-9ff4-31146eb021e8-c000.snappy.parquet')));
    const cols = [{ name: 'ts_col', type: 'timestamp' as const, data: flattenColumn('ts_col', 'timestamp', table.getChild('ts_col')!) }];
    const ours = computeStats(table.numRows, cols);
    // The file holds 00:00:03 and 00:00:04.000500; Spark's log says max 04.000Z, below the real value.
    expect(ours.minValues.ts_col).toBe('1970-01-01T00:00:03.000Z');
    expect(ours.maxValues.ts_col).toBe('1970-01-01T00:00:04.001Z');
  });
});
