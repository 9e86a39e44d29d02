// An EventBatch straight from Arrow IPC stream bytes, decoding only the columns a rule asks for. apache-arrow's
// tableFromIPC decodes the schema message (every field's flatbuffer) and builds every column of every message; the
// detector's rules read ~10 of a silver table's ~65 columns, and every envelope repeats the same schema message.
// Here the schema is decoded once per distinct schema bytes, with where each top-level column starts among the
// record batch's field nodes and buffers; a column is built (apache-arrow's VectorLoader, from that start) on first
// use. Anything unusual (dictionaries, compression, view types, no continuation markers) falls back to the full
// decode, so the result is always what arrowBatch(decodeIpc(bytes)) gives.
import { MessageHeader, Vector, type Data, type Field, type Schema } from 'apache-arrow';
import { Message, type RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { decodeIpc } from '@sluice/columnar';
import { arrowBatch, readColumn, type Cell, type EventBatch } from './eventBatch.ts';

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

interface BatchPart {
  header: RecordBatchHeader;
  body: Uint8Array;
}

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
  const loader = new VectorLoader(part.body, part.header.nodes, part.header.buffers, new Map(), entry.schema.metadataVersion);
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
  // The body's typed arrays need 8-byte alignment: an unaligned buffer (a NATS payload) is copied once, as
  // apache-arrow's reader does.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : copy(bytes);
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
    const m = Message.decode(meta);
    const bodyLen = Number(m.bodyLength);
    if (m.headerType !== MessageHeader.RecordBatch) return null;
    const header = m.header() as RecordBatchHeader;
    if (header.compression != null || header.variadicBufferCounts.length > 0) return null;
    parts.push({ header, body: aligned.subarray(pos, pos + bodyLen) });
    pos += bodyLen;
  }
  return entry ? { entry, parts } : null;
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
  for (const p of parts) numRows += Number(p.header.length);
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
        const chunks: Data[] = [];
        for (const p of parts) {
          const loader = new VectorLoader(p.body, p.header.nodes, p.header.buffers, new Map(), entry.schema.metadataVersion);
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
