// Accumulates typed rows column by column and builds an Arrow table with hand-made buffers:
// apache-arrow's generic builders (vectorFromArray) are several times slower on the hot path.
import { makeData, RecordBatch, Struct, Table, Utf8, type Data } from 'apache-arrow';
import type { StringMap } from '@sluice/tables';
import { arrowSchema, arrowType, type ColumnSpec } from './arrowTypes.ts';

/**
 * A string column may also take UTF-8 bytes as they arrived (copied as-is, never decoded and re-encoded).
 * A map column takes a plain object of string (or null) values.
 */
export type CellValue = string | number | boolean | null | Uint8Array | StringMap;
type Values = CellValue[];

export class ColumnBuilder {
  readonly specs: ColumnSpec[];
  private readonly values: Values[];
  private readonly constants = new Map<number, CellValue>();
  private rows = 0;

  constructor(specs: ColumnSpec[]) {
    this.specs = specs;
    this.values = specs.map(() => []);
  }

  /**
   * Gives a column one value for every row of this batch (lineage of an envelope); `append` then skips it.
   * Must be called before the first append.
   */
  setConstant(name: string, value: CellValue): void {
    const i = this.specs.findIndex((s) => s.name === name);
    if (i < 0) throw new Error(`setConstant: unknown column "${name}"`);
    this.constants.set(i, value);
  }

  get length(): number {
    return this.rows;
  }

  /** Appends one row; values are already coerced (timestamps in µs, dates in days, json as text). */
  append(row: Record<string, CellValue | undefined>): void {
    for (let i = 0; i < this.specs.length; i++) {
      if (this.constants.size > 0 && this.constants.has(i)) continue;
      const v = row[this.specs[i]!.name];
      this.values[i]!.push(v === undefined ? null : v);
    }
    this.rows++;
  }

  build(): Table {
    const schema = arrowSchema(this.specs);
    for (const [i, v] of this.constants) this.values[i] = new Array<CellValue>(this.rows).fill(v);
    const children = this.specs.map((s, i) => buildData(s, this.values[i]!, this.rows));
    const data = makeData({ type: new Struct(schema.fields), length: this.rows, nullCount: 0, children });
    return new Table([new RecordBatch(schema, data)]);
  }
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
    case 'json': {
      // One pass: write into a buffer sized for the worst case (3 bytes per UTF-16 unit), then trim.
      let bound = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null) bound += typeof v === 'string' ? v.length * 3 : (v as Uint8Array).length;
      }
      const data = Buffer.allocUnsafe(bound);
      const offsets = new Int32Array(n + 1);
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
      return mk({ type, ...base, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, pos) });
    }
    case 'long':
    case 'timestamp': {
      const arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null) arr[i] = BigInt(Math.trunc(v as number));
      }
      return mk({ type, ...base, data: arr });
    }
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
