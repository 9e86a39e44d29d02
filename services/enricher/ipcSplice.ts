// Replaces whole columns of an Arrow IPC stream without decoding or re-encoding the others: the schema message is
// copied as it is, and each record batch gets new metadata (field nodes, buffer regions) and a body in which the
// untouched columns' buffers are copied byte for byte. Reading a column's strings touches only that column's
// buffers. Streams this cannot handle (compression, dictionaries, view types, a replaced column of another type,
// columns that would have to be added) return null, and the caller takes the generic apache-arrow path.
// Record batch metadata is read and written by hand (flatbuffer offsets, not apache-arrow's Message objects): the
// output metadata is the input's with the numbers patched, which is what apache-arrow's encoder writes for the
// same number of nodes and buffers.
import { DataType, type Field, type Schema } from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { flatbuf } from '@sluice/columnar';

const { field, structVector, u32 } = flatbuf;

const CONTINUATION = -1;
const PRIMITIVE_TYPE_IDS = new Set([2, 3, 6, 7, 8, 9, 10, 11, 15, 18]);
const TWO_32 = 4_294_967_296;
/** Arrow's MessageHeader union: 3 is RecordBatch. */
const HEADER_RECORD_BATCH = 3;

/** One record batch message as it arrived: its flatbuffer and body, and where the numbers sit in the flatbuffer. */
export interface RawBatch {
  /** Rows. */
  length: number;
  /** The message flatbuffer (framing excluded, its padding included). */
  meta: Uint8Array;
  /** Offsets in `meta` of the first FieldNode and first Buffer struct (16 bytes each: two int64), -1 when absent. */
  nodesAt: number;
  buffersAt: number;
  nodeCount: number;
  bufferCount: number;
  /** Offset in `meta` of the message's bodyLength, -1 when omitted (a zero). */
  bodyLengthAt: number;
  body: Uint8Array;
}

/** What a schema yields once: the buffer layout of its top-level fields, their indexes and kinds by name. */
interface SchemaInfo {
  schema: Schema;
  /** The flatbuffer bytes (a copy), to recognise the same schema in later streams. */
  meta: Uint8Array;
  /** Per top-level field: index of its first field node and first buffer in every batch. */
  layout: { node: number; buffer: number; buffers: number }[];
  nodes: number;
  buffers: number;
  index: Map<string, number>;
  /** 'string' (Utf8), 'double' (Float64), 'long' (Int64) or '' (anything else): what an output column may replace. */
  kinds: string[];
}

export interface IpcStream {
  schema: Schema;
  info: SchemaInfo;
  /** The schema message as it arrived (framing included). */
  schemaBytes: Uint8Array;
  batches: RawBatch[];
}

/** Buffers of a type in the IPC body (Arrow format v5); null for layouts not handled here. */
function bufferCount(t: DataType): number | null {
  if (DataType.isDictionary(t) || DataType.isUnion(t) || DataType.isNull(t)) return null;
  if (DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t)) return 3;
  if (DataType.isStruct(t) || DataType.isFixedSizeList(t) || DataType.isList(t) || DataType.isMap(t)) {
    let n = DataType.isStruct(t) || DataType.isFixedSizeList(t) ? 1 : 2;
    for (const c of t.children as Field[]) {
      const k = bufferCount(c.type as DataType);
      if (k === null) return null;
      n += k;
    }
    return n;
  }
  // Validity + values: Int, Float, Bool, Decimal, Date, Time, Timestamp, Interval, FixedSizeBinary, Duration.
  // Anything else (LargeList, view types, newer types) is not handled.
  return PRIMITIVE_TYPE_IDS.has(t.typeId as number) ? 2 : null;
}

function nodeCount(f: Field): number {
  return 1 + ((f.type as DataType).children ?? []).reduce((n: number, c: Field) => n + nodeCount(c), 0);
}

function kindOf(t: DataType): string {
  if (DataType.isUtf8(t)) return 'string';
  if (DataType.isFloat(t) && String(t) === 'Float64') return 'double';
  if (DataType.isInt(t) && t.bitWidth === 64 && t.isSigned) return 'long';
  return '';
}

/** The layout of a schema; null when a field has a layout this module does not handle. */
function schemaInfo(schema: Schema, meta: Uint8Array): SchemaInfo | null {
  const layout: SchemaInfo['layout'] = [];
  let node = 0;
  let buffer = 0;
  for (const f of schema.fields) {
    const k = bufferCount(f.type as DataType);
    if (k === null) return null;
    layout.push({ node, buffer, buffers: k });
    node += nodeCount(f);
    buffer += k;
  }
  const index = new Map<string, number>();
  schema.fields.forEach((f, i) => index.has(f.name) || index.set(f.name, i)); // the first of duplicate names, as findIndex
  return { schema, meta, layout, nodes: node, buffers: buffer, index, kinds: schema.fields.map((f) => kindOf(f.type as DataType)) };
}

/**
 * Schemas recently seen, newest first: every parser encodes its table's schema identically each time, so a schema
 * message is decoded once per table, not per stream. The enricher sees all tables interleaved, hence several.
 */
const schemas: SchemaInfo[] = [];
const MAX_SCHEMAS = 64;

function knownSchema(bytes: Uint8Array, at: number, len: number): SchemaInfo | undefined {
  for (let i = 0; i < schemas.length; i++) {
    const s = schemas[i]!;
    if (s.meta.length === len && Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset + at, len), s.meta) === 0) {
      if (i > 0) {
        schemas.splice(i, 1);
        schemas.unshift(s);
      }
      return s;
    }
  }
  return undefined;
}

/** A non-negative int64 below 2^53 (lengths and offsets). */
const i64 = (b: Uint8Array, at: number): number => u32(b, at) + (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) * TWO_32;

function putI64(b: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  const lo = v - hi * TWO_32;
  b[at] = lo;
  b[at + 1] = lo >>> 8;
  b[at + 2] = lo >>> 16;
  b[at + 3] = lo >>> 24;
  b[at + 4] = hi;
  b[at + 5] = hi >>> 8;
  b[at + 6] = hi >>> 16;
  b[at + 7] = hi >>> 24;
}

/**
 * The numbers of a record batch message read from its flatbuffer (Message: version, header_type, header,
 * bodyLength, custom_metadata; RecordBatch: length, nodes, buffers, compression). Null when it is not a plain
 * record batch (schema, dictionary batch, compressed body) or does not look well-formed.
 */
function readBatchMeta(meta: Uint8Array): Omit<RawBatch, 'body'> | null {
  if (meta.length < 8) return null;
  const root = u32(meta, 0);
  if (root + 4 > meta.length) return null;
  const typeAt = field(meta, root, 1);
  const headerAt = field(meta, root, 2);
  if (typeAt <= 0 || headerAt <= 0 || meta[typeAt] !== HEADER_RECORD_BATCH) return null;
  const bodyLengthAt = field(meta, root, 3);
  const h = headerAt + u32(meta, headerAt);
  if (bodyLengthAt < 0 || h + 4 > meta.length) return null;
  const lengthAt = field(meta, h, 0);
  const nodesField = field(meta, h, 1);
  const buffersField = field(meta, h, 2);
  if (lengthAt < 0 || nodesField < 0 || buffersField < 0 || field(meta, h, 3) !== 0) return null; // compression
  const nodes = nodesField ? structVector(meta, nodesField) : { count: 0, at: -1 };
  const buffers = buffersField ? structVector(meta, buffersField) : { count: 0, at: -1 };
  if (!nodes || !buffers || lengthAt + 8 > meta.length || bodyLengthAt + 8 > meta.length) return null;
  return { length: lengthAt ? i64(meta, lengthAt) : 0, meta, nodesAt: nodes.at, buffersAt: buffers.at, nodeCount: nodes.count, bufferCount: buffers.count, bodyLengthAt: bodyLengthAt || -1 };
}

const bodyLengthOf = (b: Omit<RawBatch, 'body'>): number => (b.bodyLengthAt < 0 ? 0 : i64(b.meta, b.bodyLengthAt));
const bufferOffset = (b: RawBatch, k: number): number => i64(b.meta, b.buffersAt + 16 * k);
const bufferLength = (b: RawBatch, k: number): number => i64(b.meta, b.buffersAt + 16 * k + 8);
const nullCountOf = (b: RawBatch, node: number): number => i64(b.meta, b.nodesAt + 16 * node + 8);

/** Splits an IPC stream into its messages; null when it holds something this module does not handle. */
export function readIpcStream(bytes: Uint8Array): IpcStream | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let info: SchemaInfo | undefined;
  let schemaBytes: Uint8Array | undefined;
  const batches: RawBatch[] = [];
  while (pos + 4 <= bytes.length) {
    const start = pos;
    let len = view.getInt32(pos, true);
    pos += 4;
    if (len === CONTINUATION) {
      if (pos + 4 > bytes.length) return null;
      len = view.getInt32(pos, true);
      pos += 4;
    }
    if (len === 0) break; // end of stream
    if (len < 0 || pos + len > bytes.length) return null;
    if (!info) {
      // The first message is the schema (a schema message has no body).
      info = knownSchema(bytes, pos, len);
      if (!info) {
        const msg = Message.decode(bytes.subarray(pos, pos + len));
        if (!msg.isSchema() || msg.bodyLength !== 0) return null;
        const made = schemaInfo(msg.header(), new Uint8Array(bytes.subarray(pos, pos + len))); // a copy: NATS data may be a pooled Buffer
        if (!made) return null;
        schemas.unshift((info = made));
        if (schemas.length > MAX_SCHEMAS) schemas.pop();
      }
      pos += len;
      schemaBytes = bytes.subarray(start, pos);
      continue;
    }
    const m = readBatchMeta(bytes.subarray(pos, pos + len));
    if (!m) return null; // dictionary batches, compression, a second schema
    pos += len;
    const bodyLength = bodyLengthOf(m);
    if (pos + bodyLength > bytes.length) return null;
    const batch: RawBatch = { ...m, body: bytes.subarray(pos, pos + bodyLength) };
    pos += bodyLength;
    if (batch.nodeCount !== info.nodes || batch.bufferCount !== info.buffers) return null;
    for (let k = 0; k < batch.bufferCount; k++) if (bufferOffset(batch, k) + bufferLength(batch, k) > bodyLength) return null;
    batches.push(batch);
  }
  if (!info || !schemaBytes) return null;
  return { schema: info.schema, info, schemaBytes, batches };
}

/** A Utf8 column's buffers as they are: row r is null when validity (if any) has bit r clear, else data[offsets[r], offsets[r + 1]). */
export interface RawUtf8 {
  length: number;
  validity: Uint8Array | null;
  offsets: Int32Array;
  data: Buffer;
}

/** The strings of a column (null where null; '' stays '' unless emptyAsNull). */
export function stringsOfRaw(c: RawUtf8, emptyAsNull = false): (string | null)[] {
  const { length: n, validity, offsets, data } = c;
  const out = new Array<string | null>(n);
  for (let r = 0; r < n; r++) {
    if (validity && (validity[r >> 3]! & (1 << (r & 7))) === 0) out[r] = null;
    else {
      const a = offsets[r]!;
      const b = offsets[r + 1]!;
      out[r] = emptyAsNull && b <= a ? null : data.toString('utf8', a, b);
    }
  }
  return out;
}

/** The buffers of a top-level Utf8 column in one batch, without decoding a string; undefined when absent. */
export function readUtf8Raw(s: IpcStream, batch: RawBatch, name: string): RawUtf8 | undefined {
  const i = s.info.index.get(name);
  if (i === undefined || !DataType.isUtf8(s.schema.fields[i]!.type)) return undefined;
  const { node, buffer } = s.info.layout[i]!;
  const n = batch.length;
  const nulls = nullCountOf(batch, node);
  const body = batch.body;
  const vAt = bufferOffset(batch, buffer);
  const vLen = bufferLength(batch, buffer);
  const oAt = bufferOffset(batch, buffer + 1);
  const validity = nulls > 0 && vLen > 0 ? body.subarray(vAt, vAt + vLen) : null;
  const offBytes = body.subarray(oAt, oAt + bufferLength(batch, buffer + 1));
  // Body buffers are 8-aligned relative to the body; the body itself may sit anywhere in the message bytes. The copy
  // must be a new Uint8Array: message data from NATS is a Node Buffer, whose slice() is a view of its pool.
  const offsets = offBytes.byteOffset % 4 === 0 ? new Int32Array(offBytes.buffer, offBytes.byteOffset, n + 1) : new Int32Array(new Uint8Array(offBytes).buffer, 0, n + 1);
  return { length: n, validity, offsets, data: Buffer.from(body.buffer, body.byteOffset + bufferOffset(batch, buffer + 2), bufferLength(batch, buffer + 2)) };
}

/** The strings of a top-level Utf8 column in one batch (null where null); undefined when the column is absent. */
export function readUtf8Column(s: IpcStream, batch: RawBatch, name: string): (string | null)[] | undefined {
  const raw = readUtf8Raw(s, batch, name);
  return raw && stringsOfRaw(raw);
}

/** Epoch ms per unit of an Arrow timestamp (TimeUnit: 0 s, 1 ms, 2 µs, 3 ns). */
const MS_PER_UNIT = [1000, 1, 1 / 1000, 1 / 1_000_000];

/** A top-level timestamp or int64 column as epoch milliseconds (int64 taken as µs, as sluice stores timestamps). */
export function timesMsOfColumn(validity: Uint8Array | null, nulls: number, values: Uint8Array, n: number, unitMs: number): (number | null)[] {
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const out = new Array<number | null>(n);
  for (let r = 0; r < n; r++) {
    if (nulls > 0 && validity && validity.length > 0 && (validity[r >> 3]! & (1 << (r & 7))) === 0) out[r] = null;
    // Two int32 halves instead of a BigInt per value.
    else out[r] = Math.floor((view.getUint32(r * 8, true) + view.getInt32(r * 8 + 4, true) * 4_294_967_296) * unitMs);
  }
  return out;
}

/** Epoch ms per value of a timestamp / int64 column type, or null for other types. */
export function unitMsOf(t: DataType): number | null {
  if (DataType.isTimestamp(t)) return MS_PER_UNIT[t.unit as number] ?? null;
  if (DataType.isInt(t) && t.bitWidth === 64) return 1 / 1000;
  return null;
}

/** A top-level timestamp column of one batch in epoch ms (null where null); undefined when absent or not a timestamp. */
export function readTimeColumnMs(s: IpcStream, batch: RawBatch, name: string): (number | null)[] | undefined {
  const i = s.info.index.get(name);
  if (i === undefined) return undefined;
  const unitMs = unitMsOf(s.schema.fields[i]!.type as DataType);
  if (unitMs === null) return undefined;
  const { node, buffer } = s.info.layout[i]!;
  const n = batch.length;
  const [vAt, vLen, dAt, dLen] = [bufferOffset(batch, buffer), bufferLength(batch, buffer), bufferOffset(batch, buffer + 1), bufferLength(batch, buffer + 1)];
  if (dLen < n * 8) return undefined;
  return timesMsOfColumn(batch.body.subarray(vAt, vAt + vLen), nullCountOf(batch, node), batch.body.subarray(dAt, dAt + dLen), n, unitMs);
}

/**
 * A column the enricher built, as IPC body buffers: Utf8 has validity, offsets, data; double and long have
 * validity, values. The validity buffer is empty when no value is null.
 */
export interface OutColumn {
  kind: 'string' | 'double' | 'long';
  length: number;
  nullCount: number;
  buffers: Uint8Array[];
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * One record batch message with the named top-level columns replaced by `columns` (same name and type as in the
 * schema, `length` rows). Returns null when a column is missing from the schema or has another type.
 */
export function spliceBatch(s: IpcStream, batch: RawBatch, columns: ReadonlyMap<string, OutColumn>): SplicedBatch | null {
  const k = batch.bufferCount;
  const sources: (Uint8Array | null)[] = new Array<Uint8Array | null>(k).fill(null);
  const nodeNulls: number[] = [];
  for (const [name, col] of columns) {
    const i = s.info.index.get(name);
    if (i === undefined || s.info.kinds[i] !== col.kind || col.length !== batch.length) return null;
    const { node, buffer, buffers } = s.info.layout[i]!;
    if (col.buffers.length !== buffers) return null;
    nodeNulls.push(node, col.nullCount);
    for (let j = 0; j < buffers; j++) sources[buffer + j] = col.buffers[j]!;
  }
  // Output offsets: every buffer padded to 8 bytes, in order, as apache-arrow's writer lays them out.
  const offsets = new Array<number>(k);
  const lengths = new Array<number>(k);
  let bodyLength = 0;
  for (let j = 0; j < k; j++) {
    const src = sources[j];
    const len = src ? src.length : bufferLength(batch, j);
    offsets[j] = bodyLength;
    lengths[j] = len;
    bodyLength += pad8(len);
  }
  let meta: Uint8Array;
  if (batch.bodyLengthAt >= 0 && (batch.length > 0 || k === 0)) {
    // The input's flatbuffer with the numbers patched: same layout, since the counts are the same.
    // A copy (new Uint8Array, not slice(): the input may be a Node Buffer, whose slice() is a view).
    meta = new Uint8Array(batch.meta);
    putI64(meta, batch.bodyLengthAt, bodyLength);
    for (let j = 0; j < nodeNulls.length; j += 2) {
      putI64(meta, batch.nodesAt + 16 * nodeNulls[j]! + 8, nodeNulls[j + 1]!);
      putI64(meta, batch.nodesAt + 16 * nodeNulls[j]!, batch.length);
    }
    for (let j = 0; j < k; j++) {
      putI64(meta, batch.buffersAt + 16 * j, offsets[j]!);
      putI64(meta, batch.buffersAt + 16 * j + 8, lengths[j]!);
    }
  } else {
    // No bodyLength in the input (an empty body): apache-arrow encodes it.
    const nodes: FieldNode[] = [];
    for (let j = 0; j < batch.nodeCount; j++) nodes.push(new FieldNode(i64(batch.meta, batch.nodesAt + 16 * j), nullCountOf(batch, j)));
    for (let j = 0; j < nodeNulls.length; j += 2) nodes[nodeNulls[j]!] = new FieldNode(batch.length, nodeNulls[j + 1]!);
    const regions = offsets.map((o, j) => new BufferRegion(o, lengths[j]!));
    meta = Message.encode(Message.from(new BatchHeader(batch.length, nodes, regions, null), bodyLength));
  }
  return { meta, metaLength: pad8(meta.length + 8) - 8, batch, sources, offsets, lengths, length: 8 + pad8(meta.length + 8) - 8 + bodyLength };
}

/** A record batch message ready to be written: its metadata and body parts, copied once, into the output stream. */
export interface SplicedBatch {
  meta: Uint8Array;
  metaLength: number;
  /** The input batch: buffers without a source are copied from its body. */
  batch: RawBatch;
  sources: (Uint8Array | null)[];
  /** Offset and length of each buffer in the output body. */
  offsets: number[];
  lengths: number[];
  /** Bytes of the framed message. */
  length: number;
}

/** Zeroes out[from, to): padding (the output is not zero-filled). */
function zero(out: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) out[i] = 0;
}

/** Schema message, the given batch messages, end-of-stream marker: one allocation, every byte copied once. */
export function joinStream(schemaBytes: Uint8Array, batches: (Uint8Array | SplicedBatch)[]): Uint8Array {
  let total = schemaBytes.length + 8;
  for (const b of batches) total += b.length;
  // Every byte is written below (padding zeroed explicitly): its own ArrayBuffer, not a slice of Buffer's pool.
  const mem = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(mem.buffer, mem.byteOffset, total);
  const view = new DataView(out.buffer, out.byteOffset, total);
  out.set(schemaBytes, 0);
  let pos = schemaBytes.length;
  for (const b of batches) {
    if (b instanceof Uint8Array) out.set(b, pos);
    else {
      view.setInt32(pos, CONTINUATION, true);
      view.setInt32(pos + 4, b.metaLength, true);
      out.set(b.meta, pos + 8);
      zero(out, pos + 8 + b.meta.length, pos + 8 + b.metaLength);
      writeBody(out, pos + 8 + b.metaLength, b);
    }
    pos += b.length;
  }
  view.setInt32(pos, CONTINUATION, true);
  view.setInt32(pos + 4, 0, true);
  return out;
}

/** The body of a spliced batch at `base`: runs of untouched buffers that lie in the input as in the output are one copy. */
function writeBody(out: Uint8Array, base: number, b: SplicedBatch): void {
  const { batch, sources, offsets, lengths } = b;
  const body = batch.body;
  const k = sources.length;
  let j = 0;
  while (j < k) {
    const src = sources[j];
    const at = base + offsets[j]!;
    const len = lengths[j]!;
    if (src) {
      out.set(src, at);
      zero(out, at + len, at + pad8(len));
      j++;
      continue;
    }
    // Extend the run while the next untouched buffer follows this one in the input as in the output.
    const from = bufferOffset(batch, j);
    let end = j;
    while (end + 1 < k && !sources[end + 1] && bufferOffset(batch, end + 1) - from === offsets[end + 1]! - offsets[j]!) end++;
    const runEnd = from + offsets[end]! - offsets[j]! + lengths[end]!;
    out.set(body.subarray(from, runEnd), at);
    // Padding inside the run comes from the input; the input may not have zeroed it.
    for (let q = j; q <= end; q++) zero(out, base + offsets[q]! + lengths[q]!, base + offsets[q]! + pad8(lengths[q]!));
    j = end + 1;
  }
}
