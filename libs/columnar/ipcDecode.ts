// Arrow IPC stream → apache-arrow Table without apache-arrow's generic reader. Every envelope of a table repeats
// the same schema message, and tableFromIPC decodes it again each time (a Field and type object per column), reads
// the record batch metadata into FieldNode/BufferRegion objects (with BigInt conversions), dispatches a visitor per
// column twice (VectorLoader, makeData) and then clones the schema once per batch (RecordBatch's
// ensureSameLengthData: Schema.assign, O(columns²)), which the Table constructor compares field by field.
// Here the stream is split by hand, the schema is decoded once per distinct schema bytes together with a plan of
// its columns' buffer layout, and each record batch's numbers are read straight from its flatbuffer into Data
// objects built as makeData builds them. The Table is what tableFromIPC returns: the same schema (one object shared
// by every table of that schema, so schema comparisons downstream are an identity check), batches, types, buffers
// (views of the input, the body copied when it is not 8-aligned) and values. Anything else — dictionaries,
// compression, unions, view types, big-endian data, other metadata versions, custom batch metadata, a stream
// without record batches, truncated or trailing bytes — returns null and the caller uses tableFromIPC.
import { Data, DataType, RecordBatch, Struct, Table, type Field, type Schema } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { deref, field, i64, structVector, u16, u32 } from './flatbuf.ts';

/** A typed array constructor apache-arrow uses for a buffer (type.ArrayType, offsets). */
interface ArrayCtor {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): ArrayBufferView;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
}

/** How a column's nodes and buffers are laid out, by apache-arrow's VectorLoader order. */
const enum Kind {
  /** One node, no buffers (Null). */
  Null,
  /** Validity, values (Bool, Int, Float, Decimal, Date, Time, Timestamp, Interval, Duration, FixedSizeBinary). */
  Fixed,
  /** Validity, offsets, bytes (Utf8, Binary and their Large variants). */
  VarBinary,
  /** Validity, offsets, one child (List, LargeList, Map). */
  List,
  /** Validity, one child (FixedSizeList). */
  FixedList,
  /** Validity, children (Struct). */
  Struct,
}

interface Plan {
  type: DataType;
  kind: Kind;
  /** Fixed: the values' array type. VarBinary / List: the offsets' array type. */
  array: ArrayCtor | null;
  children: Plan[];
}

interface SchemaEntry {
  /** The schema message flatbuffer (a copy), to recognise the same schema in later streams. */
  bytes: Uint8Array;
  /** What tableFromIPC's batches carry: the decoded schema re-assigned to its own fields (see header). */
  schema: Schema;
  /** The type of a batch's struct data: a Struct of the decoded schema's fields, as ensureSameLengthData makes. */
  struct: Struct;
  plans: Plan[];
  nodes: number;
  buffers: number;
}

/** Arrow's MessageHeader union: 1 Schema, 3 RecordBatch. */
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
/** MetadataVersion V4 and V5: the same layout for every type handled here (they differ for unions only). */
const V4 = 3;
const V5 = 4;

/** The message's version when it is V4 or V5 and has no custom metadata, else -1; `root` is the Message table. */
function messageVersion(meta: Uint8Array, root: number): number {
  const versionAt = field(meta, root, 0);
  if (versionAt <= 0 || versionAt + 2 > meta.length || field(meta, root, 4) !== 0) return -1;
  const v = u16(meta, versionAt);
  return v === V4 || v === V5 ? v : -1;
}

// --- schemas -------------------------------------------------------------------------------------------------

/** The layout plan of a type, or null for layouts not handled here (dictionaries, unions, view types, newer types). */
function planOf(type: DataType): Plan | null {
  const t = type;
  const plan = (kind: Kind, array: ArrayCtor | null, children: Plan[] = []): Plan => ({ type: t, kind, array, children });
  const childPlans = (): Plan[] | null => {
    const out: Plan[] = [];
    for (const c of (t.children ?? []) as Field[]) {
      const p = planOf(c.type as DataType);
      if (!p) return null;
      out.push(p);
    }
    return out;
  };
  if (DataType.isDictionary(t) || DataType.isUnion(t)) return null;
  if (DataType.isNull(t)) return plan(Kind.Null, null);
  if (
    DataType.isBool(t) ||
    DataType.isInt(t) ||
    DataType.isFloat(t) ||
    DataType.isDecimal(t) ||
    DataType.isDate(t) ||
    DataType.isTime(t) ||
    DataType.isTimestamp(t) ||
    DataType.isInterval(t) ||
    DataType.isDuration(t) ||
    DataType.isFixedSizeBinary(t)
  ) {
    return plan(Kind.Fixed, t.ArrayType as ArrayCtor);
  }
  if (DataType.isUtf8(t) || DataType.isBinary(t)) return plan(Kind.VarBinary, Int32Array);
  if (DataType.isLargeUtf8(t) || DataType.isLargeBinary(t)) return plan(Kind.VarBinary, BigInt64Array);
  const children = childPlans();
  if (!children) return null;
  if (DataType.isList(t) || DataType.isMap(t)) return children.length === 1 ? plan(Kind.List, Int32Array, children) : null;
  if (DataType.isLargeList(t)) return children.length === 1 ? plan(Kind.List, BigInt64Array, children) : null;
  if (DataType.isFixedSizeList(t)) return children.length === 1 ? plan(Kind.FixedList, null, children) : null;
  if (DataType.isStruct(t)) return plan(Kind.Struct, null, children);
  return null;
}

function countOf(p: Plan): { nodes: number; buffers: number } {
  const own = [0, 2, 3, 2, 1, 1][p.kind]!;
  let nodes = 1;
  let buffers = own;
  for (const c of p.children) {
    const k = countOf(c);
    nodes += k.nodes;
    buffers += k.buffers;
  }
  return { nodes, buffers };
}

/** Schema messages decoded recently, most recent first: a sink or enricher sees a few tables' schemas. */
const schemas: SchemaEntry[] = [];
const MAX_SCHEMAS = 64;

function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** The schema message's plan: cached by bytes; null when it is not a schema this decoder handles. */
function schemaEntry(meta: Uint8Array): SchemaEntry | null {
  for (let i = 0; i < schemas.length; i++) {
    const s = schemas[i]!;
    if (sameBytes(s.bytes, meta)) {
      if (i > 0) {
        schemas.splice(i, 1);
        schemas.unshift(s);
      }
      return s;
    }
  }
  const entry = newSchemaEntry(meta);
  if (!entry) return null;
  schemas.unshift(entry);
  if (schemas.length > MAX_SCHEMAS) schemas.pop();
  return entry;
}

function newSchemaEntry(meta: Uint8Array): SchemaEntry | null {
  if (meta.length < 8) return null;
  const root = u32(meta, 0);
  const typeAt = field(meta, root, 1);
  if (typeAt <= 0 || meta[typeAt] !== HEADER_SCHEMA || messageVersion(meta, root) < 0) return null;
  // Schema.endianness (slot 0, default Little = 0): apache-arrow's decoder ignores it; big-endian bodies are not read here.
  const header = deref(meta, field(meta, root, 2));
  const endianAt = field(meta, header, 0);
  if (header < 0 || endianAt < 0 || (endianAt > 0 && u16(meta, endianAt) !== 0)) return null;
  const msg = Message.decode(meta);
  if (!msg.isSchema() || msg.bodyLength !== 0) return null;
  const decoded = msg.header();
  if (decoded.dictionaries.size > 0) return null;
  const plans: Plan[] = [];
  let nodes = 0;
  let buffers = 0;
  for (const f of decoded.fields) {
    const p = planOf(f.type as DataType);
    if (!p) return null;
    const k = countOf(p);
    nodes += k.nodes;
    buffers += k.buffers;
    plans.push(p);
  }
  // RecordBatch's constructor (ensureSameLengthData) gives each batch `schema.assign([...schema.fields])` and data
  // of type `new Struct([...schema.fields])`; the Table takes the first batch's schema. Done once here.
  return { bytes: copy(meta), schema: decoded.assign([...decoded.fields]), struct: new Struct([...decoded.fields]), plans, nodes, buffers };
}

// --- record batches ------------------------------------------------------------------------------------------

/** Reads one record batch's field nodes and buffers into Data, in VectorLoader's order. */
class BatchLoader {
  node = 0;
  buffer = 0;

  constructor(
    readonly meta: Uint8Array,
    readonly nodesAt: number,
    readonly buffersAt: number,
    /** The body, 8-aligned. */
    readonly body: Uint8Array,
  ) {}

  /** The next buffer as a Uint8Array view of the body (VectorLoader.readData, then toUint8Array). */
  bytes(): Uint8Array {
    const at = this.buffersAt + 16 * this.buffer++;
    const offset = i64(this.meta, at);
    const length = i64(this.meta, at + 8);
    if (offset < 0 || length < 0 || offset + length > this.body.length) throw new RangeError('buffer outside the record batch body');
    return new Uint8Array(this.body.buffer, this.body.byteOffset + offset, length);
  }

  /** The next buffer as `array` (makeData's toArrayBufferView: the same memory, an empty array when empty). */
  typed(array: ArrayCtor): ArrayBufferView {
    const b = this.bytes();
    if (array === Uint8Array) return b;
    return b.byteLength <= 0 ? new array(0) : new array(b.buffer, b.byteOffset, b.byteLength / array.BYTES_PER_ELEMENT);
  }

  /** VectorLoader.readNullBitmap: the buffer is consumed; used only when there are nulls. */
  validity(nullCount: number): Uint8Array {
    const b = this.bytes();
    return nullCount > 0 ? b : new Uint8Array(0);
  }

  load(p: Plan): Data {
    const at = this.nodesAt + 16 * this.node++;
    const length = i64(this.meta, at);
    const nullCount = i64(this.meta, at + 8);
    if (length < 0 || nullCount < 0) throw new RangeError('field node out of range');
    const type = p.type;
    switch (p.kind) {
      case Kind.Null:
        return new Data(type, 0, length, length);
      case Kind.Fixed: {
        const nulls = this.validity(nullCount);
        return new Data(type, 0, length, nullCount, [undefined, this.typed(p.array!), nulls]);
      }
      case Kind.VarBinary: {
        const nulls = this.validity(nullCount);
        const offsets = this.typed(p.array!);
        return new Data(type, 0, length, nullCount, [offsets, this.bytes(), nulls]);
      }
      case Kind.List: {
        const nulls = this.validity(nullCount);
        const offsets = this.typed(p.array!);
        return new Data(type, 0, length, nullCount, [offsets, undefined, nulls], [this.load(p.children[0]!)]);
      }
      case Kind.FixedList: {
        const nulls = this.validity(nullCount);
        return new Data(type, 0, length, nullCount, [undefined, undefined, nulls], [this.load(p.children[0]!)]);
      }
      case Kind.Struct: {
        const nulls = this.validity(nullCount);
        return new Data(type, 0, length, nullCount, [undefined, undefined, nulls], p.children.map((c) => this.load(c)));
      }
    }
  }
}

/** A RecordBatch holding `data` as its own constructor would leave it, without its per-batch schema clone. */
function recordBatch(schema: Schema, data: Data<Struct>): RecordBatch {
  const batch = Object.create(RecordBatch.prototype) as { schema: Schema; data: Data<Struct>; _metadata: Map<string, string> };
  batch.schema = schema;
  batch.data = data;
  batch._metadata = new Map();
  return batch as unknown as RecordBatch;
}

/**
 * One record batch message (the flatbuffer `meta`; the body follows at `bodyAt` in `bytes`): the batch and where
 * the next message starts, or null when it is not a plain record batch of this schema.
 */
function readBatch(entry: SchemaEntry, meta: Uint8Array, bytes: Uint8Array, bodyAt: number): { batch: RecordBatch; next: number } | null {
  if (meta.length < 8) return null;
  const root = u32(meta, 0);
  const typeAt = field(meta, root, 1);
  if (typeAt <= 0 || meta[typeAt] !== HEADER_RECORD_BATCH || messageVersion(meta, root) < 0) return null;
  const bodyLengthAt = field(meta, root, 3);
  const h = deref(meta, field(meta, root, 2));
  if (h < 0 || bodyLengthAt < 0 || bodyLengthAt + 8 > meta.length) return null;
  const lengthAt = field(meta, h, 0);
  if (lengthAt < 0 || lengthAt + 8 > meta.length) return null;
  // compression (slot 3) and variadicBufferCounts (slot 4): not handled here.
  if (field(meta, h, 3) !== 0 || field(meta, h, 4) !== 0) return null;
  const nodes = structVector(meta, field(meta, h, 1));
  const buffers = structVector(meta, field(meta, h, 2));
  const length = lengthAt ? i64(meta, lengthAt) : 0;
  const bodyLength = bodyLengthAt ? i64(meta, bodyLengthAt) : 0;
  if (!nodes || !buffers || length < 0 || bodyLength < 0 || bodyAt + bodyLength > bytes.length) return null;
  if (nodes.count !== entry.nodes || buffers.count !== entry.buffers) return null;
  let body = bytes.subarray(bodyAt, bodyAt + bodyLength);
  // Typed arrays need their element alignment; a NATS payload sits at any offset (tableFromIPC copies too).
  if (body.byteOffset % 8 !== 0) body = copy(body);
  const loader = new BatchLoader(meta, nodes.at, buffers.at, body);
  const children: Data[] = [];
  for (const p of entry.plans) {
    const d = loader.load(p);
    // Columns shorter or longer than the batch: RecordBatch would pad them and mark the fields nullable.
    if (d.length !== length) return null;
    children.push(d);
  }
  const data = new Data(entry.struct, 0, length, 0, [undefined, undefined, new Uint8Array(0)], children) as Data<Struct>;
  return { batch: recordBatch(entry.schema, data), next: bodyAt + bodyLength };
}

/** Streams decoded by tableFromIPC because this decoder did not handle them (for tests and benches). */
export const ipcDecodeFallbacks = { count: 0 };

/** The table of an Arrow IPC stream, or null when this decoder does not handle it (then use tableFromIPC). */
export function decodeIpcStream(bytes: Uint8Array): Table | null {
  try {
    const t = readStream(bytes);
    if (!t) ipcDecodeFallbacks.count++;
    return t;
  } catch {
    // Malformed input: tableFromIPC decides what it means (and throws its own error).
    ipcDecodeFallbacks.count++;
    return null;
  }
}

function readStream(bytes: Uint8Array): Table | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let entry: SchemaEntry | null = null;
  const batches: RecordBatch[] = [];
  for (;;) {
    if (pos === bytes.length) break; // no end-of-stream marker: tableFromIPC accepts that too
    // Every message starts with the continuation marker (streams before Arrow 0.15 lack it: not handled here).
    if (pos + 8 > bytes.length || view.getInt32(pos, true) !== -1) return null;
    const metaLen = view.getInt32(pos + 4, true);
    pos += 8;
    if (metaLen === 0) {
      if (pos !== bytes.length) return null; // anything after the end-of-stream marker
      break;
    }
    if (metaLen < 0 || pos + metaLen > bytes.length) return null;
    const meta = bytes.subarray(pos, pos + metaLen);
    pos += metaLen;
    if (!entry) {
      entry = schemaEntry(meta);
      if (!entry) return null;
      continue;
    }
    const r = readBatch(entry, meta, bytes, pos);
    if (!r) return null;
    batches.push(r.batch);
    pos = r.next;
  }
  // A schema without record batches: tableFromIPC gives a placeholder batch; rare, left to it.
  return entry && batches.length > 0 ? new Table(batches) : null;
}
