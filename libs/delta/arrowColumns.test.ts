// The rows of one data file copied straight from the Arrow chunks into its IPC stream (fileIpc.ts) against the
// reference path, flattenColumn + takeRows: same bytes and stats for every chunk layout and input type.
import { Bool, DateMillisecond, Dictionary, Float32, Int16, Int32, LargeUtf8, tableToIPC, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { directGather, flattenColumn, takeRows } from './arrowColumns.ts';
import { arrowTable } from './dataFile.ts';
import { encodeFileIpc } from './fileIpc.ts';
import { computeStats } from './stats.ts';
import type { DeltaType } from './schema.ts';
import { ALL_TYPES, arrowOf, type TestRow } from './testSupport.ts';

/**
 * Rows `idx` of `vec` as a one-column file, gathered straight from the chunks (fileIpc.ts) where the chunk type
 * allows, against the reference path flattenColumn + takeRows → apache-arrow table → tableToIPC: same IPC bytes
 * and the same stats.
 */
function expectSame(type: DeltaType, vec: Vector, idx: number[]): void {
  const rows = Uint32Array.from(idx);
  const ref = [{ name: 'c', type, nullable: true, data: takeRows(flattenColumn('c', type, vec), rows) }];
  const source = directGather(type, vec.type as DataType) ? { vector: vec, rows } : { flat: ref[0]!.data };
  const got = encodeFileIpc([{ name: 'c', type, nullable: true, source }], idx.length);
  expect(Buffer.from(got.ipc).equals(Buffer.from(tableToIPC(arrowTable(ref, idx.length), 'stream')))).toBe(true);
  expect(got.stats).toEqual(computeStats(idx.length, ref));
}

const rowsOf = (k: number): TestRow[] =>
  Array.from({ length: k }, (_, n) => ({
    id: n,
    s: n % 5 === 0 ? null : `v${n}-${'x'.repeat(n % 3 === 0 ? 60 : 2)}`, // short and long (> 48 bytes) values
    l: n % 4 === 0 ? null : n * 2 ** 33 - 7,
    i: n % 6 === 0 ? null : -n,
    d: n % 7 === 0 ? null : n / 3,
    b: n % 3 === 0 ? null : n % 2 === 0,
    t: n % 8 === 0 ? null : 1_700_000_000_000_000 + n,
    day: n % 9 === 0 ? null : 19_000 + n,
    p: n % 2 ? 'a' : 'b',
  }));

describe('rows of one file gathered from the Arrow chunks', () => {
  // Three chunks of different lengths, the middle one sliced (offsets into shared buffers, bitmaps mid-byte).
  const rows = rowsOf(40);
  const whole = arrowOf(ALL_TYPES, rows);
  const data = arrowOf(ALL_TYPES, rows.slice(0, 7)).concat(whole.slice(9, 30), arrowOf(ALL_TYPES, rows.slice(30)));
  const pick = [0, 2, 3, 6, 7, 8, 15, 16, 17, 18, 27, 28, 37];
  it.each(ALL_TYPES.map((c) => [c.name, c.type] as const))('column %s (%s) from sliced multi-chunk input', (name, type) => {
    const vec = data.getChild(name)!;
    expect(vec.data.length).toBe(3);
    expectSame(type, vec, pick);
    expectSame(type, vec, Array.from({ length: vec.length }, (_, i) => i));
    expectSame(type, vec, []);
    expectSame(type, vec, [vec.length - 1]);
  });

  it.each(ALL_TYPES.map((c) => [c.name, c.type] as const))('column %s (%s) with a chunk of nulls only', (name, type) => {
    const nulls: TestRow[] = rows.slice(0, 6).map((r) => ({ ...Object.fromEntries(Object.keys(r).map((k) => [k, null])), id: r.id! }));
    const mixed = arrowOf(ALL_TYPES, rows.slice(0, 5)).concat(arrowOf(ALL_TYPES, nulls), arrowOf(ALL_TYPES, rows.slice(5, 9)));
    const vec = mixed.getChild(name)!;
    expectSame(type, vec, [1, 4, 5, 6, 8, 10, 11, 13]);
    expectSame(type, vec, [5, 6, 7]);
  });

  const odd: [string, DeltaType, DataType, unknown[]][] = [
    ['Int16 as integer', 'integer', new Int16(), [1, null, -3, 4]],
    ['Float32 as double', 'double', new Float32(), [1.5, null, -2.25, 8]],
    ['Int32 as long (widened)', 'long', new Int32(), [1, null, -3, 2 ** 31 - 1]],
    ['Timestamp ms as timestamp (fallback)', 'timestamp', new TimestampMillisecond(), [1_700_000_000_123, null, 0, -5]],
    ['Date64 as date (fallback)', 'date', new DateMillisecond(), [new Date(86_400_000 * 3), null, new Date(0), new Date(-86_400_000)]],
    ['LargeUtf8 as string (fallback)', 'string', new LargeUtf8(), ['a', null, 'ccc', '']],
    ['dictionary as string (fallback)', 'string', new Dictionary(new Utf8(), new Int32()), ['x', 'y', null, 'x']],
    ['Bool', 'boolean', new Bool(), [true, null, false, true]],
  ];
  it.each(odd)('%s', (_label, type, arrowType, values) => {
    const vec = vectorFromArray(values, arrowType as never) as Vector;
    expectSame(type, vec, [0, 1, 3]);
    expectSame(type, vec, [2]);
  });

  it('gathers directly only the chunk types it can copy as they are', () => {
    expect(directGather('string', new Utf8())).toBe(true);
    expect(directGather('string', new LargeUtf8())).toBe(false);
    expect(directGather('string', new Dictionary(new Utf8(), new Int32()))).toBe(false);
    expect(directGather('timestamp', new TimestampMillisecond())).toBe(false);
    expect(directGather('date', new DateMillisecond())).toBe(false);
    expect(directGather('long', new Int32())).toBe(false);
    expect(directGather('integer', new Int16())).toBe(true);
  });
});
