// Replaces whole columns of an Arrow IPC stream without decoding or re-encoding the others: the schema message is
// copied as it is, and each record batch gets new metadata (field nodes, buffer regions) and a body in which the
// untouched columns' buffers are copied byte for byte. Reading a column's strings touches only that column's
// buffers. Streams this cannot handle (compression, dictionaries, view types, a replaced column of another type,
// columns that would have to be added) return null, and the caller takes the generic apache-arrow path.
import { DataType, type Data, type Field, type Schema } from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';

const CONTINUATION = -1;
const PRIMITIVE_TYPE_IDS = new Set([2, 3, 6, 7, 8, 9, 10, 11, 15, 18]);

interface RawBatch {
  header: BatchHeader;
  body: Uint8Array;
}

export interface IpcStream {
  schema: Schema;
  /** The schema message as it arrived (framing included). */
  schemaBytes: Uint8Array;
  batches: RawBatch[];
  /** Per top-level field: index of its first field node and first buffer in every batch. */
  layout: { node: number; buffer: number; buffers: number }[];
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

/** The last schema message decoded (its flatbuffer bytes) and what it decoded to. */
let cachedSchema: { meta: Uint8Array; metaLength: number; schema: Schema } | undefined;

function equalBytes(a: Uint8Array, at: number, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset + at, b.length), b) === 0;
}

/** Splits an IPC stream into its messages; null when it holds something this module does not handle. */
export function readIpcStream(bytes: Uint8Array): IpcStream | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let schema: Schema | undefined;
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
    if (!schema && cachedSchema && len === cachedSchema.metaLength && equalBytes(bytes, pos, cachedSchema.meta)) {
      // The same schema as the previous stream (a parser encodes its table's schema identically every time): its
      // flatbuffer is not decoded again. A schema message has no body.
      pos += len;
      schema = cachedSchema.schema;
      schemaBytes = bytes.subarray(start, pos);
      continue;
    }
    const msg = Message.decode(bytes.subarray(pos, pos + len));
    pos += len;
    const body = bytes.subarray(pos, pos + msg.bodyLength);
    pos += msg.bodyLength;
    if (body.length !== msg.bodyLength) return null;
    if (msg.isSchema()) {
      if (schema || msg.bodyLength !== 0) return null;
      schema = msg.header();
      schemaBytes = bytes.subarray(start, pos);
      cachedSchema = { meta: new Uint8Array(bytes.subarray(pos - len, pos)), metaLength: len, schema }; // a copy: NATS data may be a pooled Buffer
    } else if (msg.isRecordBatch()) {
      const h = msg.header();
      if (!schema || h.compression !== null) return null;
      batches.push({ header: h, body });
    } else return null; // dictionary batches
  }
  if (!schema || !schemaBytes) return null;
  const layout: IpcStream['layout'] = [];
  let node = 0;
  let buffer = 0;
  for (const f of schema.fields) {
    const k = bufferCount(f.type as DataType);
    if (k === null) return null;
    layout.push({ node, buffer, buffers: k });
    node += nodeCount(f);
    buffer += k;
  }
  for (const b of batches) if (b.header.nodes.length !== node || b.header.buffers.length !== buffer) return null;
  return { schema, schemaBytes, batches, layout };
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
  const i = s.schema.fields.findIndex((f) => f.name === name);
  if (i < 0 || !DataType.isUtf8(s.schema.fields[i]!.type)) return undefined;
  const { node, buffer } = s.layout[i]!;
  const n = batch.header.length;
  const nulls = batch.header.nodes[node]!.nullCount;
  const [v, o, d] = [batch.header.buffers[buffer]!, batch.header.buffers[buffer + 1]!, batch.header.buffers[buffer + 2]!];
  const body = batch.body;
  const validity = nulls > 0 && v.length > 0 ? body.subarray(v.offset, v.offset + v.length) : null;
  const offBytes = body.subarray(o.offset, o.offset + o.length);
  // Body buffers are 8-aligned relative to the body; the body itself may sit anywhere in the message bytes. The copy
  // must be a new Uint8Array: message data from NATS is a Node Buffer, whose slice() is a view of its pool.
  const offsets = offBytes.byteOffset % 4 === 0 ? new Int32Array(offBytes.buffer, offBytes.byteOffset, n + 1) : new Int32Array(new Uint8Array(offBytes).buffer, 0, n + 1);
  return { length: n, validity, offsets, data: Buffer.from(body.buffer, body.byteOffset + d.offset, d.length) };
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
  const i = s.schema.fields.findIndex((f) => f.name === name);
  if (i < 0) return undefined;
  const unitMs = unitMsOf(s.schema.fields[i]!.type as DataType);
  if (unitMs === null) return undefined;
  const { node, buffer } = s.layout[i]!;
  const n = batch.header.length;
  const [v, d] = [batch.header.buffers[buffer]!, batch.header.buffers[buffer + 1]!];
  if (d.length < n * 8) return undefined;
  return timesMsOfColumn(batch.body.subarray(v.offset, v.offset + v.length), batch.header.nodes[node]!.nullCount, batch.body.subarray(d.offset, d.offset + d.length), n, unitMs);
}

/** The body buffers of a flat column built by the enricher (Utf8: validity, offsets, data; primitive: validity, data). */
function buffersOf(d: Data): Uint8Array[] {
  const validity = d.nullCount > 0 && d.nullBitmap ? d.nullBitmap : new Uint8Array(0);
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return DataType.isUtf8(d.type) ? [validity, bytes(d.valueOffsets), bytes(d.values as Uint8Array)] : [validity, bytes(d.values as ArrayBufferView)];
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * One record batch message with the named top-level columns replaced by `columns` (same name and type as in the
 * schema, `length` rows). Returns null when a column is missing from the schema or has another type.
 */
export function spliceBatch(s: IpcStream, batch: RawBatch, columns: ReadonlyMap<string, Data>): SplicedBatch | null {
  const nodes = [...batch.header.nodes];
  const sources: (Uint8Array | null)[] = batch.header.buffers.map(() => null);
  for (const [name, data] of columns) {
    const i = s.schema.fields.findIndex((f) => f.name === name);
    if (i < 0 || String(s.schema.fields[i]!.type) !== String(data.type) || data.length !== batch.header.length) return null;
    const { node, buffer, buffers } = s.layout[i]!;
    const bufs = buffersOf(data);
    if (bufs.length !== buffers) return null;
    nodes[node] = new FieldNode(data.length, data.nullCount);
    bufs.forEach((b, k) => (sources[buffer + k] = b));
  }
  const old = batch.header.buffers;
  const parts = sources.map((b, k) => b ?? batch.body.subarray(old[k]!.offset, old[k]!.offset + old[k]!.length));
  const regions: BufferRegion[] = [];
  let bodyLength = 0;
  for (const p of parts) {
    regions.push(new BufferRegion(bodyLength, p.length));
    bodyLength += pad8(p.length);
  }
  const meta = Message.encode(Message.from(new BatchHeader(batch.header.length, nodes, regions, null), bodyLength));
  const metaLength = pad8(meta.length + 8) - 8;
  return { meta, metaLength, parts, offsets: regions.map((r) => r.offset), length: 8 + metaLength + bodyLength };
}

/** A record batch message ready to be written: its metadata and body parts, copied once, into the output stream. */
export interface SplicedBatch {
  meta: Uint8Array;
  metaLength: number;
  parts: Uint8Array[];
  /** Offset of each part in the body. */
  offsets: number[];
  /** Bytes of the framed message. */
  length: number;
}

/** Schema message, the given batch messages, end-of-stream marker: one allocation, every byte copied once. */
export function joinStream(schemaBytes: Uint8Array, batches: (Uint8Array | SplicedBatch)[]): Uint8Array {
  const total = schemaBytes.length + batches.reduce((n, b) => n + b.length, 0) + 8;
  const out = new Uint8Array(total); // zero-filled: the padding
  const view = new DataView(out.buffer);
  out.set(schemaBytes, 0);
  let pos = schemaBytes.length;
  for (const b of batches) {
    if (b instanceof Uint8Array) out.set(b, pos);
    else {
      view.setInt32(pos, CONTINUATION, true);
      view.setInt32(pos + 4, b.metaLength, true);
      out.set(b.meta, pos + 8);
      const base = pos + 8 + b.metaLength;
      for (let k = 0; k < b.parts.length; k++) out.set(b.parts[k]!, base + b.offsets[k]!);
    }
    pos += b.length;
  }
  view.setInt32(pos, CONTINUATION, true); // then int32 0
  return out;
}
