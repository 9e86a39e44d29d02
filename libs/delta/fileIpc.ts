// One data file's rows as an Arrow IPC stream (schema, one record batch, end of stream) for parquet-wasm, written
// straight into one reused buffer: rows are gathered from the input's Arrow chunks (or copied from flat columns)
// into the record batch body in apache-arrow's layout, and the file's Delta stats are computed from the written
// buffers as each column is done. This replaces flat column arrays → apache-arrow Data/Table → tableToIPC (two more
// copies of every value, and their garbage). The bytes are identical to tableToIPC's (a unit test checks).
import { Field, Schema, Table, tableToIPC, type Vector } from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { chunkRuns, SHORT_COPY, type FlatColumn } from './arrowColumns.ts';
import { deltaArrowType, type DeltaColumn, type DeltaType } from './schema.ts';
import { addColumnStats, countNulls, type FileStats } from './stats.ts';

/**
 * Where a file column's rows come from: `rows` (ascending) of an input vector whose chunk type gathers directly
 * (see directGather in arrowColumns.ts), or a flat column already holding exactly the file's rows.
 */
export type ColumnSource = { vector: Vector; rows: Uint32Array } | { flat: FlatColumn };

export type FileColumn = DeltaColumn & { source: ColumnSource };

export interface FileIpc {
  /** The IPC stream. A view of a buffer shared by every file of the process: valid until the next encodeFileIpc. */
  ipc: Uint8Array;
  stats: FileStats;
  /** String columns averaging over 256 bytes a value (written without a Parquet dictionary). */
  plainColumns: string[];
}

const INITIAL = 1 << 20;
// Kept between files up to this size (files of the sink's default policy are ≤ 8 MiB of input); a larger one is
// replaced by a smaller one as soon as a file needs less than half of it.
const MAX_KEPT = 64 << 20;

/** Grow-only buffer holding the stream being written; views are rebuilt when it grows. */
class Arena {
  ab = new ArrayBuffer(0);
  bytes = new Uint8Array(0);
  buf = Buffer.alloc(0);
  i32 = new Int32Array(0);
  f64 = new Float64Array(0);
  dv = new DataView(this.ab);
  pos = 0;
  /** Where the record batch body starts (buffer offsets are relative to it). */
  base = 0;
  /** FieldNode (length, nullCount) and BufferRegion (offset, length) pairs, in Arrow's depth-first order. */
  nodes: number[] = [];
  regions: number[] = [];

  /**
   * Starts a stream whose body begins at `header`, with room for about `estimate` body bytes: allocated at once (a
   * doubling chain would allocate ≈ 4× the file, and external allocations are what trigger V8's major GCs). A
   * buffer above MAX_KEPT is replaced when the file needs less than half of it.
   */
  begin(header: number, estimate: number): void {
    const need = header + estimate + 64;
    const len = this.bytes.length;
    if (len < need || (len > MAX_KEPT && len > 2 * need)) {
      this.pos = 0;
      this.grow(Math.max(INITIAL, need + (need >> 3)));
    }
    this.pos = this.base = header;
    this.nodes.length = 0;
    this.regions.length = 0;
  }

  /** Room for `extra` more bytes plus padding. */
  ensure(extra: number): void {
    const need = this.pos + extra + 16;
    if (need > this.bytes.length) this.grow(Math.max(need, this.bytes.length * 2));
  }

  private grow(size: number): void {
    const ab = new ArrayBuffer((size + 7) & ~7);
    const bytes = new Uint8Array(ab);
    if (this.pos > 0) bytes.set(this.bytes.subarray(0, this.pos));
    this.ab = ab;
    this.bytes = bytes;
    this.buf = Buffer.from(ab);
    this.i32 = new Int32Array(ab);
    this.f64 = new Float64Array(ab);
    this.dv = new DataView(ab);
  }

  /** Records a buffer of `length` bytes at `start` and moves past it, zeroing the padding to 8 bytes. */
  region(start: number, length: number): void {
    const padded = (length + 7) & ~7;
    this.bytes.fill(0, start + length, start + padded);
    this.regions.push(start - this.base, padded);
    this.pos = start + padded;
  }

  emptyRegion(): void {
    this.regions.push(this.pos - this.base, 0);
  }

  /** The validity bitmap of `valid` (one byte per row) when there are nulls; an empty buffer otherwise. */
  validity(valid: Uint8Array | null, from: number, n: number, nulls: number): void {
    this.nodes.push(n, nulls);
    if (nulls === 0 || !valid) this.emptyRegion();
    else this.bitmap(valid, from, n);
  }

  /** Bytes [from, from + n) as a bitmap (nonzero = 1), eight flags per output byte. */
  bitmap(flags: Uint8Array, from: number, n: number): void {
    const len = (n + 7) >> 3;
    this.ensure(len);
    const start = this.pos;
    const out = this.bytes;
    const whole = n >> 3;
    for (let k = 0, i = from; k < whole; k++, i += 8) {
      out[start + k] =
        (flags[i] ? 1 : 0) | (flags[i + 1] ? 2 : 0) | (flags[i + 2] ? 4 : 0) | (flags[i + 3] ? 8 : 0) |
        (flags[i + 4] ? 16 : 0) | (flags[i + 5] ? 32 : 0) | (flags[i + 6] ? 64 : 0) | (flags[i + 7] ? 128 : 0);
    }
    if (whole < len) {
      let last = 0;
      for (let i = whole << 3; i < n; i++) if (flags[from + i]) last |= 1 << (i & 7);
      out[start + whole] = last;
    }
    this.region(start, len);
  }
}

const arena = new Arena();

/** One byte per row of the column being written (validity), reused: read by the stats right after the column. */
let validScratch = new Uint8Array(1024);

function validBytes(n: number): Uint8Array {
  if (validScratch.length < n) validScratch = new Uint8Array(Math.max(n, validScratch.length * 2));
  return validScratch.subarray(0, n);
}

interface SchemaInfo {
  message: Uint8Array;
  /** Bytes before the body: schema message plus the record batch message (its size depends on counts only). */
  header: number;
}

const schemas = new Map<string, SchemaInfo>();
const EOS_LENGTH = 8;

function buffersOf(t: DeltaType): { nodes: number; regions: number } {
  switch (t) {
    case 'string':
      return { nodes: 1, regions: 3 };
    case 'map':
      // offsets, the entries struct (validity only), its key and value Utf8 children.
      return { nodes: 4, regions: 2 + 1 + 3 + 3 };
    default:
      return { nodes: 1, regions: 2 };
  }
}

function schemaInfo(cols: readonly DeltaColumn[]): SchemaInfo {
  const key = JSON.stringify(cols.map((c) => [c.name, c.type, c.nullable]));
  let info = schemas.get(key);
  if (!info) {
    const schema = new Schema(cols.map((c) => new Field(c.name, deltaArrowType(c.type), c.nullable)));
    // An empty table's stream is the schema message followed by the end-of-stream marker.
    const empty = tableToIPC(new Table(schema), 'stream');
    const message = empty.slice(0, empty.length - EOS_LENGTH);
    let nodes = 0;
    let regions = 0;
    for (const c of cols) {
      const b = buffersOf(c.type);
      nodes += b.nodes;
      regions += b.regions;
    }
    // Flatbuffers lay out non-zero int64s and struct vectors the same whatever the values: any non-zero ones do.
    const meta = encodeMetadata(1, 8, new Array<number>(2 * nodes).fill(1), new Array<number>(2 * regions).fill(8));
    info = { message, header: message.length + ((meta.length + 8 + 7) & ~7) };
    if (schemas.size < 256) schemas.set(key, info);
  }
  return info;
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
 * The IPC stream of `cols` (the file's non-partition columns, schema order, `n` rows each), its Delta stats and its
 * long string columns. Synchronous, and the result shares one buffer: hand `ipc` to the Parquet writer before the
 * next call.
 */
export function encodeFileIpc(cols: readonly FileColumn[], n: number): FileIpc {
  const info = schemaInfo(cols);
  const a = arena;
  a.begin(info.header, estimateBody(cols, n));
  const stats: FileStats = { numRecords: n, minValues: {}, maxValues: {}, nullCount: {} };
  const plainColumns: string[] = [];
  for (const c of cols) {
    const src = c.source;
    const written = 'flat' in src ? writeFlat(a, src.flat) : gather(a, c.type, src.vector, src.rows);
    const f = written.flat;
    if (f?.kind === 'utf8' && n > 0 && f.offsets[n]! - f.offsets[0]! > 256 * n) plainColumns.push(c.name);
    addColumnStats(stats, c.name, c.type, written.flat, written.nulls);
  }
  return { ipc: finish(a, info, n), stats, plainColumns };
}

/** String bytes of each input vector (an append writes several files from the same vectors). */
const vectorBytes = new WeakMap<Vector, number>();

function utf8Bytes(v: Vector): number {
  let total = vectorBytes.get(v);
  if (total === undefined) {
    total = 0;
    for (const d of v.data) {
      const vo = d.valueOffsets as Int32Array | undefined;
      if (vo && d.length > 0) total += vo[d.length]! - vo[0]!;
    }
    vectorBytes.set(v, total);
  }
  return total;
}

/** About the body size of `cols`: exact for fixed widths and flat columns, string bytes pro rata for gathers. */
function estimateBody(cols: readonly FileColumn[], n: number): number {
  let bytes = 0;
  for (const c of cols) {
    bytes += ((n + 7) >> 3) + 8 * 3; // validity and padding
    const src = c.source;
    if ('flat' in src) {
      const f = src.flat;
      if (f.kind === 'utf8') bytes += (n + 1) * 4 + f.offsets[n]! - f.offsets[0]!;
      else if (f.kind === 'map') bytes += (n + 1) * 4 + 2 * (f.keys.length * 5 + f.keys.bytes.length + f.values.bytes.length) + 64;
      else bytes += n * 8;
    } else if (c.type === 'string') {
      const all = src.vector.length;
      bytes += (n + 1) * 4 + (all > 0 ? Math.ceil((utf8Bytes(src.vector) * n) / all) : 0);
    } else bytes += n * 8;
  }
  return bytes;
}

/** Writes the schema and record batch messages before the body and the end-of-stream marker after it. */
function finish(a: Arena, info: SchemaInfo, n: number): Uint8Array {
  const bodyLength = a.pos - a.base;
  const meta = encodeMetadata(n, bodyLength, a.nodes, a.regions);
  const metaSize = (meta.length + 8 + 7) & ~7;
  a.ensure(EOS_LENGTH);
  a.dv.setInt32(a.pos, -1, true);
  a.dv.setInt32(a.pos + 4, 0, true);
  const end = a.pos + EOS_LENGTH;
  let out = a.bytes;
  let p = info.message.length;
  let bodyAt = a.base;
  if (p + metaSize !== info.header) {
    // A record batch message of another size than reserved (e.g. zero rows: a default value is omitted): copy.
    out = new Uint8Array(p + metaSize + bodyLength + EOS_LENGTH);
    out.set(a.bytes.subarray(a.base, end), p + metaSize);
    bodyAt = p + metaSize;
  }
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(info.message, 0);
  dv.setInt32(p, -1, true);
  dv.setInt32(p + 4, metaSize - 8, true);
  out.set(meta, p + 8);
  p += 8 + meta.length;
  out.fill(0, p, bodyAt);
  return out.subarray(0, bodyAt + bodyLength + EOS_LENGTH);
}

interface Written {
  /** The column as written (views of the arena), for the stats; undefined where stats take no bounds. */
  flat?: FlatColumn;
  nulls: number;
}

/** Rows `idx` of `vector` (a directly gathered chunk type) straight from its chunks into the body. */
function gather(a: Arena, type: DeltaType, vector: Vector, idx: Uint32Array): Written {
  const n = idx.length;
  const runs = chunkRuns(vector.data, idx);
  let nulls = 0;
  let valid: Uint8Array | null = null;
  // Data.nullCount is cached per chunk; Vector.nullCount sums every chunk again on each call.
  if (runs.some((r) => r.d.nullCount > 0)) {
    valid = validBytes(n);
    for (const { d, j0, j1, base } of runs) {
      const bm = d.nullBitmap;
      if (d.nullCount === 0 || !bm || bm.length === 0) valid.fill(1, j0, j1);
      else if (d.nullCount === d.length) {
        valid.fill(0, j0, j1);
        nulls += j1 - j0;
      } else {
        const off = d.offset - base;
        for (let k = j0; k < j1; k++) {
          const bit = off + idx[k]!;
          const v = (bm[bit >> 3]! >> (bit & 7)) & 1;
          valid[k] = v;
          nulls += v ^ 1;
        }
      }
    }
  }
  a.validity(valid, 0, n, nulls);
  const v = nulls > 0 ? valid : null;
  // Plain loops over the runs (no callbacks): the inner loops keep everything in locals.
  switch (type) {
    case 'long':
    case 'timestamp': {
      a.ensure(n * 8);
      const start = a.pos;
      const to = a.i32;
      const w = start >> 2;
      for (const { d, j0, j1, base } of runs) {
        const src = d.values as BigInt64Array;
        // Copied as 32-bit halves: reading a BigInt64Array element allocates a BigInt.
        const from = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
        for (let j = j0; j < j1; j++) {
          const r = (idx[j]! - base) * 2;
          to[w + 2 * j] = from[r]!;
          to[w + 2 * j + 1] = from[r + 1]!;
        }
      }
      a.region(start, n * 8);
      return { flat: { kind: 'int64', length: n, valid: v, values: new BigInt64Array(a.ab, start, n) }, nulls };
    }
    case 'integer':
    case 'date': {
      a.ensure(n * 4);
      const start = a.pos;
      const to = a.i32;
      const w = start >> 2;
      for (const { d, j0, j1, base } of runs) {
        const src = d.values as Int32Array | Int16Array | Int8Array;
        for (let j = j0; j < j1; j++) to[w + j] = src[idx[j]! - base]!;
      }
      a.region(start, n * 4);
      return { flat: { kind: 'int32', length: n, valid: v, values: new Int32Array(a.ab, start, n) }, nulls };
    }
    case 'double': {
      a.ensure(n * 8);
      const start = a.pos;
      const to = a.f64;
      const w = start >> 3;
      for (const { d, j0, j1, base } of runs) {
        const src = d.values as Float64Array | Float32Array;
        for (let j = j0; j < j1; j++) to[w + j] = src[idx[j]! - base]!;
      }
      a.region(start, n * 8);
      return { flat: { kind: 'float64', length: n, valid: v, values: new Float64Array(a.ab, start, n) }, nulls };
    }
    case 'boolean': {
      const len = (n + 7) >> 3;
      a.ensure(len);
      const start = a.pos;
      const out = a.bytes;
      out.fill(0, start, start + len);
      for (const { d, j0, j1, base } of runs) {
        const bits = d.values as Uint8Array;
        const off = d.offset - base;
        for (let j = j0; j < j1; j++) {
          const bit = off + idx[j]!;
          if ((bits[bit >> 3]! >> (bit & 7)) & 1) out[start + (j >> 3)]! |= 1 << (j & 7);
        }
      }
      a.region(start, len);
      return { nulls }; // Spark keeps no min/max for booleans
    }
    case 'string':
      return { flat: gatherUtf8(a, runs, idx, n, v), nulls };
    case 'map':
      throw new Error('map columns are not gathered directly');
  }
}

/** Utf8 rows: offsets (and the total size) into the body, then the bytes behind them. */
function gatherUtf8(a: Arena, runs: ReturnType<typeof chunkRuns>, idx: Uint32Array, n: number, valid: Uint8Array | null): FlatColumn {
  const offLen = (n + 1) * 4;
  a.ensure(offLen);
  const offStart = a.pos;
  const o = offStart >> 2;
  let i32 = a.i32;
  i32[o] = 0;
  let total = 0;
  for (const { d, j0, j1, base } of runs) {
    // A chunk of nulls only (a column no row of it has): no bytes, offsets stay put.
    if (d.nullCount === d.length) {
      i32.fill(total, o + j0 + 1, o + j1 + 1);
      continue;
    }
    const vo = d.valueOffsets as Int32Array;
    for (let j = j0; j < j1; j++) {
      const r = idx[j]! - base;
      total += vo[r + 1]! - vo[r]!;
      i32[o + j + 1] = total;
    }
  }
  a.region(offStart, offLen);
  a.ensure(total);
  i32 = a.i32;
  const dataStart = a.pos;
  const bytes = a.bytes;
  const buf = a.buf;
  for (const { d, j0, j1, base } of runs) {
    if (d.nullCount === d.length) continue;
    const vo = d.valueOffsets as Int32Array;
    const values = d.values as Uint8Array;
    const src = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    for (let j = j0; j < j1; ) {
      // A run of consecutive rows is one contiguous byte range.
      let k = j + 1;
      while (k < j1 && idx[k] === idx[k - 1]! + 1) k++;
      const start = vo[idx[j]! - base]!;
      const end = vo[idx[k - 1]! - base + 1]!;
      const t0 = dataStart + i32[o + j]!;
      // Short ranges (most columns) by a byte loop; longer ones natively (Buffer.copy: no subarray per value).
      if (end - start > SHORT_COPY) src.copy(buf, t0, start, end);
      else for (let b = start, t = t0; b < end; b++, t++) bytes[t] = src[b]!;
      j = k;
    }
  }
  a.region(dataStart, total);
  return { kind: 'utf8', length: n, valid, offsets: new Int32Array(a.ab, offStart, n + 1), bytes: new Uint8Array(a.ab, dataStart, total) };
}

/** A flat column's rows copied into the body (columns that are not gathered directly, and optimize's rewrites). */
function writeFlat(a: Arena, c: FlatColumn): Written {
  const n = c.length;
  if (c.kind === 'map') {
    const nulls = countNulls(c);
    a.validity(c.valid, 0, n, nulls);
    // Entries [e0, e1) of keys and values; the offsets rebased to start at 0 (as apache-arrow's writer does).
    const e0 = c.offsets[0]!;
    const e1 = c.offsets[n]!;
    writeOffsets(a, c.offsets, 0, n);
    a.nodes.push(e1 - e0, 0);
    a.emptyRegion();
    writeUtf8Range(a, c.keys, e0, e1);
    writeUtf8Range(a, c.values, e0, e1);
    return { nulls };
  }
  if (c.kind === 'utf8') {
    const nulls = writeUtf8Range(a, c, 0, n);
    return { flat: c, nulls };
  }
  const nulls = countNulls(c);
  a.validity(c.valid, 0, n, nulls);
  switch (c.kind) {
    case 'int64':
    case 'float64': {
      a.ensure(n * 8);
      const start = a.pos;
      a.bytes.set(new Uint8Array(c.values.buffer, c.values.byteOffset, n * 8), start);
      a.region(start, n * 8);
      break;
    }
    case 'int32': {
      a.ensure(n * 4);
      const start = a.pos;
      a.i32.set(c.values.subarray(0, n), start >> 2);
      a.region(start, n * 4);
      break;
    }
    case 'bool':
      a.bitmap(c.values, 0, n);
      return { nulls };
  }
  return { flat: c, nulls };
}

/** Rows [from, to) of offsets `offs`, rebased to start at 0. */
function writeOffsets(a: Arena, offs: Int32Array, from: number, to: number): void {
  const len = (to - from + 1) * 4;
  a.ensure(len);
  const start = a.pos;
  const w = start >> 2;
  const i32 = a.i32;
  const first = offs[from]!;
  if (first === 0) i32.set(offs.subarray(from, to + 1), w);
  else for (let i = from; i <= to; i++) i32[w + i - from] = offs[i]! - first;
  a.region(start, len);
}

/** Rows [from, to) of a Utf8 flat column as its own field (node, validity, offsets, bytes); returns its nulls. */
function writeUtf8Range(a: Arena, c: Extract<FlatColumn, { kind: 'utf8' }>, from: number, to: number): number {
  let nulls = 0;
  if (c.valid) for (let i = from; i < to; i++) if (c.valid[i] === 0) nulls++;
  a.validity(c.valid, from, to - from, nulls);
  writeOffsets(a, c.offsets, from, to);
  const b0 = c.offsets[from]!;
  const len = c.offsets[to]! - b0;
  a.ensure(len);
  const start = a.pos;
  a.bytes.set(c.bytes.subarray(b0, b0 + len), start);
  a.region(start, len);
  return nulls;
}
