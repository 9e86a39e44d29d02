// Flat per-column value arrays for the write path (validate input types, gather rows per partition,
// rebuild Arrow data), plus generic Arrow value → plain JS conversion for the read path.
import {
  DataType,
  DateUnit,
  makeData,
  MapRow,
  StructRow,
  TimeUnit,
  Vector,
  type Data,
} from 'apache-arrow';
import { mapRowToObject } from '@sluice/columnar';
import { deltaArrowType, type DeltaType } from './schema.ts';

/** Values of one column across all batches; `valid` is one byte per row (1 = present) or null when no nulls. */
export type FlatColumn =
  | { kind: 'int64'; length: number; valid: Uint8Array | null; values: BigInt64Array }
  | { kind: 'int32'; length: number; valid: Uint8Array | null; values: Int32Array }
  | { kind: 'float64'; length: number; valid: Uint8Array | null; values: Float64Array }
  | { kind: 'bool'; length: number; valid: Uint8Array | null; values: Uint8Array }
  | Utf8Column
  /** map<string,string>: row i's entries are [offsets[i], offsets[i+1]) of keys/values (offsets[0] is 0). */
  | { kind: 'map'; length: number; valid: Uint8Array | null; offsets: Int32Array; keys: Utf8Column; values: Utf8Column };

type Utf8Column = { kind: 'utf8'; length: number; valid: Uint8Array | null; offsets: Int32Array; bytes: Uint8Array };
type MapColumn = Extract<FlatColumn, { kind: 'map' }>;

export type CellValue = bigint | number | boolean | string | null;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Epoch µs from a raw timestamp in `unit`. */
export function toMicros(v: bigint, unit: TimeUnit): bigint {
  switch (unit) {
    case TimeUnit.SECOND:
      return v * 1_000_000n;
    case TimeUnit.MILLISECOND:
      return v * 1000n;
    case TimeUnit.MICROSECOND:
      return v;
    case TimeUnit.NANOSECOND:
      return floorDiv(v, 1000n);
  }
}

/** Input Arrow types accepted for each Delta type (widening only, never lossy). */
export function accepts(t: DeltaType, a: DataType): boolean {
  switch (t) {
    case 'long':
      return DataType.isInt(a) && a.isSigned;
    case 'integer':
      return DataType.isInt(a) && a.isSigned && a.bitWidth <= 32;
    case 'double':
      return DataType.isFloat(a) && a.precision >= 1; // HALF (0) is not worth supporting
    case 'boolean':
      return DataType.isBool(a);
    case 'string':
      return DataType.isUtf8(a) || DataType.isLargeUtf8(a) || DataType.isUtf8View(a) ||
        (DataType.isDictionary(a) && (DataType.isUtf8(a.valueType) || DataType.isLargeUtf8(a.valueType)));
    case 'timestamp':
      // A zone-less Arrow timestamp is taken as UTC: sluice rows carry epoch µs.
      return DataType.isTimestamp(a);
    case 'date':
      return DataType.isDate(a);
    case 'map':
      return DataType.isMap(a) && isStringType(a.keyType) && isStringType(a.valueType);
  }
}

function isStringType(a: DataType): boolean {
  return DataType.isUtf8(a) || DataType.isLargeUtf8(a);
}

/** Validates `vector`'s Arrow type against the Delta column type and copies its values into a FlatColumn. */
export function flattenColumn(name: string, type: DeltaType, vector: Vector): FlatColumn {
  const at = vector.type as DataType;
  if (!accepts(type, at)) {
    throw new TypeError(`column "${name}": Arrow type ${String(at)} cannot be written as Delta ${type} (expected ${String(deltaArrowType(type))})`);
  }
  const n = vector.length;
  const valid = validBytes(vector);
  switch (type) {
    case 'long':
    case 'timestamp': {
      const values = new BigInt64Array(n);
      const unit = DataType.isTimestamp(at) ? (at as unknown as { unit: TimeUnit }).unit : TimeUnit.MICROSECOND;
      let row = 0;
      for (const d of vector.data) {
        const src = d.values as ArrayLike<number | bigint>;
        if (src instanceof BigInt64Array && unit === TimeUnit.MICROSECOND) {
          values.set(src.subarray(0, d.length), row); // Int64 / Timestamp(µs): already the stored form
          row += d.length;
          continue;
        }
        for (let i = 0; i < d.length; i++) {
          const raw = src[i]!;
          values[row + i] = type === 'timestamp' ? toMicros(BigInt(raw), unit) : BigInt(raw);
        }
        row += d.length;
      }
      return { kind: 'int64', length: n, valid, values };
    }
    case 'integer':
    case 'date': {
      const values = new Int32Array(n);
      const dateMs = DataType.isDate(at) && at.unit === DateUnit.MILLISECOND;
      let row = 0;
      for (const d of vector.data) {
        if (dateMs) {
          // Date64 storage differs across arrow-js versions; get() always yields epoch ms.
          const v = new Vector([d]);
          for (let i = 0; i < d.length; i++) {
            const ms = v.get(i) as number | Date | null;
            values[row + i] = ms === null ? 0 : Math.floor(Number(ms) / 86_400_000);
          }
        } else {
          values.set((d.values as Int32Array | Int16Array | Int8Array).subarray(0, d.length), row);
        }
        row += d.length;
      }
      return { kind: 'int32', length: n, valid, values };
    }
    case 'double': {
      const values = new Float64Array(n);
      let row = 0;
      for (const d of vector.data) {
        values.set((d.values as Float64Array | Float32Array).subarray(0, d.length), row);
        row += d.length;
      }
      return { kind: 'float64', length: n, valid, values };
    }
    case 'boolean': {
      const values = new Uint8Array(n);
      let row = 0;
      for (const d of vector.data) {
        const bits = d.values as Uint8Array;
        for (let i = 0; i < d.length; i++) {
          const bit = d.offset + i;
          values[row + i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
        }
        row += d.length;
      }
      return { kind: 'bool', length: n, valid, values };
    }
    case 'string':
      return flattenStrings(vector, valid);
    case 'map':
      return flattenMap(vector, valid);
  }
}

function validBytes(vector: Vector): Uint8Array | null {
  if (vector.nullCount === 0) return null;
  const valid = new Uint8Array(vector.length);
  let row = 0;
  for (const d of vector.data) {
    const bm = d.nullBitmap;
    // No nulls in this chunk (or no bitmap): all valid; else one bit per row from the chunk's offset.
    if (d.nullCount === 0 || !bm || bm.length === 0) valid.fill(1, row, row + d.length);
    else {
      for (let i = 0; i < d.length; i++) {
        const bit = d.offset + i;
        valid[row + i] = (bm[bit >> 3]! >> (bit & 7)) & 1;
      }
    }
    row += d.length;
  }
  return valid;
}

/** Map<Utf8, Utf8> chunks → entry offsets plus flat key and value columns (only the entries the rows reference). */
function flattenMap(vector: Vector, valid: Uint8Array | null): MapColumn {
  const n = vector.length;
  const offsets = new Int32Array(n + 1);
  const keyParts: FlatColumn[] = [];
  const valueParts: FlatColumn[] = [];
  let row = 0;
  let entries = 0;
  for (const d of vector.data) {
    // Offsets are sliced to this chunk, the entries struct is not: take [first, last) of it.
    const vo = d.valueOffsets as Int32Array;
    const first = vo[0]!;
    const last = vo[d.length]!;
    for (let i = 0; i < d.length; i++) offsets[row + i + 1] = entries + vo[i + 1]! - first;
    const ent = d.children[0]!.slice(first, last - first);
    const keys = new Vector([ent.children[0]!]);
    const values = new Vector([ent.children[1]!]);
    keyParts.push(flattenStrings(keys, validBytes(keys)));
    valueParts.push(flattenStrings(values, validBytes(values)));
    entries += last - first;
    row += d.length;
  }
  const emptyUtf8 = (): Utf8Column => ({ kind: 'utf8', length: 0, valid: null, offsets: new Int32Array(1), bytes: new Uint8Array(0) });
  const keys = keyParts.length ? (concatColumns(keyParts) as Utf8Column) : emptyUtf8();
  const values = valueParts.length ? (concatColumns(valueParts) as Utf8Column) : emptyUtf8();
  return { kind: 'map', length: n, valid, offsets, keys, values };
}

function flattenStrings(vector: Vector, valid: Uint8Array | null): Utf8Column {
  const n = vector.length;
  const offsets = new Int32Array(n + 1);
  const parts: Uint8Array[] = [];
  let pos = 0;
  let row = 0;
  for (const d of vector.data) {
    if (DataType.isUtf8(d.type) || DataType.isLargeUtf8(d.type)) {
      // Offsets are already sliced to this chunk; the byte buffer is not, so copy [first, last) once.
      const vo = d.valueOffsets as Int32Array | BigInt64Array;
      const first = Number(vo[0]!);
      const last = Number(vo[d.length]!);
      parts.push((d.values as Uint8Array).subarray(first, last));
      for (let i = 0; i < d.length; i++) offsets[row + i + 1] = pos + Number(vo[i + 1]!) - first;
      pos += last - first;
    } else {
      const v = new Vector([d]);
      for (let i = 0; i < d.length; i++) {
        const s = v.get(i) as string | null;
        if (s !== null) {
          const b = encoder.encode(s);
          parts.push(b);
          pos += b.length;
        }
        offsets[row + i + 1] = pos;
      }
    }
    row += d.length;
  }
  const bytes = new Uint8Array(pos);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { kind: 'utf8', length: n, valid, offsets, bytes };
}

export function isNullAt(c: FlatColumn, i: number): boolean {
  return c.valid !== null && c.valid[i] === 0;
}

/** Row i's value: bigint for int64 (long, timestamp µs), number for int32 (integer, date days) and doubles. */
export function valueAt(c: FlatColumn, i: number): CellValue {
  if (isNullAt(c, i)) return null;
  switch (c.kind) {
    case 'int64':
    case 'int32':
    case 'float64':
      return c.values[i]!;
    case 'bool':
      return c.values[i] === 1;
    case 'utf8':
      return decoder.decode(c.bytes.subarray(c.offsets[i]!, c.offsets[i + 1]!));
    case 'map':
      throw new Error('valueAt: map values have no scalar form (maps cannot be partition columns)');
  }
}

/** Values up to this many bytes are copied byte by byte in takeRows (longer ones with one TypedArray.set). */
export const SHORT_COPY = 48;

/** The rows at `idx`, in that order. */
export function takeRows(c: FlatColumn, idx: Uint32Array): FlatColumn {
  const n = idx.length;
  let valid: Uint8Array | null = null;
  if (c.valid) {
    valid = new Uint8Array(n);
    for (let j = 0; j < n; j++) valid[j] = c.valid[idx[j]!]!;
  }
  switch (c.kind) {
    case 'int64': {
      // Copied as 32-bit halves: reading a BigInt64Array element allocates a BigInt.
      const values = new BigInt64Array(n);
      const to = new Int32Array(values.buffer);
      const from = new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2);
      for (let j = 0; j < n; j++) {
        const r = idx[j]! * 2;
        to[2 * j] = from[r]!;
        to[2 * j + 1] = from[r + 1]!;
      }
      return { kind: 'int64', length: n, valid, values };
    }
    case 'int32': {
      const values = new Int32Array(n);
      for (let j = 0; j < n; j++) values[j] = c.values[idx[j]!]!;
      return { kind: 'int32', length: n, valid, values };
    }
    case 'float64': {
      const values = new Float64Array(n);
      for (let j = 0; j < n; j++) values[j] = c.values[idx[j]!]!;
      return { kind: 'float64', length: n, valid, values };
    }
    case 'bool': {
      const values = new Uint8Array(n);
      for (let j = 0; j < n; j++) values[j] = c.values[idx[j]!]!;
      return { kind: 'bool', length: n, valid, values };
    }
    case 'utf8': {
      const offsets = new Int32Array(n + 1);
      let total = 0;
      for (let j = 0; j < n; j++) {
        const r = idx[j]!;
        total += c.offsets[r + 1]! - c.offsets[r]!;
        offsets[j + 1] = total;
      }
      const bytes = new Uint8Array(total);
      const src = c.bytes;
      for (let j = 0; j < n; j++) {
        const r = idx[j]!;
        const start = c.offsets[r]!;
        const end = c.offsets[r + 1]!;
        // Short values (most columns) by a byte loop: a subarray per value costs more than copying it.
        if (end - start > SHORT_COPY) bytes.set(src.subarray(start, end), offsets[j]!);
        else for (let k = start, d = offsets[j]!; k < end; k++, d++) bytes[d] = src[k]!;
      }
      return { kind: 'utf8', length: n, valid, offsets, bytes };
    }
    case 'map': {
      const offsets = new Int32Array(n + 1);
      let total = 0;
      for (let j = 0; j < n; j++) {
        const r = idx[j]!;
        total += c.offsets[r + 1]! - c.offsets[r]!;
        offsets[j + 1] = total;
      }
      const entryIdx = new Uint32Array(total);
      let at = 0;
      for (let j = 0; j < n; j++) {
        const r = idx[j]!;
        for (let e = c.offsets[r]!; e < c.offsets[r + 1]!; e++) entryIdx[at++] = e;
      }
      const keys = takeRows(c.keys, entryIdx) as Utf8Column;
      const values = takeRows(c.values, entryIdx) as Utf8Column;
      return { kind: 'map', length: n, valid, offsets, keys, values };
    }
  }
}

/**
 * Chunk types whose rows fileIpc.ts gathers straight from the Arrow chunks into a file (the rest: flattenColumn,
 * then takeRows per file).
 */
export function directGather(type: DeltaType, at: DataType): boolean {
  switch (type) {
    case 'long':
      return DataType.isInt(at) && at.bitWidth === 64;
    case 'timestamp':
      return DataType.isTimestamp(at) && at.unit === TimeUnit.MICROSECOND;
    case 'integer':
      return DataType.isInt(at);
    case 'date':
      return DataType.isDate(at) && at.unit === DateUnit.DAY;
    case 'double':
      return DataType.isFloat(at) && at.precision >= 1;
    case 'boolean':
      return true;
    case 'string':
      return DataType.isUtf8(at);
    case 'map':
      return false;
  }
}

/** The rows idx[j0..j1) (ascending) that fall in chunk `d`, whose first row is `base`. */
export interface ChunkRun {
  d: Data;
  j0: number;
  j1: number;
  base: number;
}

export function chunkRuns(chunks: readonly Data[], idx: Uint32Array): ChunkRun[] {
  const runs: ChunkRun[] = [];
  const n = idx.length;
  let j = 0;
  let base = 0;
  for (const d of chunks) {
    if (j >= n) break;
    const end = base + d.length;
    let j1 = j;
    while (j1 < n && idx[j1]! < end) j1++;
    if (j1 > j) runs.push({ d, j0: j, j1, base });
    j = j1;
    base = end;
  }
  return runs;
}

/** A column of `n` nulls of Delta `type` (a nullable column absent from the input or from an older file). */
export function allNullColumn(type: DeltaType, n: number): FlatColumn {
  const valid = new Uint8Array(n);
  switch (type) {
    case 'long':
    case 'timestamp':
      return { kind: 'int64', length: n, valid, values: new BigInt64Array(n) };
    case 'integer':
    case 'date':
      return { kind: 'int32', length: n, valid, values: new Int32Array(n) };
    case 'double':
      return { kind: 'float64', length: n, valid, values: new Float64Array(n) };
    case 'boolean':
      return { kind: 'bool', length: n, valid, values: new Uint8Array(n) };
    case 'string':
      return { kind: 'utf8', length: n, valid, offsets: new Int32Array(n + 1), bytes: new Uint8Array(0) };
    case 'map': {
      const empty = (): Utf8Column => ({ kind: 'utf8', length: 0, valid: null, offsets: new Int32Array(1), bytes: new Uint8Array(0) });
      return { kind: 'map', length: n, valid, offsets: new Int32Array(n + 1), keys: empty(), values: empty() };
    }
  }
}

interface Typed<T> {
  set(array: T, offset?: number): void;
  subarray(begin: number, end: number): T;
}

function joinTyped<T extends Typed<T>>(out: T, parts: { values: T; length: number }[]): T {
  let at = 0;
  for (const p of parts) {
    out.set(p.values.subarray(0, p.length), at);
    at += p.length;
  }
  return out;
}

/** The rows of `parts` one after another; every part must have the same kind (one Delta type). */
export function concatColumns(parts: FlatColumn[]): FlatColumn {
  const first = parts[0];
  if (!first) throw new Error('concatColumns needs at least one column');
  if (parts.length === 1) return first;
  const n = parts.reduce((k, p) => k + p.length, 0);
  let valid: Uint8Array | null = null;
  if (parts.some((p) => p.valid)) {
    valid = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      if (p.valid) valid.set(p.valid.subarray(0, p.length), at);
      else valid.fill(1, at, at + p.length);
      at += p.length;
    }
  }
  const same = <K extends FlatColumn['kind']>(kind: K): Extract<FlatColumn, { kind: K }>[] => {
    for (const p of parts) if (p.kind !== kind) throw new Error(`concatColumns: ${p.kind} next to ${kind}`);
    return parts as Extract<FlatColumn, { kind: K }>[];
  };
  switch (first.kind) {
    case 'int64': {
      const ps = same('int64');
      return { kind: 'int64', length: n, valid, values: joinTyped(new BigInt64Array(n), ps) };
    }
    case 'int32': {
      const ps = same('int32');
      return { kind: 'int32', length: n, valid, values: joinTyped(new Int32Array(n), ps) };
    }
    case 'float64': {
      const ps = same('float64');
      return { kind: 'float64', length: n, valid, values: joinTyped(new Float64Array(n), ps) };
    }
    case 'bool': {
      const ps = same('bool');
      return { kind: 'bool', length: n, valid, values: joinTyped(new Uint8Array(n), ps) };
    }
    case 'utf8': {
      const ps = same('utf8');
      const total = ps.reduce((k, p) => k + (p.offsets[p.length]! - p.offsets[0]!), 0);
      const bytes = new Uint8Array(total);
      const offsets = new Int32Array(n + 1);
      let row = 0;
      let byte = 0;
      for (const p of ps) {
        const base = p.offsets[0]!;
        for (let i = 0; i < p.length; i++) offsets[row + i + 1] = byte + p.offsets[i + 1]! - base;
        bytes.set(p.bytes.subarray(base, p.offsets[p.length]!), byte);
        byte += p.offsets[p.length]! - base;
        row += p.length;
      }
      return { kind: 'utf8', length: n, valid, offsets, bytes };
    }
    case 'map': {
      const ps = same('map');
      const offsets = new Int32Array(n + 1);
      let row = 0;
      let entries = 0;
      for (const p of ps) {
        for (let i = 0; i < p.length; i++) offsets[row + i + 1] = entries + p.offsets[i + 1]!;
        entries += p.offsets[p.length]!;
        row += p.length;
      }
      const keys = concatColumns(ps.map((p) => p.keys)) as Utf8Column;
      const values = concatColumns(ps.map((p) => p.values)) as Utf8Column;
      return { kind: 'map', length: n, valid, offsets, keys, values };
    }
  }
}

function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >> 3);
  const whole = n >> 3;
  // Eight flags per output byte without a read-modify-write per row.
  for (let k = 0, i = 0; k < whole; k++, i += 8) {
    out[k] =
      (bytes[i] ? 1 : 0) | (bytes[i + 1] ? 2 : 0) | (bytes[i + 2] ? 4 : 0) | (bytes[i + 3] ? 8 : 0) |
      (bytes[i + 4] ? 16 : 0) | (bytes[i + 5] ? 32 : 0) | (bytes[i + 6] ? 64 : 0) | (bytes[i + 7] ? 128 : 0);
  }
  for (let i = whole << 3; i < n; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function countNulls(c: FlatColumn): number {
  if (!c.valid) return 0;
  let k = 0;
  for (let i = 0; i < c.length; i++) if (c.valid[i] === 0) k++;
  return k;
}

/** Arrow data of the exact type Delta `type` maps to (Int64, Timestamp µs UTC, Utf8...). */
export function toArrowData(c: FlatColumn, type: DeltaType): Data {
  const nullCount = countNulls(c);
  const base = {
    type: deltaArrowType(type),
    length: c.length,
    nullCount,
    nullBitmap: nullCount > 0 && c.valid ? packBits(c.valid, c.length) : undefined,
  };
  // makeData's overloads are keyed on the concrete DataType class; `type` and the buffers below always agree.
  const mk = (extra: Record<string, unknown>): Data => makeData({ ...base, ...extra } as never) as Data;
  switch (c.kind) {
    case 'int64':
    case 'int32':
    case 'float64':
      return mk({ data: c.values });
    case 'bool':
      return mk({ data: packBits(c.values, c.length) });
    case 'utf8':
      return mk({ valueOffsets: c.offsets, data: c.bytes });
    case 'map': {
      const entriesType = (base.type as unknown as { childType: DataType }).childType;
      const keys = toArrowData(c.keys, 'string');
      const values = toArrowData(c.values, 'string');
      const entries = makeData({ type: entriesType, length: c.keys.length, nullCount: 0, children: [keys, values] } as never) as Data;
      return mk({ valueOffsets: c.offsets, child: entries });
    }
  }
}

// ---- read path ----

/** Any Arrow cell (from tableFromIPC) → plain JS: structs/maps → objects, lists → arrays, int64 → number. */
export function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof MapRow) return mapRowToObject(v, toPlain);
  if (v instanceof StructRow) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v.toJSON() as Record<string, unknown>)) o[k] = toPlain(val);
    return o;
  }
  if (v instanceof Vector) return Array.from(v as Iterable<unknown>, toPlain);
  return v;
}

/**
 * Row i of a data column as the value readTable reports: longs and timestamps (epoch µs) as numbers,
 * dates as epoch days, everything else via toPlain. Raw buffers are read so µs are exact.
 */
export function cellForRead(vector: Vector, i: number): unknown {
  const t = vector.type as DataType;
  if (!vector.isValid(i)) return null;
  if (DataType.isTimestamp(t) || (DataType.isInt(t) && t.bitWidth === 64)) {
    // Locate the chunk holding row i to read its raw bigint.
    let row = i;
    for (const d of vector.data) {
      if (row < d.length) {
        const raw = BigInt((d.values as BigInt64Array)[row]!);
        return Number(DataType.isTimestamp(t) ? toMicros(raw, (t as unknown as { unit: TimeUnit }).unit) : raw);
      }
      row -= d.length;
    }
  }
  if (DataType.isDecimal(t)) return decimalText(vector, i, t.scale);
  if (DataType.isDate(t)) {
    const ms = vector.get(i) as number | Date;
    return Math.floor(Number(ms) / 86_400_000);
  }
  return toPlain(vector.get(i));
}

/** Decimal cell as exact text ("-1003.2"): the unscaled two's-complement integer with `scale` digits after the point. */
function decimalText(vector: Vector, i: number, scale: number): string {
  let row = i;
  for (const d of vector.data) {
    if (row < d.length) {
      const words = d.values as Uint32Array;
      const stride = d.stride; // 32-bit words per value (4 for decimal128)
      let v = 0n;
      for (let w = stride - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[row * stride + w]!);
      const bits = BigInt(stride * 32);
      if (v >> (bits - 1n)) v -= 1n << bits;
      const neg = v < 0n;
      let digits = (neg ? -v : v).toString();
      if (scale > 0) {
        digits = digits.padStart(scale + 1, '0');
        digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
      }
      return neg ? `-${digits}` : digits;
    }
    row -= d.length;
  }
  return '';
}
