import { Table, type Data, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBuilder } from './columnBuilder.ts';
import { decodeIpc, encodeIpc } from './ipc.ts';
import { decodeIpcStream, ipcDecodeFallbacks } from './ipcDecode.ts';
import { tableToRows } from './arrowTypes.ts';

function builder(n: number, seed = 0): ColumnBuilder {
  const b = new ColumnBuilder([
    { name: 's', type: 'string' },
    { name: 'l', type: 'long' },
    { name: 'i', type: 'integer' },
    { name: 'd', type: 'double' },
    { name: 'b', type: 'boolean' },
    { name: 't', type: 'timestamp' },
    { name: 'day', type: 'date' },
    { name: 'm', type: 'map' },
  ]);
  for (let r = 0; r < n; r++) {
    const k = r + seed;
    b.append({ s: k % 3 ? `v${k}é` : null, l: k % 4 ? k * 1_000_003 : null, i: k % 5 ? k : null, d: k % 2 ? k / 3 : null, b: k % 6 ? k % 2 === 0 : null, t: k % 7 ? 1_700_000_000_000_000 + k : null, day: k % 8 ? 19_000 + k : null, m: k % 9 ? { a: String(k), b: null } : null });
  }
  return b;
}

const sample = (n: number, seed = 0): Table => builder(n, seed).build();

function same(bytes: Uint8Array): Table {
  const got = decodeIpcStream(bytes);
  expect(got).not.toBeNull();
  const want = tableFromIPC(bytes);
  expect(got!.numRows).toBe(want.numRows);
  expect(got!.batches.length).toBe(want.batches.length);
  expect(String(got!.schema)).toBe(String(want.schema));
  expect(got!.schema.fields.map((f) => [f.name, f.nullable, String(f.type)])).toEqual(want.schema.fields.map((f) => [f.name, f.nullable, String(f.type)]));
  expect(tableToRows(got!)).toEqual(tableToRows(want));
  // The Data as apache-arrow's reader builds it: lengths, null counts, buffer kinds and bytes, children.
  const shape = (d: Data): unknown => ({
    type: String(d.type),
    length: d.length,
    nullCount: d.nullCount,
    buffers: (d.buffers as unknown as (ArrayBufferView | undefined)[]).map((b) => (b ? [b.constructor.name, [...new Uint8Array(b.buffer, b.byteOffset, b.byteLength)]] : b)),
    children: d.children.map(shape),
  });
  expect(got!.batches.map((b) => shape(b.data))).toEqual(want.batches.map((b) => shape(b.data)));
  return got!;
}

describe('decodeIpcStream', () => {
  it('equals tableFromIPC for every sink type with nulls, from encodeIpc and the parser writer', () => {
    same(encodeIpc(sample(300)));
    same(builder(300, 5).toIpc()); // the parser's writer (ipcWriter.ts)
  });

  it('handles empty batches, several batches and a schema-cache hit with other batches', () => {
    same(encodeIpc(sample(0)));
    const multi = new Table([...sample(10).batches, ...sample(20, 3).batches]);
    same(tableToIPC(multi, 'stream'));
    const a = same(encodeIpc(sample(5)));
    const b = same(encodeIpc(sample(7, 11)));
    expect(a.schema).toBe(b.schema);
  });

  it('reads unaligned input', () => {
    const bytes = encodeIpc(sample(50));
    for (const shift of [1, 3, 4, 5]) {
      const buf = new Uint8Array(bytes.length + shift);
      buf.set(bytes, shift);
      same(buf.subarray(shift));
    }
  });

  it('falls back for dictionaries, schema-only streams and truncated input; decodeIpc is always tableFromIPC', () => {
    const dict = new Table({ c: vectorFromArray(['a', 'b', 'a']) });
    const n = ipcDecodeFallbacks.count;
    expect(decodeIpcStream(tableToIPC(dict, 'stream'))).toBeNull();
    expect(tableToRows(decodeIpc(tableToIPC(dict, 'stream')))).toEqual([{ c: 'a' }, { c: 'b' }, { c: 'a' }]);
    const schemaOnly = tableToIPC(new Table(sample(1).schema), 'stream');
    expect(decodeIpcStream(schemaOnly)).toBeNull();
    expect(decodeIpc(schemaOnly).numRows).toBe(0);
    const full = encodeIpc(sample(20));
    expect(decodeIpcStream(full.subarray(0, full.length - 40))).toBeNull();
    expect(ipcDecodeFallbacks.count).toBe(n + 5); // three here, two through decodeIpc
  });
});
