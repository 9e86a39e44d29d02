// Tests of record → row coercion: every column type, paths, nullability, units, eventDate and the failure reasons.
// Uses a small hand-written definition; the Defender tables are covered in defender/defenderTables.test.ts.
import { describe, expect, it } from 'vitest';
import { coerceRecord, compileCoercer, type CoerceResult } from './coerce.ts';
import type { ColumnDef, Row, TableDefinition } from './tableDefinition.ts';

const T0 = Date.UTC(2023, 0, 4, 14, 7, 32) * 1000;

function table(columns: ColumnDef[], extra: Partial<TableDefinition> = {}): TableDefinition {
  return { name: 't', layer: 'bronze', doc: 'test', columns, partitionBy: [], expectations: [], ...extra };
}

function row(r: CoerceResult): Row {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.row;
}

function reason(r: CoerceResult): string {
  if (r.ok) throw new Error(`expected failure, got row ${JSON.stringify(r.row)}`);
  return r.reason;
}

/** Coerces `{ v: value }` into a single column of `type`. */
function one(type: ColumnDef['type'], value: unknown, extra: Partial<ColumnDef> = {}): CoerceResult {
  return coerceRecord(table([{ name: 'V', type, from: 'v', ...extra }]), { v: value });
}

describe('coerceRecord: types', () => {
  it('string: keeps strings, stringifies numbers and booleans, rejects objects', () => {
    expect(row(one('string', 'abc')).V).toBe('abc');
    expect(row(one('string', '')).V).toBe('');
    expect(row(one('string', 42)).V).toBe('42');
    expect(row(one('string', 1.5)).V).toBe('1.5');
    expect(row(one('string', false)).V).toBe('false');
    expect(reason(one('string', { a: 1 }))).toBe('column V: expected string, got object');
    expect(reason(one('string', [1]))).toBe('column V: expected string, got array');
  });

  it('long: numbers and integer strings within the safe range', () => {
    expect(row(one('long', 2 ** 40)).V).toBe(2 ** 40);
    expect(row(one('long', '-17')).V).toBe(-17);
    expect(row(one('long', ' 9007199254740991 ')).V).toBe(Number.MAX_SAFE_INTEGER);
    expect(reason(one('long', 1.5))).toBe('column V: expected long, got number 1.5 (not an integer)');
    expect(reason(one('long', '1.5'))).toBe('column V: expected long, got string "1.5"');
    expect(reason(one('long', '12abc'))).toBe('column V: expected long, got string "12abc"');
    expect(reason(one('long', 2 ** 60))).toMatch(/^column V: expected long, got number .* \(out of safe integer range\)$/);
    expect(reason(one('long', true))).toBe('column V: expected long, got boolean true');
  });

  it('integer: 32-bit range', () => {
    expect(row(one('integer', 2_147_483_647)).V).toBe(2_147_483_647);
    expect(row(one('integer', '-2147483648')).V).toBe(-2_147_483_648);
    expect(row(one('integer', '443')).V).toBe(443);
    expect(reason(one('integer', 2_147_483_648))).toBe('column V: expected integer, got number 2147483648 (out of 32-bit range)');
    expect(reason(one('integer', 'abc'))).toBe('column V: expected integer, got string "abc"');
    expect(reason(one('integer', 0.5))).toBe('column V: expected integer, got number 0.5 (not an integer)');
  });

  it('double: numbers and numeric strings', () => {
    expect(row(one('double', 1.25)).V).toBe(1.25);
    expect(row(one('double', '-3.5e2')).V).toBe(-350);
    expect(row(one('double', '.5')).V).toBe(0.5);
    expect(reason(one('double', 'NaN'))).toBe('column V: expected double, got string "NaN"');
    expect(reason(one('double', Infinity))).toBe('column V: expected double, got number Infinity');
  });

  it('boolean: booleans and true/false text in any case', () => {
    expect(row(one('boolean', true)).V).toBe(true);
    expect(row(one('boolean', 'false')).V).toBe(false);
    expect(row(one('boolean', 'True')).V).toBe(true);
    expect(reason(one('boolean', 1))).toBe('column V: expected boolean, got number 1');
    expect(reason(one('boolean', 'yes'))).toBe('column V: expected boolean, got string "yes"');
  });

  it('timestamp: ISO text with 7-digit fractions and offsets, numbers in the column unit', () => {
    expect(row(one('timestamp', '2023-01-04T14:07:32.6213639Z')).V).toBe(T0 + 621_363);
    expect(row(one('timestamp', '2023-01-04T16:07:32.6213639+02:00')).V).toBe(T0 + 621_363);
    expect(row(one('timestamp', T0 / 1000 + 0.5)).V).toBe(T0 + 500);
    expect(row(one('timestamp', String(T0 / 1000))).V).toBe(T0);
    expect(row(one('timestamp', T0 / 1_000_000, { unit: 's' })).V).toBe(T0);
    expect(row(one('timestamp', 1_672_841_252.25, { unit: 's' })).V).toBe(1_672_841_252_250_000);
    expect(row(one('timestamp', T0 + 7, { unit: 'us' })).V).toBe(T0 + 7);
    expect(reason(one('timestamp', 'yesterday'))).toBe('column V: expected timestamp, got string "yesterday"');
    expect(reason(one('timestamp', '2023-02-30T00:00:00Z'))).toBe('column V: expected timestamp, got string "2023-02-30T00:00:00Z"');
    expect(reason(one('timestamp', true))).toBe('column V: expected timestamp, got boolean true');
    expect(reason(one('timestamp', 1e300))).toMatch(/\(out of range\)$/);
  });

  it('date: YYYY-MM-DD or timestamp text to epoch days, integers as epoch days', () => {
    expect(row(one('date', '2023-01-04')).V).toBe(19_361);
    expect(row(one('date', '2023-01-04T23:59:59.9999999Z')).V).toBe(19_361);
    expect(row(one('date', 19_361)).V).toBe(19_361);
    expect(reason(one('date', 1.5))).toBe('column V: expected date, got number 1.5 (not whole epoch days)');
    expect(reason(one('date', '04/01/2023'))).toBe('column V: expected date, got string "04/01/2023"');
  });

  it('json: objects and arrays as JSON text, strings kept as they are', () => {
    expect(row(one('json', { IsLocalLogon: true, n: [1, 2] })).V).toBe('{"IsLocalLogon":true,"n":[1,2]}');
    expect(row(one('json', [1, 'a'])).V).toBe('[1,"a"]');
    expect(row(one('json', '{"already":"text"}')).V).toBe('{"already":"text"}');
    expect(row(one('json', 7)).V).toBe('7');
    expect(row(one('json', false)).V).toBe('false');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(reason(one('json', cyclic))).toMatch(/^column V: expected json, got object \(.*circular.*\)$/i);
  });
});

describe('coerceRecord: presence and paths', () => {
  const def = table(
    [
      { name: 'Timestamp', type: 'timestamp', nullable: false, from: 'properties.Timestamp' },
      { name: 'DeviceId', type: 'string', nullable: false, from: 'properties.DeviceId' },
      { name: 'RemotePort', type: 'integer', from: 'properties.RemotePort' },
      { name: 'Deep', type: 'string', from: 'a.b.c' },
      { name: 'TenantId', type: 'string', from: 'tenantId' },
      { name: 'Plain', type: 'long' },
    ],
    { layer: 'silver', eventTime: 'Timestamp', partitionBy: ['eventDate'] },
  );
  const coerce = compileCoercer(def);
  const good = { tenantId: 'tn', properties: { Timestamp: '2023-01-04T14:07:32.6213639Z', DeviceId: 'dev', RemotePort: 443 }, a: { b: { c: 'deep' } }, Plain: '5' };

  it('extracts dotted paths and derives eventDate from the eventTime column', () => {
    expect(row(coerce(good))).toEqual({
      Timestamp: T0 + 621_363,
      DeviceId: 'dev',
      RemotePort: 443,
      Deep: 'deep',
      TenantId: 'tn',
      Plain: 5,
      eventDate: 19_361,
    });
  });

  it('gives every row the same keys, nulls for missing nullable columns and for "" in non-string columns', () => {
    const r = row(coerce({ properties: { Timestamp: '2023-01-04T14:07:32Z', DeviceId: '', RemotePort: '' }, a: 'not an object' }));
    expect(r).toEqual({ Timestamp: T0, DeviceId: '', RemotePort: null, Deep: null, TenantId: null, Plain: null, eventDate: 19_361 });
    expect(Object.keys(r)).toEqual(Object.keys(row(coerce(good))));
  });

  it('names the column in failures', () => {
    expect(reason(coerce({ properties: { DeviceId: 'd' } }))).toBe('column Timestamp: required but missing');
    expect(reason(coerce({ properties: { Timestamp: null, DeviceId: 'd' } }))).toBe('column Timestamp: required but missing');
    expect(reason(coerce({ properties: { Timestamp: '', DeviceId: 'd' } }))).toBe('column Timestamp: required but missing');
    expect(reason(coerce({ properties: { Timestamp: '2023-01-04T14:07:32Z' } }))).toBe('column DeviceId: required but missing');
    expect(reason(coerce({ ...good, properties: { ...good.properties, RemotePort: 'abc' } }))).toBe(
      'column RemotePort: expected integer, got string "abc"',
    );
    expect(reason(coerce({}))).toBe('column Timestamp: required but missing');
  });

  it('rejects records that are not objects', () => {
    expect(reason(coerce(null))).toBe('record: expected object, got null');
    expect(reason(coerce('text'))).toBe('record: expected object, got string "text"');
    expect(reason(coerce([1]))).toBe('record: expected object, got array');
  });

  it('derives nothing when eventDate is declared, and fails when a nullable eventTime is null', () => {
    const declared = table([
      { name: 'At', type: 'timestamp' },
      { name: 'eventDate', type: 'date', from: 'day' },
    ], { eventTime: 'At' });
    expect(row(coerceRecord(declared, { At: '2023-01-04T00:00:00Z', day: '2020-01-01' })).eventDate).toBe(18_262);
    const nullableTime = table([{ name: 'At', type: 'timestamp' }], { eventTime: 'At' });
    expect(reason(coerceRecord(nullableTime, {}))).toBe('column At: event time missing, cannot derive eventDate');
  });

  it('is not fooled by odd column names or inherited properties', () => {
    const odd = table([
      { name: "it's \"quoted\"", type: 'string', from: 'x' },
      { name: 'toString', type: 'string' },
    ]);
    expect(row(coerceRecord(odd, { x: 'ok' }))).toEqual({ "it's \"quoted\"": 'ok', toString: null });
    expect(() => compileCoercer(table([{ name: '__proto__', type: 'string' }]))).toThrow(/__proto__/);
  });
});

describe('coerceRecord: map columns', () => {
  it('map: scalar values as text, null kept, nested objects and arrays as JSON text', () => {
    expect(row(one('map', { bucketName: 'logs', size: 42, ok: true, n: null, ratio: 1.5 })).V).toEqual({
      bucketName: 'logs',
      size: '42',
      ok: 'true',
      n: null,
      ratio: '1.5',
    });
    expect(row(one('map', { filter: { a: [1, 'x'] }, list: [1, 2] })).V).toEqual({ filter: '{"a":[1,"x"]}', list: '[1,2]' });
    expect(row(one('map', {})).V).toEqual({});
    expect(row(one('map', { 'ключ ✓': 'värde' })).V).toEqual({ 'ключ ✓': 'värde' });
  });

  it('map: a "__proto__" key from JSON stays an ordinary own key', () => {
    const m = row(one('map', JSON.parse('{"__proto__": "x", "a": "b"}'))).V as Record<string, string | null>;
    expect(Object.keys(m)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(m, '__proto__')?.value).toBe('x');
  });

  it('map: missing, null and "" are null; non-objects fail naming the column', () => {
    expect(row(one('map', undefined)).V).toBeNull();
    expect(row(one('map', null)).V).toBeNull();
    expect(row(one('map', '')).V).toBeNull();
    expect(reason(one('map', 'abc'))).toBe('column V: expected map, got string "abc"');
    expect(reason(one('map', [1, 2]))).toBe('column V: expected map, got array');
    expect(reason(one('map', 7))).toBe('column V: expected map, got number 7');
    expect(reason(one('map', null, { nullable: false }))).toBe('column V: required but missing');
  });
});

