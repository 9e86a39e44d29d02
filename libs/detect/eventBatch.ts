// A batch of rows as detection rules see it: column arrays by name, whatever the wire encoding was
// (Arrow IPC events, NDJSON quarantine records). Columns are materialised once per batch, on first use.
import { DataType, Precision, TimeUnit, type Data, type Table, type Timestamp, type Utf8, type Vector } from 'apache-arrow';

export type Cell = string | number | boolean | null;

export interface EventBatch {
  /** Input name: the table for events, `quarantine` for quarantine records. */
  readonly input: string;
  readonly numRows: number;
  /** Every value of a column (null where null); undefined when the batch has no such column. */
  column(name: string): readonly Cell[] | undefined;
}

/**
 * Arrow batch: each column read once, on first use, straight from its buffers (offsets, values, validity) rather
 * than apache-arrow's per-row `get()`: strings decoded per cell from the values buffer, timestamps as epoch ms
 * (apache-arrow's view: µs / 1000 with the remainder as a fraction), Int64 as numbers. Other types go through get().
 */
export function arrowBatch(input: string, table: Table): EventBatch {
  const cache = new Map<string, readonly Cell[] | undefined>();
  return {
    input,
    numRows: table.numRows,
    column(name) {
      let out = cache.get(name);
      if (out !== undefined || cache.has(name)) return out;
      const vec = table.getChild(name);
      out = vec ? readColumn(vec, table.numRows) : undefined;
      cache.set(name, out);
      return out;
    },
  };
}

/** Every cell of a column (its chunks in order). */
export function readColumn(vec: Vector, numRows: number): Cell[] {
  const out = new Array<Cell>(numRows);
  let row = 0;
  for (const d of vec.data) {
    const read = cellReader(d);
    const bitmap = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
    const base = d.offset;
    if (!read) {
      // Unusual type: apache-arrow's accessor (one chunk at a time, the vector's chunks in order).
      for (let i = 0; i < d.length; i++, row++) out[row] = toCell(vec.get(row));
      continue;
    }
    for (let i = 0; i < d.length; i++) {
      const j = base + i;
      out[row++] = bitmap !== null && (bitmap[j >> 3]! & (1 << (j & 7))) === 0 ? null : read(i, j);
    }
  }
  return out;
}

const TWO_32 = 4294967296;

/**
 * Reader of one cell of a Data chunk. A sliced Data (apache-arrow's Data.slice) has its value offsets and
 * fixed-width values sliced (index by `i`) but its bit buffers whole (validity, Bool values: index by `j` =
 * offset + i). Null for a type read through get().
 */
function cellReader(d: Data): ((i: number, j: number) => Cell) | null {
  const t = d.type as DataType;
  if (DataType.isUtf8(t)) {
    const offsets = (d as Data<Utf8>).valueOffsets;
    const values = (d as Data<Utf8>).values;
    const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength) as Buffer & { utf8Slice?: (start: number, end: number) => string };
    // Node's Buffer#utf8Slice is toString('utf8', …) without its argument checks (a third of the cost on short cells).
    if (typeof buf.utf8Slice === 'function') return (i) => buf.utf8Slice!(offsets[i]!, offsets[i + 1]!);
    return (i) => buf.toString('utf8', offsets[i]!, offsets[i + 1]!);
  }
  if (DataType.isTimestamp(t) || (DataType.isInt(t) && t.bitWidth === 64)) {
    const v = d.values as BigInt64Array | BigUint64Array;
    // The 64-bit values as 32-bit halves (little-endian): exact numbers below 2^53 without a BigInt per cell.
    const halves = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    const signed = !DataType.isInt(t) || t.isSigned;
    /** The cell's value when it is a safe integer (|x| < 2^53), else NaN (read as a BigInt then). */
    const small = (i: number): number => {
      const hi = halves[2 * i + 1]!;
      if (hi >= 0x200000 || hi < -0x200000 || (!signed && hi < 0)) return NaN;
      return hi * TWO_32 + (halves[2 * i]! >>> 0);
    };
    if (!DataType.isTimestamp(t))
      return (i) => {
        const x = small(i);
        return Number.isNaN(x) ? Number(v[i]!) : x;
      };
    // apache-arrow's get(): whole ms plus the sub-ms remainder as a fraction (bigIntToNumber, divideBigInts).
    const unit = (t as Timestamp).unit;
    if (unit === TimeUnit.SECOND || unit === TimeUnit.MILLISECOND) {
      const scale = unit === TimeUnit.SECOND ? 1000 : 1;
      return (i) => {
        const x = small(i);
        return scale * (Number.isNaN(x) ? Number(v[i]!) : x);
      };
    }
    const div = unit === TimeUnit.MICROSECOND ? 1000 : 1_000_000;
    const bigDiv = BigInt(div);
    return (i) => {
      const x = small(i);
      if (Number.isNaN(x)) {
        const b = BigInt(v[i]!);
        return Number(b / bigDiv) + Number(b % bigDiv) / div;
      }
      const q = Math.trunc(x / div);
      return q + (x - q * div) / div;
    };
  }
  if (DataType.isInt(t) || DataType.isFloat(t)) {
    if (DataType.isFloat(t) && t.precision === Precision.HALF) return null;
    const v = d.values as Int32Array | Float64Array;
    return (i) => v[i]!;
  }
  if (DataType.isBool(t)) {
    const v = d.values as Uint8Array;
    return (_i, j) => (v[j >> 3]! & (1 << (j & 7))) !== 0;
  }
  return null;
}

/** Plain objects (decoded NDJSON records), one per row. */
export function objectBatch(input: string, rows: readonly Record<string, unknown>[]): EventBatch {
  const cache = new Map<string, readonly Cell[] | undefined>();
  return {
    input,
    numRows: rows.length,
    column(name) {
      if (cache.has(name)) return cache.get(name);
      const present = rows.some((r) => name in r);
      const out = present ? rows.map((r) => toCell(r[name])) : undefined;
      cache.set(name, out);
      return out;
    },
  };
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.getTime();
  return JSON.stringify(v);
}

/** String value of a cell ('' for null), trimmed. */
export function str(v: Cell | undefined): string {
  return v === null || v === undefined ? '' : String(v).trim();
}

/** First non-empty value among columns (row r). */
export function firstOf(cols: readonly (readonly Cell[] | undefined)[], r: number): string {
  for (const c of cols) {
    const v = str(c?.[r]);
    if (v && v !== '-') return v;
  }
  return '';
}
