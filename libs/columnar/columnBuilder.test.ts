import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc, readStrings, tableToRows } from './index.ts';

describe('ColumnBuilder', () => {
  it('builds typed columns with nulls that survive an IPC round trip', () => {
    const b = new ColumnBuilder([
      { name: 's', type: 'string' },
      { name: 'l', type: 'long' },
      { name: 'i', type: 'integer' },
      { name: 'd', type: 'double' },
      { name: 'b', type: 'boolean' },
      { name: 't', type: 'timestamp' },
      { name: 'day', type: 'date' },
    ]);
    b.append({ s: 'héllo', l: 2 ** 40, i: 7, d: 1.5, b: true, t: 1_700_000_000_123_456, day: 19_700 });
    b.append({ s: null, l: null, i: null, d: null, b: null, t: null, day: null });
    b.append({ s: '', l: -1, i: 0, d: 0, b: false, t: 0, day: 0 });
    const t = decodeIpc(encodeIpc(b.build()));
    expect(t.numRows).toBe(3);
    const rows = tableToRows(t);
    expect(rows[0]).toEqual({ s: 'héllo', l: 2 ** 40, i: 7, d: 1.5, b: true, t: 1_700_000_000_123_456, day: 19_700 });
    expect(rows[1]).toEqual({ s: null, l: null, i: null, d: null, b: null, t: null, day: null });
    expect(rows[2]).toEqual({ s: '', l: -1, i: 0, d: 0, b: false, t: 0, day: 0 });
  });
});

describe('ColumnBuilder constants and raw bytes', () => {
  it('fills batch constants and copies UTF-8 bytes as they are', () => {
    const b = new ColumnBuilder([
      { name: 'x', type: 'long' },
      { name: 'src', type: 'string' },
      { name: 'raw', type: 'string' },
    ]);
    b.setConstant('src', 'defender');
    b.append({ x: 1, raw: new TextEncoder().encode('{"a":"é"}') });
    b.append({ x: 2, raw: 'plain' });
    expect(tableToRows(decodeIpc(encodeIpc(b.build())))).toEqual([
      { x: 1, src: 'defender', raw: '{"a":"é"}' },
      { x: 2, src: 'defender', raw: 'plain' },
    ]);
  });
});

describe('readStrings', () => {
  it('reads a Utf8 column with nulls across batches and slices', () => {
    const mk = (vals: (string | null)[]) => {
      const b = new ColumnBuilder([{ name: 's', type: 'string' }]);
      for (const s of vals) b.append({ s });
      return b.build();
    };
    const t = mk(['a', null, 'ü']).concat(mk([null, 'z']));
    expect(readStrings(t, 's')).toEqual(['a', null, 'ü', null, 'z']);
    expect(readStrings(t.slice(1, 4), 's')).toEqual([null, 'ü', null]);
    expect(readStrings(t, 'nope')).toBeUndefined();
  });
});
