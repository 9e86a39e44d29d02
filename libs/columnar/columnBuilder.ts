// Accumulates typed rows column by column and builds an Arrow table with hand-made buffers:
// apache-arrow's generic builders (vectorFromArray) are several times slower on the hot path.
import { makeData, RecordBatch, Struct, Table, Utf8, type Data, type Schema } from 'apache-arrow';
import type { StringMap } from '@sluice/tables';
import { arrowSchema, arrowType, type ColumnSpec } from './arrowTypes.ts';
import { encodeIpc as encodeIpcFallback, schemaMessage } from './ipc.ts';
import { writeIpcStream } from './ipcWriter.ts';

/**
 * A string column may also take UTF-8 bytes as they arrived (copied as-is, never decoded and re-encoded).
 * A map column takes a plain object of string (or null) values.
 */
export type CellValue = string | number | boolean | null | Uint8Array | StringMap;
type Values = CellValue[];

export class ColumnBuilder {
  readonly specs: ColumnSpec[];
  /** One array per column; entries past `rows` are null (arrays are reused after `reset`, never shrunk). */
  private readonly values: Values[];
  private readonly constants = new Map<number, CellValue>();
  private rows = 0;
  private appendRow: Appender | undefined;

  constructor(specs: ColumnSpec[]) {
    this.specs = specs;
    this.values = specs.map(() => []);
  }

  /**
   * Gives a column one value for every row of this batch (lineage of an envelope); `append` then skips it.
   * Must be called while the builder holds no rows (before the first append, or after `reset`).
   */
  setConstant(name: string, value: CellValue): void {
    const i = this.specs.findIndex((s) => s.name === name);
    if (i < 0) throw new Error(`setConstant: unknown column "${name}"`);
    if (this.rows > 0) throw new Error(`setConstant: column "${name}": the builder already holds rows`);
    if (!this.constants.has(i)) this.appendRow = undefined;
    this.constants.set(i, value);
  }

  get length(): number {
    return this.rows;
  }

  /** Appends one row; values are already coerced (timestamps in µs, dates in days, json as text). */
  append(row: Record<string, CellValue | undefined>): void {
    (this.appendRow ??= appenderFor(this.specs, this.constants))(row, this.values, this.rows);
    this.rows++;
  }

  /**
   * Drops the rows (constants stay) so the next batch reuses the column arrays instead of growing new ones, which
   * was most of the parser's garbage. Tables built before stay valid; they do not share the arrays.
   */
  reset(): void {
    const n = this.rows;
    for (const v of this.values) v.fill(null, 0, Math.min(n, v.length));
    this.rows = 0;
  }

  build(): Table {
    const { schema } = layoutOf(this.specs);
    this.fillConstants();
    const children = this.specs.map((s, i) => buildData(s, this.values[i]!, this.rows));
    const data = makeData({ type: new Struct(schema.fields), length: this.rows, nullCount: 0, children });
    return new Table([new RecordBatch(schema, data)]);
  }

  /**
   * The rows as one Arrow IPC stream, byte for byte what `encodeIpc(this.build())` returns, written straight from
   * the appended values (ipcWriter.ts) without building apache-arrow vectors: the parser's hot path.
   */
  toIpc(): Uint8Array {
    const layout = layoutOf(this.specs);
    if (!layout.message) return encodeIpcFallback(this.build());
    this.fillConstants();
    return writeIpcStream(layout.message, this.specs, this.values, this.rows);
  }

  private fillConstants(): void {
    for (const [i, v] of this.constants) {
      const arr = this.values[i]!;
      if (arr.length < this.rows) this.values[i] = new Array<CellValue>(this.rows).fill(v);
      else if (arr[0] !== v || arr[this.rows - 1] !== v) arr.fill(v, 0, this.rows);
    }
  }
}

interface Layout {
  schema: Schema;
  /** The IPC schema message (undefined when ipc.ts does not cache this schema). */
  message: Uint8Array | undefined;
}

/** Schema and schema message per column list: by array identity first, then by content (a new array per call is common). */
const layoutsByArray = new WeakMap<readonly ColumnSpec[], Layout>();
const layoutsByKey = new Map<string, Layout>();

function layoutOf(specs: readonly ColumnSpec[]): Layout {
  let layout = layoutsByArray.get(specs);
  if (layout) return layout;
  const key = JSON.stringify(specs.map((s) => [s.name, s.type, s.nullable ?? true]));
  layout = layoutsByKey.get(key);
  if (!layout) {
    const schema = arrowSchema([...specs]);
    layout = { schema, message: schemaMessage(schema) };
    if (layoutsByKey.size < 1000) layoutsByKey.set(key, layout);
  }
  layoutsByArray.set(specs, layout);
  return layout;
}

type Appender = (row: Record<string, CellValue | undefined>, values: Values[], at: number) => void;

const appenders = new Map<string, Appender>();

/**
 * A generated row appender: one named property load per column (a keyed load with a different name per column
 * is megamorphic and dominated append). Cached by column list, so every batch of a table shares one function.
 */
function appenderFor(specs: ColumnSpec[], constants: ReadonlyMap<number, CellValue>): Appender {
  const cols = specs.flatMap((s, i) => (constants.has(i) ? [] : [[i, s.name] as const]));
  const key = JSON.stringify(cols);
  let fn = appenders.get(key);
  if (!fn) {
    // A store at `at` (== length on the first batch, in bounds once the arrays are reused).
    const body = cols.map(([i, name]) => `x = row[${JSON.stringify(name)}]; values[${i}][at] = x === undefined ? null : x;`);
    fn = new Function('row', 'values', 'at', `'use strict'; let x;\n${body.join('\n')}`) as Appender;
    if (appenders.size < 1000) appenders.set(key, fn);
  }
  return fn;
}

// makeData's overloads are keyed on the concrete DataType; the switch below guarantees the buffers match the type.
function mk(props: Record<string, unknown>): Data {
  return makeData(props as never) as Data;
}

function validity(values: readonly unknown[], n: number): { bitmap: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  for (let i = 0; i < n; i++) if (values[i] === null) nulls++;
  if (nulls === 0) return { bitmap: undefined, nulls };
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i] !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nulls };
}

function buildData(spec: ColumnSpec, values: Values, n: number): Data {
  const type = arrowType(spec.type);
  const { bitmap, nulls } = validity(values, n);
  const base = { length: n, nullCount: nulls, nullBitmap: bitmap };
  switch (spec.type) {
    case 'string':
    case 'json':
      return mk({ type, ...base, ...utf8Buffers(values, n) });
    case 'long':
    case 'timestamp':
      return mk({ type, ...base, data: int64Array(values, n) });
    case 'integer':
    case 'date': {
      const arr = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null) arr[i] = v as number;
      }
      return mk({ type, ...base, data: arr });
    }
    case 'double': {
      const arr = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null) arr[i] = v as number;
      }
      return mk({ type, ...base, data: arr });
    }
    case 'boolean': {
      const arr = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (values[i] === true) arr[i >> 3]! |= 1 << (i & 7);
      return mk({ type, ...base, data: arr });
    }
    case 'map':
      return buildMap(spec, values, n, base);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Int64 values without a BigInt per value: safe integers are written as two 32-bit halves (little-endian). */
function int64Array(values: Values, n: number): BigInt64Array {
  const arr = new BigInt64Array(n);
  const words = new Int32Array(arr.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) continue;
    const t = Math.trunc(v as number);
    if (LITTLE_ENDIAN && Number.isSafeInteger(t)) {
      words[2 * i] = t >>> 0;
      words[2 * i + 1] = Math.floor(t / 4_294_967_296);
    } else arr[i] = BigInt(t);
  }
  return arr;
}

/**
 * Offsets and UTF-8 bytes of a string column. A column of JS strings is joined and encoded with one write: when
 * the byte count equals the character count every value is ASCII and the offsets follow from the lengths
 * (most columns); otherwise, and for raw bytes (Uint8Array), each value is written on its own.
 */
function utf8Buffers(values: Values, n: number): { valueOffsets: Int32Array; data: Uint8Array } {
  const offsets = new Int32Array(n + 1);
  let bound = 0;
  let onlyStrings = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'string') bound += v.length;
    else if (v !== null) {
      onlyStrings = false;
      bound += (v as Uint8Array).length;
    }
  }
  if (onlyStrings) {
    const joined = n === values.length ? values.join('') : values.slice(0, n).join('');
    const data = Buffer.allocUnsafe(bound * 3);
    const written = data.write(joined, 0, 'utf8');
    if (written === joined.length) {
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null) pos += (v as string).length;
        offsets[i + 1] = pos;
      }
      return { valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, written) };
    }
    bound *= 3;
  } else {
    // Strings next to raw bytes: 3 bytes per UTF-16 unit is the worst case for the strings.
    bound = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null) bound += typeof v === 'string' ? v.length * 3 : (v as Uint8Array).length;
    }
  }
  const data = Buffer.allocUnsafe(bound);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'string') pos += data.write(v, pos, 'utf8');
    else if (v instanceof Uint8Array) {
      data.set(v, pos);
      pos += v.length;
    }
    offsets[i + 1] = pos;
  }
  return { valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, pos) };
}

/** Map<Utf8, Utf8>: Int32 entry offsets per row plus an entries struct of a key and a (nullable) value Utf8 column. */
function buildMap(spec: ColumnSpec, values: Values, n: number, base: { length: number; nullCount: number; nullBitmap: Uint8Array | undefined }): Data {
  const type = arrowType('map');
  const offsets = new Int32Array(n + 1);
  const keys: string[] = [];
  const vals: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      if (typeof v !== 'object' || v instanceof Uint8Array) {
        throw new TypeError(`column "${spec.name}": map column value must be an object, got ${typeof v}`);
      }
      for (const k of Object.keys(v)) {
        const x = v[k];
        keys.push(k);
        vals.push(x === undefined || x === null ? null : String(x));
      }
    }
    offsets[i + 1] = keys.length;
  }
  const keyData = utf8Data(keys, keys.length);
  const valueData = utf8Data(vals, vals.length);
  const entriesType = (type as unknown as { childType: Struct }).childType;
  const entries = mk({ type: entriesType, length: keys.length, nullCount: 0, children: [keyData, valueData] });
  return mk({ type, ...base, valueOffsets: offsets, child: entries });
}

function utf8Data(values: (string | null)[], n: number): Data {
  const { bitmap, nulls } = validity(values, n);
  let bound = 0;
  for (let i = 0; i < n; i++) bound += (values[i]?.length ?? 0) * 3;
  const data = Buffer.allocUnsafe(bound);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) pos += data.write(v, pos, 'utf8');
    offsets[i + 1] = pos;
  }
  return mk({
    type: new Utf8(),
    length: n,
    nullCount: nulls,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data: new Uint8Array(data.buffer, data.byteOffset, pos),
  });
}
