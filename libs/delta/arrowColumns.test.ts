// gatherColumn (rows of one partition copied straight from the Arrow chunks) against the reference path it
// replaces, flattenColumn + takeRows: same values, validity and offsets for every chunk layout and input type.
import { Bool, DateMillisecond, Dictionary, Float32, Int16, Int32, LargeUtf8, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { flattenColumn, gatherColumn, takeRows, type FlatColumn } from './arrowColumns.ts';
import type { DeltaType } from './schema.ts';
import { ALL_TYPES, arrowOf, type TestRow } from './testSupport.ts';

/** Plain arrays of a FlatColumn, so two columns compare by content whatever their buffers. */
function plain(c: FlatColumn): unknown {
  // No validity bytes and all ones mean the same: every row present.
  const valid = c.valid && c.valid.includes(0) ? Array.from(c.valid) : null;
  switch (c.kind) {
    case 'utf8':
      return { kind: c.kind, valid, offsets: Array.from(c.offsets), bytes: Array.from(c.bytes.subarray(0, c.offsets[c.length])) };
    case 'map':
      return { kind: c.kind, valid, offsets: Array.from(c.offsets), keys: plain(c.keys), values: plain(c.values) };
    default:
      return { kind: c.kind, valid, values: Array.from(c.values as ArrayLike<unknown>) };
  }
}

function expectSame(type: DeltaType, vec: Vector, idx: number[]): void {
  const rows = Uint32Array.from(idx);
  const got = gatherColumn(type, vec, rows, () => flattenColumn('c', type, vec));
  expect(got.length).toBe(idx.length);
  expect(plain(got)).toEqual(plain(takeRows(flattenColumn('c', type, vec), rows)));
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

describe('gatherColumn', () => {
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

  it('uses the flattened fallback only for chunk types it cannot copy directly', () => {
    let calls = 0;
    const count = (vec: Vector, type: DeltaType) => () => (calls++, flattenColumn('c', type, vec));
    const utf8 = data.getChild('s')!;
    gatherColumn('string', utf8, Uint32Array.of(1, 2), count(utf8, 'string'));
    expect(calls).toBe(0);
    const large = vectorFromArray(['a', 'b'], new LargeUtf8()) as Vector;
    gatherColumn('string', large, Uint32Array.of(1), count(large, 'string'));
    expect(calls).toBe(1);
  });
});
