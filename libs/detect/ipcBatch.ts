// An EventBatch straight from Arrow IPC stream bytes, decoding only the columns a rule asks for. apache-arrow's
// tableFromIPC decodes the schema message (every field's flatbuffer) and builds every column of every message; the
// detector's rules read ~10 of a silver table's ~65 columns, and every envelope repeats the same schema message.
// Here the schema is decoded once per distinct schema bytes, with where each top-level column starts among the
// record batch's field nodes and buffers; a column is built (apache-arrow's VectorLoader, from that start) on first
// use. Record batch metadata (row count, field nodes, buffer regions) is read straight from its flatbuffer, and
// only the nodes and regions of the columns asked for become objects (apache-arrow's Message decode builds all of
// them, ≈ 200 per message, with BigInt conversions). Anything unusual (dictionaries, compression, view types, no
// continuation markers, metadata that does not look like a plain record batch) falls back to the full decode, so the
// result is always what arrowBatch(decodeIpc(bytes)) gives.
import { MessageHeader, Vector, type Data, type Field, type Schema } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { decodeIpc, flatbuf } from '@sluice/columnar';
import { arrowBatch, readColumn, type Cell, type EventBatch } from './eventBatch.ts';

const { field, i64, structVector, u32 } = flatbuf;

interface SchemaEntry {
  bytes: Uint8Array;
  schema: Schema;
  index: Map<string, number>;
  /** Per top-level field: its first field node and buffer in a record batch (null = not computed yet). */
  starts: { node: number; buffer: number }[] | null;
  /** Unsupported for the lazy path (dictionaries, view types): always the full decode. */
  unsupported: boolean;
}

/** VectorLoader's read cursors (not in its public typings): the last field node and buffer it consumed. */
interface Cursor {
  nodesIndex: number;
  buffersIndex: number;
}

/** One record batch message: its flatbuffer metadata, where its numbers sit there, and its body. */
interface BatchPart {
  /** Rows. */
  length: number;
  meta: Uint8Array;
  /** Offsets in `meta` of the first FieldNode and Buffer struct (16 bytes each: two int64). */
  nodesAt: number;
  buffersAt: number;
  nodeCount: number;
  bufferCount: number;
  /** The message body as received: typed arrays over it need 8-byte alignment (see `loaderInput`). */
  body: Uint8Array;
}

/** A buffer region of a record batch (offset and length in its body), as VectorLoader reads them. */
interface Region {
  offset: number;
  length: number;
}

/** A field node (rows and nulls of one array), as VectorLoader reads them. */
interface Node {
  length: number;
  nullCount: number;
}

/** Arrow's MessageHeader union: 3 is RecordBatch. */
const HEADER_RECORD_BATCH = 3;

/**
 * A record batch message's numbers from its flatbuffer (Message: version, header_type, header, bodyLength;
 * RecordBatch: length, nodes, buffers, compression, variadicBufferCounts). Null when it is not a plain record batch
 * (another message, compression, view types' variadic counts) or does not look well-formed: the full decode then.
 */
function readBatchMeta(meta: Uint8Array, body: (bodyLength: number) => Uint8Array | null): BatchPart | null {
  if (meta.length < 8) return null;
  const root = u32(meta, 0);
  if (root + 4 > meta.length) return null;
  const typeAt = field(meta, root, 1);
  const headerAt = field(meta, root, 2);
  const bodyLengthAt = field(meta, root, 3);
  if (typeAt <= 0 || headerAt <= 0 || bodyLengthAt < 0 || meta[typeAt] !== HEADER_RECORD_BATCH) return null;
  const h = headerAt + u32(meta, headerAt);
  if (h + 4 > meta.length || bodyLengthAt + 8 > meta.length) return null;
  const lengthAt = field(meta, h, 0);
  const nodesField = field(meta, h, 1);
  const buffersField = field(meta, h, 2);
  if (lengthAt < 0 || nodesField < 0 || buffersField < 0 || lengthAt + 8 > meta.length) return null;
  if (field(meta, h, 3) !== 0 || field(meta, h, 4) !== 0) return null; // compression, variadic buffer counts
  const nodes = nodesField ? structVector(meta, nodesField) : { count: 0, at: -1 };
  const buffers = buffersField ? structVector(meta, buffersField) : { count: 0, at: -1 };
  const length = lengthAt ? i64(meta, lengthAt) : 0;
  const bodyLength = bodyLengthAt ? i64(meta, bodyLengthAt) : 0;
  if (!nodes || !buffers || length < 0 || bodyLength < 0) return null;
  const b = body(bodyLength);
  if (!b) return null;
  for (let k = 0; k < buffers.count; k++) {
    const off = i64(meta, buffers.at + 16 * k);
    const len = i64(meta, buffers.at + 16 * k + 8);
    if (off < 0 || len < 0 || off + len > bodyLength) return null;
  }
  for (let k = 0; k < nodes.count; k++) if (i64(meta, nodes.at + 16 * k) < 0 || i64(meta, nodes.at + 16 * k + 8) < 0) return null;
  return { length, meta, nodesAt: nodes.at, buffersAt: buffers.at, nodeCount: nodes.count, bufferCount: buffers.count, body: b };
}

const nodeOf = (p: BatchPart, k: number): Node => ({ length: i64(p.meta, p.nodesAt + 16 * k), nullCount: i64(p.meta, p.nodesAt + 16 * k + 8) });
const regionOf = (p: BatchPart, k: number): Region => ({ offset: i64(p.meta, p.buffersAt + 16 * k), length: i64(p.meta, p.buffersAt + 16 * k + 8) });

// The detector sees a handful of schemas (one per table): a short list compared byte for byte (memcmp).
const schemas: SchemaEntry[] = [];
const MAX_SCHEMAS = 64;
const VIEW = /View$/;

/** A copy in a fresh ArrayBuffer (not `slice()`: a NATS payload is a Node Buffer, whose slice is a view). */
function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function schemaFor(meta: Uint8Array): SchemaEntry | null {
  for (const s of schemas) if (s.bytes.length === meta.length && Buffer.compare(s.bytes, meta) === 0) return s;
  const m = Message.decode(meta);
  if (m.headerType !== MessageHeader.Schema) return null;
  const schema = m.header() as Schema;
  const entry: SchemaEntry = {
    bytes: copy(meta),
    schema,
    index: new Map(schema.fields.map((f, i) => [f.name, i])),
    starts: null,
    unsupported: schema.dictionaries.size > 0 || schema.fields.some(function view(f: Field): boolean {
      return VIEW.test(String(f.type.constructor.name)) || (f.type.children ?? []).some(view);
    }),
  };
  if (schemas.length >= MAX_SCHEMAS) schemas.shift();
  schemas.push(entry);
  return entry;
}

/** Where each top-level field starts: apache-arrow's own loader walks one batch and reports its cursors. */
function startsOf(entry: SchemaEntry, part: BatchPart): { node: number; buffer: number }[] {
  const body = part.body.byteOffset % 8 === 0 ? part.body : copy(part.body);
  const nodes = Array.from({ length: part.nodeCount }, (_, k) => nodeOf(part, k));
  const buffers = Array.from({ length: part.bufferCount }, (_, k) => regionOf(part, k));
  const loader = new VectorLoader(body, nodes as never, buffers as never, new Map(), entry.schema.metadataVersion);
  const cursor = loader as unknown as Cursor;
  const out: { node: number; buffer: number }[] = [];
  for (const f of entry.schema.fields) {
    out.push({ node: cursor.nodesIndex + 1, buffer: cursor.buffersIndex + 1 });
    loader.visit(f);
  }
  return out;
}

/** The messages of an IPC stream: schema metadata and record batches; null when the lazy path does not apply. */
function split(bytes: Uint8Array): { entry: SchemaEntry; parts: BatchPart[] } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let entry: SchemaEntry | null = null;
  const parts: BatchPart[] = [];
  while (pos + 8 <= bytes.length) {
    if (view.getInt32(pos, true) !== -1) return null;
    const metaLen = view.getInt32(pos + 4, true);
    if (metaLen === 0) break;
    const meta = bytes.subarray(pos + 8, pos + 8 + metaLen);
    pos += 8 + metaLen;
    if (!entry) {
      entry = schemaFor(meta);
      if (!entry || entry.unsupported) return null;
      continue;
    }
    const at = pos;
    const part = readBatchMeta(meta, (n) => (at + n <= bytes.length ? bytes.subarray(at, (pos = at + n)) : null));
    if (!part) return null;
    // Every batch of a stream has the same layout (the field starts are computed once per schema).
    if (parts.length && (part.nodeCount !== parts[0]!.nodeCount || part.bufferCount !== parts[0]!.bufferCount)) return null;
    parts.push(part);
  }
  return entry ? { entry, parts } : null;
}

/**
 * What a loader reads one field from: the field's nodes [node, nodeEnd) and buffer regions [from, to) (the arrays
 * hold only those: the loader's cursors start at the field), and the body. An aligned body is used in place. An
 * unaligned one (a NATS payload sits at any offset; typed arrays need their element alignment) has only the field's
 * byte range copied into a fresh buffer, from an 8-byte boundary of the body so every region keeps its alignment,
 * with the field's regions shifted to it — not the whole message (≈ 65 columns) per decode.
 */
function loaderInput(p: BatchPart, node: number, nodeEnd: number, from: number, to: number): { body: Uint8Array; nodes: Node[]; buffers: Region[] } {
  const nodes: Node[] = [];
  for (let k = node; k < nodeEnd; k++) nodes[k] = nodeOf(p, k);
  const buffers: Region[] = [];
  for (let b = from; b < to; b++) buffers[b] = regionOf(p, b);
  if (p.body.byteOffset % 8 === 0) return { body: p.body, nodes, buffers };
  let lo = Infinity;
  let hi = 0;
  for (let b = from; b < to; b++) {
    const r = buffers[b]!;
    if (r.length <= 0) continue;
    if (r.offset < lo) lo = r.offset;
    if (r.offset + r.length > hi) hi = r.offset + r.length;
  }
  if (lo === Infinity) {
    for (let b = from; b < to; b++) buffers[b] = { offset: 0, length: 0 };
    return { body: new Uint8Array(0), nodes, buffers };
  }
  const base = lo - (lo % 8);
  const body = copy(p.body.subarray(base, hi));
  for (let b = from; b < to; b++) {
    const r = buffers[b]!;
    buffers[b] = r.length <= 0 ? { offset: 0, length: 0 } : { offset: r.offset - base, length: r.length };
  }
  return { body, nodes, buffers };
}

/** Messages decoded through the full decode since start (the lazy path did not apply): for tests and benches. */
export const ipcFallbacks = { count: 0 };

/** The batch of an IPC stream message (the enricher's envelopes), columns decoded on first use. */
export function ipcBatch(input: string, bytes: Uint8Array): EventBatch {
  const s = split(bytes);
  if (!s) {
    ipcFallbacks.count++;
    return arrowBatch(input, decodeIpc(bytes));
  }
  const { entry, parts } = s;
  if (parts.length > 0) entry.starts ??= startsOf(entry, parts[0]!);
  let numRows = 0;
  for (const p of parts) numRows += p.length;
  const cache = new Map<string, readonly Cell[] | undefined>();
  return {
    input,
    numRows,
    column(name) {
      let out = cache.get(name);
      if (out !== undefined || cache.has(name)) return out;
      const i = entry.index.get(name);
      if (i !== undefined) {
        const field = entry.schema.fields[i]!;
        const start = entry.starts?.[i];
        const next = entry.starts?.[i + 1];
        const chunks: Data[] = [];
        for (const p of parts) {
          const { body, nodes, buffers } = loaderInput(p, start!.node, next?.node ?? p.nodeCount, start!.buffer, next?.buffer ?? p.bufferCount);
          const loader = new VectorLoader(body, nodes as never, buffers as never, new Map(), entry.schema.metadataVersion);
          const cursor = loader as unknown as Cursor;
          cursor.nodesIndex = start!.node - 1;
          cursor.buffersIndex = start!.buffer - 1;
          chunks.push(loader.visit(field) as Data);
        }
        out = chunks.length ? readColumn(new Vector(chunks), numRows) : [];
      }
      cache.set(name, out);
      return out;
    },
  };
}
