import { Dictionary, Int32, Table, tableToIPC, Utf8, vectorFromArray, type Map_ } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc, readStrings, tableToRows, type CellValue } from './index.ts';

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

describe('ColumnBuilder map columns', () => {
  it('builds Map<Utf8, Utf8> that survives an IPC round trip: empty, null, unicode keys, null values', () => {
    const b = new ColumnBuilder([
      { name: 'id', type: 'long' },
      { name: 'm', type: 'map' },
    ]);
    b.append({ id: 1, m: { bucketName: 'logs', key: 'a/b.json' } });
    b.append({ id: 2, m: null });
    b.append({ id: 3, m: {} });
    b.append({ id: 4, m: { 'ключ ✓': 'värde 😀', empty: '', nothing: null } });
    b.append({ id: 5 });
    const built = b.build();
    const field = built.schema.fields[1]!;
    expect(String(field.type)).toBe('Map<{key:Utf8, value:Utf8}>');
    const t = decodeIpc(encodeIpc(built));
    const type = t.schema.fields[1]!.type as Map_;
    expect(type.keysSorted).toBe(false);
    expect(type.children[0]!.name).toBe('entries');
    expect(type.childType.children.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['key', 'Utf8', false],
      ['value', 'Utf8', true],
    ]);
    expect(t.getChild('m')!.nullCount).toBe(2);
    expect(tableToRows(t)).toEqual([
      { id: 1, m: { bucketName: 'logs', key: 'a/b.json' } },
      { id: 2, m: null },
      { id: 3, m: {} },
      { id: 4, m: { 'ключ ✓': 'värde 😀', empty: '', nothing: null } },
      { id: 5, m: null },
    ]);
  });

  it('keeps a "__proto__" key as an own property when reading rows back', () => {
    const b = new ColumnBuilder([{ name: 'm', type: 'map' }]);
    b.append({ m: JSON.parse('{"__proto__":"x"}') as Record<string, string> });
    const [row] = tableToRows(decodeIpc(encodeIpc(b.build())));
    const m = row!.m as object;
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.keys(m)).toEqual(['__proto__']);
  });

  it('fills a map batch constant', () => {
    const b = new ColumnBuilder([
      { name: 'x', type: 'long' },
      { name: 'tags', type: 'map' },
    ]);
    b.setConstant('tags', { env: 'prod' });
    b.append({ x: 1 });
    b.append({ x: 2 });
    expect(tableToRows(decodeIpc(encodeIpc(b.build())))).toEqual([
      { x: 1, tags: { env: 'prod' } },
      { x: 2, tags: { env: 'prod' } },
    ]);
  });
});


describe('ColumnBuilder fast paths', () => {
  it('writes int64 halves exactly: negatives, safe bounds, unsafe values, fractions', () => {
    const vals = [-1, -(2 ** 53) + 1, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 60), -0, 1.7, -1.7, 4_294_967_296, -4_294_967_297, null];
    const b = new ColumnBuilder([{ name: 'l', type: 'long' }]);
    for (const l of vals) b.append({ l });
    const col = b.build().getChild('l')!;
    const raw = col.data[0]!.values as BigInt64Array;
    expect([...raw].slice(0, 10)).toEqual(vals.slice(0, 10).map((v) => BigInt(Math.trunc(v as number))));
    expect(col.get(10)).toBeNull();
  });

  it('encodes ASCII columns in one write and falls back per value for non-ASCII and lone surrogates', () => {
    const cases: (string | null)[][] = [
      ['abc', null, '', 'xyz'],
      ['plain', 'ünïcode', null, '😀'],
      // A lone high surrogate then a lone low one: encoded value by value, never joined into one pair.
      ['\uD83D', '\uDE00', 'a'],
    ];
    for (const vals of cases) {
      const b = new ColumnBuilder([{ name: 's', type: 'string' }]);
      for (const s of vals) b.append({ s });
      const d = b.build().getChild('s')!.data[0]!;
      const expected = vals.map((v) => (v === null ? Buffer.alloc(0) : Buffer.from(v, 'utf8')));
      expect(Buffer.from(d.values)).toEqual(Buffer.concat(expected));
      expect([...d.valueOffsets]).toEqual(expected.reduce((o, e) => [...o, o[o.length - 1]! + e.length], [0]));
    }
  });

  it('encodes IPC streams byte for byte as apache-arrow does, with the schema message cached', () => {
    const specs = [
      { name: 's', type: 'string' as const },
      { name: 'm', type: 'map' as const },
      { name: 't', type: 'timestamp' as const, nullable: false },
    ];
    for (let i = 0; i < 3; i++) {
      const b = new ColumnBuilder(specs);
      b.append({ s: `row ${i}`, m: { k: 'v' }, t: i });
      const t = b.build();
      expect(Buffer.from(encodeIpc(t))).toEqual(Buffer.from(tableToIPC(t, 'stream')));
    }
    const dict = new Table({ d: vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())) });
    expect(Buffer.from(encodeIpc(dict))).toEqual(Buffer.from(tableToIPC(dict, 'stream')));
  });
});

describe('ColumnBuilder.toIpc (the direct IPC writer)', () => {
  const specs = [
    { name: 's', type: 'string' as const },
    { name: 'j', type: 'json' as const },
    { name: 'raw', type: 'string' as const },
    { name: 'l', type: 'long' as const },
    { name: 'i', type: 'integer' as const },
    { name: 'd', type: 'double' as const },
    { name: 'b', type: 'boolean' as const },
    { name: 't', type: 'timestamp' as const, nullable: false },
    { name: 'day', type: 'date' as const },
    { name: 'm', type: 'map' as const },
    { name: 'src', type: 'string' as const },
    { name: 'seq', type: 'long' as const },
  ];
  const enc = new TextEncoder();
  // Deterministic rows covering nulls, ASCII and not, raw bytes next to strings, unsafe int64, maps with null values.
  const row = (k: number): Record<string, CellValue> => ({
    s: k % 5 === 0 ? null : k % 7 === 0 ? `ünï ${k} 😀` : `host-${k}`,
    j: k % 3 === 0 ? null : JSON.stringify({ k }),
    raw: k % 4 === 0 ? `text ${k}` : enc.encode(`{"n":${k},"x":"é"}`),
    l: k % 6 === 0 ? null : k % 11 === 0 ? 2 ** 60 : -k * 4_294_967_297,
    i: k % 2 ? k : null,
    d: k % 9 === 0 ? null : k / 3,
    b: k % 3 === 0 ? null : k % 2 === 0,
    t: 1_700_000_000_000_000 + k,
    day: k % 8 === 0 ? null : 19_000 + k,
    m: k % 4 === 0 ? null : k % 4 === 1 ? {} : { key: `v${k}`, none: null, ключ: 'värde' },
  });

  it('writes exactly the bytes of encodeIpc(build()) and tableToIPC for batches of 0 to 70 rows', () => {
    for (const n of [0, 1, 2, 7, 8, 9, 33, 70]) {
      const b = new ColumnBuilder(specs);
      b.setConstant('src', 'defender');
      b.setConstant('seq', 42);
      for (let k = 0; k < n; k++) b.append(row(k));
      const direct = Buffer.from(b.toIpc());
      const t = b.build();
      expect(direct).toEqual(Buffer.from(encodeIpc(t)));
      expect(direct).toEqual(Buffer.from(tableToIPC(t, 'stream')));
      expect(tableToRows(decodeIpc(direct))).toEqual(tableToRows(t));
    }
  });

  it('reuses its arrays after reset: later, smaller batches carry nothing of earlier ones', () => {
    const b = new ColumnBuilder(specs);
    b.setConstant('src', 'a');
    b.setConstant('seq', 1);
    for (let k = 0; k < 50; k++) b.append(row(k));
    b.toIpc();
    b.reset();
    b.setConstant('src', 'b');
    b.setConstant('seq', 2);
    for (let k = 100; k < 103; k++) b.append(row(k));
    const fresh = new ColumnBuilder(specs);
    fresh.setConstant('src', 'b');
    fresh.setConstant('seq', 2);
    for (let k = 100; k < 103; k++) fresh.append(row(k));
    expect(b.length).toBe(3);
    expect(Buffer.from(b.toIpc())).toEqual(Buffer.from(tableToIPC(fresh.build(), 'stream')));
    expect(tableToRows(b.build()).map((r) => [r.src, r.seq, r.t])).toEqual([100, 101, 102].map((k) => ['b', 2, 1_700_000_000_000_000 + k]));
  });

  it('refuses a constant once rows are held, and grows its scratch for large batches', () => {
    const b = new ColumnBuilder([{ name: 'raw', type: 'string' }]);
    b.append({ raw: 'x' });
    expect(() => b.setConstant('raw', 'y')).toThrow(/already holds rows/);
    b.reset();
    const big = 'é'.repeat(300_000);
    b.append({ raw: big });
    b.append({ raw: enc.encode(big) });
    b.append({ raw: null });
    const t = decodeIpc(b.toIpc());
    expect(readStrings(t, 'raw')).toEqual([big, big, null]);
  });
});
