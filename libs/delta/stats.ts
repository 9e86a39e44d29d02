// Per-file statistics (numRecords, minValues, maxValues, nullCount) in the form Spark writes them.
// Bounds must stay valid after truncation: min may only go down, max may only go up (or be omitted).
import { isNullAt, type FlatColumn } from './arrowColumns.ts';
import { formatDate } from './partitionPath.ts';
import { stringifyJson } from './jsonText.ts';
import type { DeltaType } from './schema.ts';

/** Spark's default delta.dataSkippingStringPrefixLength. */
export const STRING_PREFIX_LENGTH = 32;

export interface FileStats {
  numRecords: number;
  minValues: Record<string, bigint | number | string>;
  maxValues: Record<string, bigint | number | string>;
  nullCount: Record<string, number>;
}

// JavaScript Date's range; int64 µs reach further, and such bounds are simply not written.
const MAX_DATE_MS = 8_640_000_000_000_000n;

/** Epoch ms → `2024-01-01T00:00:00.123Z` (Spark's stats form for timestamps, in UTC). */
export function formatStatsTimestamp(ms: bigint): string {
  return new Date(Number(ms)).toISOString();
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

// Strings compare on at most this many bytes: more than any 32-code-point prefix (4 bytes each at most). Two values
// equal that far are both longer than the prefix, so either gives the same truncated min, and a max that long is
// not written (see bounds): the stats are those of a full comparison.
const COMPARE_BYTES = 4 * STRING_PREFIX_LENGTH + 1;

/**
 * Lexicographic comparison of UTF-8 byte ranges of `b` (`dv` views the same bytes), which is code-point order: the
 * order Spark and Parquet use. Four bytes at a time as big-endian words; 0 past COMPARE_BYTES equal bytes.
 */
function compareBytes(b: Uint8Array, dv: DataView, s1: number, e1: number, s2: number, e2: number): number {
  const l1 = e1 - s1;
  const l2 = e2 - s2;
  const n = Math.min(l1, l2, COMPARE_BYTES);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const x = dv.getUint32(s1 + k);
    const y = dv.getUint32(s2 + k);
    if (x !== y) return x < y ? -1 : 1;
  }
  for (; k < n; k++) {
    const d = b[s1 + k]! - b[s2 + k]!;
    if (d !== 0) return d;
  }
  return n === COMPARE_BYTES ? 0 : l1 - l2;
}

/** Bytes [s, e) of `b` as a big-endian word of their first four bytes, zero-padded when shorter. */
function firstWord(b: Uint8Array, dv: DataView, s: number, e: number): number {
  if (e - s >= 4) return dv.getUint32(s);
  let w = 0;
  for (let k = 0; k < 4; k++) w = w * 256 + (s + k < e ? b[s + k]! : 0);
  return w;
}

/** The first `n` code points of s (never splits a surrogate pair). */
export function codePointPrefix(s: string, n: number): { prefix: string; truncated: boolean } {
  let count = 0;
  let i = 0;
  while (i < s.length && count < n) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    count++;
  }
  return { prefix: s.slice(0, i), truncated: i < s.length };
}

const decoder = new TextDecoder();

/**
 * min and max of int64 values (rows first..n-1 that are valid), compared as 32-bit halves (high signed, low
 * unsigned): reading a BigInt64Array element allocates a BigInt, so only the two results become BigInts.
 */
function int64Bounds(values: BigInt64Array, valid: Uint8Array | null, first: number, n: number): [bigint, bigint] {
  const w = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  let lo = first;
  let hi = first;
  let loHi = w[2 * first + 1]!;
  let loLo = w[2 * first]! >>> 0;
  let hiHi = loHi;
  let hiLo = loLo;
  for (let i = first + 1; i < n; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const h = w[2 * i + 1]!;
    const l = w[2 * i]! >>> 0;
    if (h < loHi || (h === loHi && l < loLo)) {
      lo = i;
      loHi = h;
      loLo = l;
    }
    if (h > hiHi || (h === hiHi && l > hiLo)) {
      hi = i;
      hiHi = h;
      hiLo = l;
    }
  }
  return [values[lo]!, values[hi]!];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** min/max of one column, or undefined where no valid bound can be written. */
function bounds(c: FlatColumn, type: DeltaType): { min?: bigint | number | string; max?: bigint | number | string } {
  const n = c.length;
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (!isNullAt(c, i)) {
      first = i;
      break;
    }
  }
  if (first < 0) return {}; // all null: Spark writes only nullCount
  switch (c.kind) {
    case 'int64': {
      let lo: bigint;
      let hi: bigint;
      if (LITTLE_ENDIAN) [lo, hi] = int64Bounds(c.values, c.valid, first, n);
      else {
        lo = hi = c.values[first]!;
        for (let i = first + 1; i < n; i++) {
          if (isNullAt(c, i)) continue;
          const v = c.values[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      if (type === 'timestamp') {
        // Stats carry milliseconds: floor the min and ceil the max so both remain bounds of the µs values.
        const out: { min?: string; max?: string } = {};
        const loMs = floorDiv(lo, 1000n);
        const hiMs = -floorDiv(-hi, 1000n);
        if (loMs >= -MAX_DATE_MS && loMs <= MAX_DATE_MS) out.min = formatStatsTimestamp(loMs);
        if (hiMs >= -MAX_DATE_MS && hiMs <= MAX_DATE_MS) out.max = formatStatsTimestamp(hiMs);
        return out;
      }
      return { min: lo, max: hi };
    }
    case 'int32': {
      let lo = c.values[first]!;
      let hi = lo;
      for (let i = first + 1; i < n; i++) {
        if (isNullAt(c, i)) continue;
        const v = c.values[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return type === 'date' ? { min: formatDate(lo), max: formatDate(hi) } : { min: lo, max: hi };
    }
    case 'float64': {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = first; i < n; i++) {
        if (isNullAt(c, i)) continue;
        const v = c.values[i]!;
        // NaN sorts above everything in Spark and has no JSON form: no bounds are safe to write.
        if (Number.isNaN(v)) return {};
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const out: { min?: number; max?: number } = {};
      if (Number.isFinite(lo)) out.min = lo;
      if (Number.isFinite(hi)) out.max = hi;
      return out;
    }
    case 'map':
      return {};
    case 'bool':
      // Spark collects no min/max for booleans (only nullCount); the kernel oracle table confirms it.
      return {};
    case 'utf8': {
      let lo = first;
      let hi = first;
      const o = c.offsets;
      const valid = c.valid;
      const b = c.bytes;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      // First four bytes of lo and hi as big-endian words, zero-padded: a value of 4+ bytes whose first word is
      // strictly between them is strictly between lo and hi (zeros sort lowest), so most rows take one read.
      let loW = firstWord(b, dv, o[lo]!, o[lo + 1]!);
      let hiW = loW;
      for (let i = first + 1; i < n; i++) {
        if (valid !== null && valid[i] === 0) continue;
        const s = o[i]!;
        const e = o[i + 1]!;
        if (e - s >= 4) {
          const w = dv.getUint32(s);
          if (w > loW && w < hiW) continue;
        }
        // lo <= hi, so a value below lo cannot be above hi: one comparison for most rows.
        if (compareBytes(b, dv, s, e, o[lo]!, o[lo + 1]!) < 0) {
          lo = i;
          loW = firstWord(b, dv, s, e);
        } else if (compareBytes(b, dv, s, e, o[hi]!, o[hi + 1]!) > 0) {
          hi = i;
          hiW = firstWord(b, dv, s, e);
        }
      }
      const minStr = decoder.decode(c.bytes.subarray(o[lo]!, o[lo + 1]!));
      const maxStr = decoder.decode(c.bytes.subarray(o[hi]!, o[hi + 1]!));
      const out: { min?: string; max?: string } = {};
      // A prefix is <= the string, so a truncated min is still a lower bound.
      out.min = codePointPrefix(minStr, STRING_PREFIX_LENGTH).prefix;
      // A truncated max would be below the real max; omitting it is the simple safe choice.
      if (!codePointPrefix(maxStr, STRING_PREFIX_LENGTH).truncated) out.max = maxStr;
      return out;
    }
  }
}

/** Null rows of a flat column (its validity bytes). */
export function countNulls(c: FlatColumn): number {
  const v = c.valid;
  if (!v) return 0;
  let k = 0;
  for (let i = 0; i < c.length; i++) if (v[i] === 0) k++;
  return k;
}

/**
 * Adds one column's nullCount and bounds to `stats` (`nulls`: its null rows; `data` undefined: no bounds to take,
 * as for booleans). Spark writes no stats at all for complex types (map): no min/max and no nullCount.
 */
export function addColumnStats(stats: FileStats, name: string, type: DeltaType, data: FlatColumn | undefined, nulls: number): void {
  if (type === 'map' || data?.kind === 'map') return;
  stats.nullCount[name] = nulls;
  if (!data || nulls === data.length) return; // all null: Spark writes only nullCount
  const { min, max } = bounds(data, type);
  if (min !== undefined) stats.minValues[name] = min;
  if (max !== undefined) stats.maxValues[name] = max;
}

/** Statistics for one data file; `columns` are the non-partition columns in schema order. */
export function computeStats(numRecords: number, columns: { name: string; type: DeltaType; data: FlatColumn }[]): FileStats {
  const stats: FileStats = { numRecords, minValues: {}, maxValues: {}, nullCount: {} };
  for (const col of columns) addColumnStats(stats, col.name, col.type, col.data, countNulls(col.data));
  return stats;
}

/** The JSON text stored in add.stats (longs written exactly). */
export function statsJson(s: FileStats): string {
  return stringifyJson({ numRecords: s.numRecords, minValues: s.minValues, maxValues: s.maxValues, nullCount: s.nullCount });
}
