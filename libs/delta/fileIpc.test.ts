// encodeFileIpc (a data file's rows written straight into one Arrow IPC stream, stats computed on the way) against
// the path it replaces: flat columns → apache-arrow table → tableToIPC, and computeStats on the flat columns.
import { Int16, LargeUtf8, Table, tableToIPC, TimestampMillisecond, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { directGather, flattenColumn, takeRows } from './arrowColumns.ts';
import { arrowTable } from './dataFile.ts';
import { encodeFileIpc, type FileColumn } from './fileIpc.ts';
import { decodeParquet, encodeParquetIpc } from './parquetFile.ts';
import type { DeltaColumn } from './schema.ts';
import { computeStats } from './stats.ts';
import { ALL_TYPES, arrowOf, type TestRow } from './testSupport.ts';

const COLS: DeltaColumn[] = [...ALL_TYPES, { name: 'm', type: 'map', nullable: true }];

const rowsOf = (k: number): TestRow[] =>
  Array.from({ length: k }, (_, n) => ({
    id: n,
    s: n % 5 === 0 ? null : `v${n}-${'x'.repeat(n % 3 === 0 ? 60 : 2)}`,
    l: n % 4 === 0 ? null : n * 2 ** 33 - 7,
    i: n % 6 === 0 ? null : -n,
    d: n % 7 === 0 ? null : n / 3,
    b: n % 3 === 0 ? null : n % 2 === 0,
    t: n % 8 === 0 ? null : 1_700_000_000_000_000 + n,
    day: n % 9 === 0 ? null : 19_000 + n,
    p: n % 2 ? 'a' : 'b',
    m: n % 4 === 1 ? null : { k: `v${n}`, ...(n % 3 ? { z: null } : {}) },
  }));

/** Checks the IPC bytes and stats of rows `idx` of `data`, gathered (where possible) and from flat columns. */
function expectSameFile(data: Table, cols: DeltaColumn[], idx: number[]): void {
  const rows = Uint32Array.from(idx);
  const flats = cols.map((c) => ({ ...c, data: takeRows(flattenColumn(c.name, c.type, data.getChild(c.name)!), rows) }));
  const want = tableToIPC(arrowTable(flats, idx.length), 'stream');
  const wantStats = computeStats(idx.length, flats);
  const gathered: FileColumn[] = cols.map((c, k) => {
    const vec = data.getChild(c.name)!;
    return { ...c, source: directGather(c.type, vec.type as DataType) ? { vector: vec, rows } : { flat: flats[k]!.data } };
  });
  const g = encodeFileIpc(gathered, idx.length);
  expect(Buffer.from(g.ipc).equals(Buffer.from(want))).toBe(true);
  expect(g.stats).toEqual(wantStats);
  const f = encodeFileIpc(flats.map((c) => ({ ...c, source: { flat: c.data } })), idx.length);
  expect(Buffer.from(f.ipc).equals(Buffer.from(want))).toBe(true);
  expect(f.stats).toEqual(wantStats);
}

describe('encodeFileIpc', () => {
  const rows = rowsOf(40);
  const whole = arrowOf(COLS, rows);
  // Three chunks of different lengths, the middle one sliced (offsets into shared buffers, bitmaps mid-byte).
  const data = arrowOf(COLS, rows.slice(0, 7)).concat(whole.slice(9, 30), arrowOf(COLS, rows.slice(30)));

  it('writes the bytes tableToIPC writes, and the same stats, for every type and row selection', () => {
    expect(data.getChild('s')!.data.length).toBe(3);
    for (const idx of [[0, 2, 3, 6, 7, 8, 15, 16, 17, 18, 27, 28, 37], Array.from({ length: data.numRows }, (_, i) => i), [data.numRows - 1], [3, 4, 5]]) {
      expectSameFile(data, COLS, idx);
    }
  });

  it('handles chunks of nulls only and columns with no null among the chosen rows', () => {
    const nulls: TestRow[] = rows.slice(0, 6).map((r) => ({ ...Object.fromEntries(Object.keys(r).map((k) => [k, null])), id: r.id! }));
    const mixed = arrowOf(COLS, rows.slice(0, 5)).concat(arrowOf(COLS, nulls), arrowOf(COLS, rows.slice(5, 9)));
    expectSameFile(mixed, COLS, [1, 4, 5, 6, 8, 10, 11, 13]);
    expectSameFile(mixed, COLS, [5, 6, 7]);
    expectSameFile(mixed, COLS, [1, 2]);
  });

  it('takes narrower and fallback input types', () => {
    const cols: DeltaColumn[] = [
      { name: 'i', type: 'integer', nullable: true },
      { name: 't', type: 'timestamp', nullable: true },
      { name: 's', type: 'string', nullable: true },
    ];
    const t = new Table({
      i: vectorFromArray([1, null, -3, 4], new Int16()) as Vector,
      t: vectorFromArray([1_700_000_000_123, null, 0, -5], new TimestampMillisecond()) as Vector,
      s: vectorFromArray(['a', null, 'ccc', ''], new LargeUtf8()) as Vector,
    });
    expectSameFile(t, cols, [0, 1, 3]);
  });

  it('marks string columns averaging over 256 bytes as plain, and round-trips through Parquet', () => {
    const cols: DeltaColumn[] = [{ name: 'raw', type: 'string', nullable: false }, { name: 'n', type: 'long', nullable: true }];
    const t = arrowOf(cols, Array.from({ length: 20 }, (_, n) => ({ raw: `{"n":${n},"pad":"${'y'.repeat(300)}"}`, n })));
    const all = Uint32Array.from({ length: 20 }, (_, i) => i);
    const out = encodeFileIpc(cols.map((c) => ({ ...c, source: { vector: t.getChild(c.name)!, rows: all } })), 20);
    expect(out.plainColumns).toEqual(['raw']);
    const back = decodeParquet(encodeParquetIpc(out.ipc, { plainColumns: out.plainColumns }));
    expect(back.numRows).toBe(20);
    expect(back.getChild('raw')!.get(7)).toBe(`{"n":7,"pad":"${'y'.repeat(300)}"}`);
    expect(Number(back.getChild('n')!.get(19))).toBe(19);
  });
});
