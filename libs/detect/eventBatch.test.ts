// arrowBatch reads columns from their buffers: every cell must equal what apache-arrow's get() gives (the earlier
// reader), for each column type the tables use, with nulls, sliced chunks and several record batches; ipcBatch
// (only the columns asked for, from IPC bytes) must equal arrowBatch over the full decode.
import { Bool, Float64, Int32, Int64, Table, TimeUnit, Timestamp, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { arrowBatch, type Cell } from './eventBatch.ts';
import { ipcBatch, ipcFallbacks } from './ipcBatch.ts';

const T = 1_710_160_140_759_921; // µs
const cols: [string, DataType, unknown[]][] = [
  ['s', new Utf8(), ['a', null, 'Grüße', '', 'x'.repeat(300), 'z', null, 'é', 'q', 'r']],
  // vectorFromArray takes ms: the stored µs of T and T + 1 are beyond 2^53 (read through BigInt), the others not.
  ['ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), [T, null, T + 1, -1.5, 0, T / 1000, 1_710_160_140_759.921, null, -0.001, 123_456_789]],
  ['ms', new Timestamp(TimeUnit.MILLISECOND, 'UTC'), [1, 2, null, 4, 5, 6, 7, 8, 9, 10]],
  ['i64', new Int64(), [1n, -2n, null, 2n ** 40n, -(2n ** 40n), 2n ** 60n, 0n, 5n, 6n, 7n]],
  ['i32', new Int32(), [1, -2, null, 3, 4, 5, 6, 7, 8, 9]],
  ['f', new Float64(), [0.5, null, -1e300, 3, 4, 5, 6, 7, 8, Number.NaN]],
  ['b', new Bool(), [true, false, null, true, true, false, false, true, null, true]],
];
const table = new Table(Object.fromEntries(cols.map(([n, t, v]) => [n, vectorFromArray(v, t)])));

function viaGet(t: Table, name: string): Cell[] {
  const v = t.getChild(name)!;
  return Array.from({ length: t.numRows }, (_, r) => {
    const x = v.get(r) as unknown;
    return typeof x === 'bigint' ? Number(x) : (x as Cell);
  });
}

describe('arrowBatch', () => {
  it('reads every type like apache-arrow get(), with nulls', () => {
    const b = arrowBatch('t', decodeIpc(encodeIpc(table)));
    for (const [n] of cols) expect(b.column(n), n).toEqual(viaGet(table, n));
    expect(b.column('ts')![6]).toBeCloseTo(1_710_160_140_759.921, 3);
    expect(b.column('ts')![3]).toBe(-1.5);
    expect(b.column('i64')![5]).toBe(2 ** 60);
    expect(b.column('missing')).toBeUndefined();
  });

  it('reads sliced chunks and several record batches', () => {
    const many = new Table([...table.slice(0, 4).batches, ...table.slice(3).batches, ...table.slice(7, 9).batches]);
    const b = arrowBatch('t', many);
    expect(b.numRows).toBe(4 + 7 + 2);
    for (const [n] of cols) expect(b.column(n), n).toEqual(viaGet(many, n));
  });
});

describe('ipcBatch', () => {
  const same = (bytes: Uint8Array) => {
    const lazy = ipcBatch('t', bytes);
    const full = arrowBatch('t', decodeIpc(bytes));
    const names = decodeIpc(bytes).schema.fields.map((f) => f.name);
    expect(lazy.numRows).toBe(full.numRows);
    // Reverse order: a column's position must not depend on the columns read before it.
    for (const n of [...names].reverse()) expect(lazy.column(n), n).toEqual(full.column(n));
    expect(lazy.column('missing')).toBeUndefined();
    return names.length;
  };

  it('decodes columns on demand like the full decode, for every type and several record batches', () => {
    same(encodeIpc(table));
    same(encodeIpc(new Table([...table.slice(0, 4).batches, ...table.slice(3).batches])));
  });

  it('reads a silver table (maps, structs, lineage) from unaligned bytes, as a NATS payload arrives', () => {
    const def = allTables().find((t) => t.name === 'defender_device_network_events')!;
    const b = new ColumnBuilder(fullColumnsOf(def));
    b.append({ Timestamp: 1_710_160_140_759_921, DeviceName: 'ws-1', RemoteIP: '10.0.0.1', RemotePort: 443, _source: 's', _object: 'o', _raw_seq: 3 });
    b.append({ Timestamp: null, DeviceName: null, RemoteUrl: 'a.example.com/x', RemotePort: null, _source: 's', _object: 'o', _raw_seq: 4 });
    const bytes = encodeIpc(b.build());
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    expect(same(bytes)).toBeGreaterThan(40);
    same(unaligned);
    // A NATS payload is a Node Buffer (whose slice() is a view, not a copy) at any offset of a larger one.
    const pooled = Buffer.alloc(bytes.length + 3);
    pooled.set(bytes, 3);
    same(pooled.subarray(3));
    expect(ipcBatch('t', unaligned).column('RemoteIP')).toEqual(['10.0.0.1', null]);
    expect(ipcFallbacks.count).toBe(0);
  });

  it('reads every type from bytes at each offset modulo 8, several record batches (only the column range copied)', () => {
    const bytes = encodeIpc(new Table([...table.slice(0, 4).batches, ...table.slice(3).batches]));
    for (let off = 0; off < 8; off++) {
      const pooled = Buffer.alloc(bytes.length + off);
      pooled.set(bytes, off);
      expect(same(pooled.subarray(off))).toBe(cols.length);
    }
    expect(ipcFallbacks.count).toBe(0);
  });
});
