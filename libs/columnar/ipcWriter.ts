// Writes a ColumnBuilder's values straight into one Arrow IPC stream (schema, one record batch, end of stream),
// without apache-arrow's Data/Vector/RecordBatch objects and its generic writer: the body is laid out in a reused
// scratch buffer as the columns are encoded, then copied once behind the metadata. The metadata flatbuffers come
// from apache-arrow's own encoders, so the bytes are identical to tableToIPC(builder.build()) (a unit test checks).
import { Message } from 'apache-arrow/ipc/metadata/message';
import { BufferRegion, FieldNode, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import type { StringMap } from '@sluice/tables';
import type { ColumnSpec } from './arrowTypes.ts';

/** What a cell may hold (see ColumnBuilder). */
type Cell = string | number | boolean | null | Uint8Array | StringMap;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4_294_967_296;
const INITIAL_SCRATCH = 1 << 20;
const MAX_KEPT_SCRATCH = 32 << 20;

/**
 * Grow-only scratch for the record batch body, shared by every batch of the process (encoding is synchronous).
 * Views are rebuilt when it grows; positions of 8-aligned buffers index the wider views directly.
 */
class Scratch {
  bytes = new Uint8Array(0);
  buf = Buffer.alloc(0);
  i32 = new Int32Array(0);
  f64 = new Float64Array(0);
  i64 = new BigInt64Array(0);
  pos = 0;
  /** FieldNode (length, nullCount) pairs and BufferRegion (offset, length) pairs, in Arrow's depth-first order. */
  nodes: number[] = [];
  regions: number[] = [];

  constructor() {
    this.grow(INITIAL_SCRATCH);
  }

  reset(): void {
    // One oversized batch (a huge record) should not pin its scratch for the life of the process.
    if (this.bytes.length > MAX_KEPT_SCRATCH) {
      this.pos = 0;
      this.grow(INITIAL_SCRATCH);
    }
    this.pos = 0;
    this.nodes.length = 0;
    this.regions.length = 0;
  }

  ensure(extra: number): void {
    const need = this.pos + extra + 8;
    if (need > this.bytes.length) this.grow(Math.max(need, this.bytes.length * 2));
  }

  private grow(size: number): void {
    const ab = new ArrayBuffer((size + 7) & ~7);
    const bytes = new Uint8Array(ab);
    if (this.pos > 0) bytes.set(this.bytes.subarray(0, this.pos));
    this.bytes = bytes;
    this.buf = Buffer.from(ab);
    this.i32 = new Int32Array(ab);
    this.f64 = new Float64Array(ab);
    this.i64 = new BigInt64Array(ab);
  }

  /** Records a buffer of `length` bytes at `start` and moves past it, zeroing the padding to 8 bytes. */
  region(start: number, length: number): void {
    const padded = (length + 7) & ~7;
    this.bytes.fill(0, start + length, start + padded);
    this.regions.push(start, padded);
    this.pos = start + padded;
  }

  /** The validity buffer (none when no value is null) and the column's FieldNode. */
  validity(values: readonly unknown[], n: number, nulls: number): void {
    this.nodes.push(n, nulls);
    if (nulls === 0) {
      this.regions.push(this.pos, 0);
      return;
    }
    const len = (n + 7) >> 3;
    this.ensure(len);
    const start = this.pos;
    const bytes = this.bytes;
    bytes.fill(0, start, start + len);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) bytes[start + (i >> 3)]! |= 1 << (i & 7);
    }
    this.region(start, len);
  }
}

const scratch = new Scratch();

function nullCount(values: readonly unknown[], n: number): number {
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
  }
  return nulls;
}

/** Cumulative UTF-16 lengths of a string column, computed while counting its nulls (grows as needed). */
let lengths = new Int32Array(1024);

/**
 * A string column: validity, offsets and UTF-8 bytes, written in place. One pass counts nulls and characters and
 * records the cumulative lengths; the JS strings are then joined and encoded with one write. When the byte count
 * equals the character count every value is ASCII and the lengths are the offsets (most columns); otherwise, and
 * for raw bytes (Uint8Array), each value is written on its own.
 */
function writeUtf8Column(s: Scratch, values: readonly unknown[], n: number): void {
  if (lengths.length < n + 1) lengths = new Int32Array(Math.max(n + 1, lengths.length * 2));
  const lens = lengths;
  let nulls = 0;
  let chars = 0;
  let onlyStrings = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'string') chars += v.length;
    else if (v === null || v === undefined) nulls++;
    else if (v instanceof Uint8Array) {
      onlyStrings = false;
      chars += v.length;
    } else onlyStrings = false;
    lens[i + 1] = chars;
  }
  s.validity(values, n, nulls);
  const offLen = (n + 1) * 4;
  const offPadded = (offLen + 7) & ~7;
  s.ensure(offPadded + chars * 3);
  const offStart = s.pos;
  const dataStart = offStart + offPadded;
  const o = offStart >> 2;
  let written = -1;
  if (onlyStrings) {
    written = chars === 0 ? 0 : s.buf.write(values.join(''), dataStart, 'utf8');
    if (written === chars) {
      lens[0] = 0;
      s.i32.set(lens.subarray(0, n + 1), o);
    } else written = -1;
  }
  if (written < 0) {
    // Non-ASCII strings or raw bytes: 3 bytes per UTF-16 unit is the worst case for a string (ensured above).
    const { buf, bytes, i32 } = s;
    i32[o] = 0;
    let pos = dataStart;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'string') pos += buf.write(v, pos, 'utf8');
      else if (v instanceof Uint8Array) {
        bytes.set(v, pos);
        pos += v.length;
      }
      i32[o + i + 1] = pos - dataStart;
    }
    written = pos - dataStart;
  }
  s.regions.push(offStart, offPadded);
  s.bytes.fill(0, offStart + offLen, dataStart);
  s.region(dataStart, written);
}

/** Int64 values without a BigInt per value: safe integers are written as two 32-bit halves (little-endian). */
function writeInt64(s: Scratch, values: readonly unknown[], n: number): void {
  s.ensure(n * 8);
  const start = s.pos;
  const { i32, i64 } = s;
  const w = start >> 2;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      i32[w + 2 * i] = 0;
      i32[w + 2 * i + 1] = 0;
      continue;
    }
    const t = Math.trunc(v as number);
    if (LITTLE_ENDIAN && Number.isSafeInteger(t)) {
      i32[w + 2 * i] = t >>> 0;
      i32[w + 2 * i + 1] = Math.floor(t / TWO_32);
    } else i64[(start >> 3) + i] = BigInt(t);
  }
  s.region(start, n * 8);
}

function writeInt32(s: Scratch, values: readonly unknown[], n: number): void {
  s.ensure(n * 4);
  const start = s.pos;
  const i32 = s.i32;
  const w = start >> 2;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    i32[w + i] = v === null || v === undefined ? 0 : (v as number);
  }
  s.region(start, n * 4);
}

function writeFloat64(s: Scratch, values: readonly unknown[], n: number): void {
  s.ensure(n * 8);
  const start = s.pos;
  const f64 = s.f64;
  const w = start >> 3;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    f64[w + i] = v === null || v === undefined ? 0 : (v as number);
  }
  s.region(start, n * 8);
}

function writeBool(s: Scratch, values: readonly unknown[], n: number): void {
  const len = (n + 7) >> 3;
  s.ensure(len);
  const start = s.pos;
  const bytes = s.bytes;
  bytes.fill(0, start, start + len);
  for (let i = 0; i < n; i++) if (values[i] === true) bytes[start + (i >> 3)]! |= 1 << (i & 7);
  s.region(start, len);
}

/** Map<Utf8, Utf8>: entry offsets, then the entries struct (no validity) with its key and value Utf8 columns. */
function writeMap(s: Scratch, name: string, values: readonly unknown[], n: number): void {
  const keys: string[] = [];
  const vals: (string | null)[] = [];
  const offLen = (n + 1) * 4;
  s.ensure(offLen);
  const offStart = s.pos;
  const o = offStart >> 2;
  s.i32[o] = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      if (typeof v !== 'object' || v instanceof Uint8Array) {
        throw new TypeError(`column "${name}": map column value must be an object, got ${typeof v}`);
      }
      const m = v as StringMap;
      for (const k of Object.keys(m)) {
        const x = m[k];
        keys.push(k);
        vals.push(x === undefined || x === null ? null : String(x));
      }
    }
    s.i32[o + i + 1] = keys.length;
  }
  s.region(offStart, offLen);
  s.nodes.push(keys.length, 0);
  s.regions.push(s.pos, 0);
  writeUtf8Column(s, keys, keys.length);
  writeUtf8Column(s, vals, vals.length);
}

function writeColumn(s: Scratch, spec: ColumnSpec, values: readonly unknown[], n: number): void {
  if (spec.type === 'string' || spec.type === 'json') return writeUtf8Column(s, values, n);
  s.validity(values, n, nullCount(values, n));
  switch (spec.type) {
    case 'long':
    case 'timestamp':
      return writeInt64(s, values, n);
    case 'integer':
    case 'date':
      return writeInt32(s, values, n);
    case 'double':
      return writeFloat64(s, values, n);
    case 'boolean':
      return writeBool(s, values, n);
    case 'map':
      return writeMap(s, spec.name, values, n);
  }
}

/** apache-arrow's encoding of a record batch message (FieldNode and BufferRegion values as flat pairs). */
function encodeMetadata(n: number, bodyLength: number, nodes: readonly number[], regions: readonly number[]): Uint8Array {
  const fieldNodes: FieldNode[] = [];
  for (let i = 0; i < nodes.length; i += 2) fieldNodes.push(new FieldNode(nodes[i]!, nodes[i + 1]!));
  const bufferRegions: BufferRegion[] = [];
  for (let i = 0; i < regions.length; i += 2) bufferRegions.push(new BufferRegion(regions[i]!, regions[i + 1]!));
  return Message.encode(Message.from(new RecordBatchHeader(n, fieldNodes, bufferRegions, null), bodyLength));
}

/**
 * Where the numbers sit in a record batch message with this many nodes and buffers. Flatbuffers lay out a
 * non-default int64 field and a vector of 16-byte structs the same way whatever the values, so the message is
 * encoded once by apache-arrow with sentinel values, the sentinels are located, and later messages are a copy
 * with the numbers patched in. Length 0 (omitted as a default value) and anything unexpected use encodeMetadata.
 */
interface MetadataTemplate {
  bytes: Uint8Array;
  lengthAt: number;
  bodyLengthAt: number;
  nodesAt: number;
  regionsAt: number;
}

const templates = new Map<string, MetadataTemplate | null>();
// The high word is never a low word of another sentinel, so a window straddling two numbers cannot match one.
const SENTINEL = 0x5a5a_0000_0000;

function findInt64(bytes: Uint8Array, value: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = value % TWO_32;
  const hi = Math.floor(value / TWO_32);
  const at: number[] = [];
  for (let i = 0; i + 8 <= bytes.length; i++) if (view.getUint32(i, true) === lo && view.getUint32(i + 4, true) === hi) at.push(i);
  return at;
}

function templateFor(nodeValues: number, regionValues: number): MetadataTemplate | null {
  const key = `${nodeValues}/${regionValues}`;
  let t = templates.get(key);
  if (t !== undefined) return t;
  // Distinct sentinels: length, bodyLength, then one per node and buffer number.
  const nodes = Array.from({ length: nodeValues }, (_, i) => SENTINEL + 16 + i);
  const regions = Array.from({ length: regionValues }, (_, i) => SENTINEL + 16 + nodeValues + i);
  const bytes = encodeMetadata(SENTINEL + 1, SENTINEL + 2, nodes, regions);
  const one = (v: number): number => {
    const at = findInt64(bytes, v);
    return at.length === 1 ? at[0]! : -1;
  };
  const lengthAt = one(SENTINEL + 1);
  const bodyLengthAt = one(SENTINEL + 2);
  const nodesAt = nodeValues ? one(nodes[0]!) : -1;
  const regionsAt = regionValues ? one(regions[0]!) : -1;
  const contiguous = (at: number, values: number[]) => at >= 0 && values.every((v, i) => one(v) === at + 8 * i);
  t = lengthAt >= 0 && bodyLengthAt >= 0 && contiguous(nodesAt, nodes) && contiguous(regionsAt, regions) ? { bytes, lengthAt, bodyLengthAt, nodesAt, regionsAt } : null;
  if (templates.size < 1000) templates.set(key, t);
  return t;
}

function putInt64(view: DataView, at: number, v: number): void {
  view.setUint32(at, v % TWO_32, true);
  view.setUint32(at + 4, Math.floor(v / TWO_32), true);
}

/** The record batch message flatbuffer: a patched template, byte for byte what apache-arrow encodes. */
function recordBatchMetadata(n: number, bodyLength: number, nodes: readonly number[], regions: readonly number[]): Uint8Array {
  const t = n > 0 && bodyLength > 0 ? templateFor(nodes.length, regions.length) : null;
  if (!t) return encodeMetadata(n, bodyLength, nodes, regions);
  const bytes = t.bytes.slice();
  const view = new DataView(bytes.buffer);
  putInt64(view, t.lengthAt, n);
  putInt64(view, t.bodyLengthAt, bodyLength);
  for (let i = 0; i < nodes.length; i++) putInt64(view, t.nodesAt + 8 * i, nodes[i]!);
  for (let i = 0; i < regions.length; i++) putInt64(view, t.regionsAt + 8 * i, regions[i]!);
  return bytes;
}

/**
 * One Arrow IPC stream of a single record batch: `schemaMessage` (continuation, length, flatbuffer, padding, as
 * cached by ipc.ts), the record batch message and body, and the end-of-stream marker. Each column array holds the
 * batch's `n` values first; entries past `n` must be null or undefined (ColumnBuilder keeps them so).
 */
export function writeIpcStream(schemaMessage: Uint8Array, specs: readonly ColumnSpec[], columns: readonly (readonly Cell[])[], n: number): Uint8Array {
  const s = scratch;
  s.reset();
  for (let c = 0; c < specs.length; c++) writeColumn(s, specs[c]!, columns[c]!, n);
  const bodyLength = s.pos;
  const meta = recordBatchMetadata(n, bodyLength, s.nodes, s.regions);
  const metaSize = (meta.length + 8 + 7) & ~7;
  // Every byte is written below (no zero-fill needed): its own ArrayBuffer, not a slice of Buffer's shared pool.
  const size = schemaMessage.length + metaSize + bodyLength + 8;
  const mem = Buffer.allocUnsafeSlow(size);
  const out = new Uint8Array(mem.buffer, mem.byteOffset, size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  out.set(schemaMessage, 0);
  let p = schemaMessage.length;
  view.setInt32(p, -1, true);
  view.setInt32(p + 4, metaSize - 8, true);
  out.set(meta, p + 8);
  out.fill(0, p + 8 + meta.length, p + metaSize);
  p += metaSize;
  out.set(s.bytes.subarray(0, bodyLength), p);
  p += bodyLength;
  view.setInt32(p, -1, true);
  view.setInt32(p + 4, 0, true);
  return out;
}
