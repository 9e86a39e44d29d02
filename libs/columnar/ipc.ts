// Arrow IPC stream encoding: the wire format of record batches after the parser.
// A table's schema message is encoded once per distinct schema and reused: apache-arrow re-encodes the whole
// schema (every field's flatbuffer) for each stream, which cost as much as the record batch itself for wide
// tables in small envelopes. The bytes are identical to tableToIPC's.
import { decodeIpcStream } from './ipcDecode.ts';
import { DataType, Map_, RecordBatchStreamWriter, Table, tableFromIPC, tableToIPC, type Field, type Schema } from 'apache-arrow';

/** Schema message bytes (continuation marker, length, flatbuffer, padding) by schemaKey. */
const schemaMessages = new Map<string, Uint8Array>();
const MAX_CACHED_SCHEMAS = 256;
const EOS = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];

class CachedSchemaStreamWriter extends RecordBatchStreamWriter {
  constructor(private readonly schemaMessage: Uint8Array) {
    super();
  }

  protected override _writeSchema(): this {
    return this._write(this.schemaMessage);
  }
}

function fieldKey(f: Field): string {
  const t = f.type as DataType;
  const children = (t.children ?? []).map(fieldKey).join(',');
  const sorted = t instanceof Map_ ? `:${t.keysSorted}` : '';
  return `${JSON.stringify(f.name)}:${f.nullable}:${t.typeId}:${String(t)}${sorted}[${children}]${JSON.stringify([...f.metadata])}`;
}

/** Everything the schema message encodes; undefined for dictionary and union types (not cached). */
function schemaKey(schema: Schema): string | undefined {
  const plain = (f: Field): boolean => {
    const t = f.type as DataType;
    return !DataType.isDictionary(t) && !DataType.isUnion(t) && (t.children ?? []).every(plain);
  };
  if (!schema.fields.every(plain)) return undefined;
  return `${schema.fields.map(fieldKey).join(';')}|${JSON.stringify([...schema.metadata])}`;
}

/** The cached schema message of `schema`; undefined for schemas that are not cached (dictionaries, unions). */
export function schemaMessage(schema: Schema): Uint8Array | undefined {
  const key = schemaKey(schema);
  if (key === undefined) return undefined;
  let bytes = schemaMessages.get(key);
  if (!bytes) {
    // An empty table's stream is the schema message followed by the end-of-stream marker.
    const empty = tableToIPC(new Table(schema), 'stream');
    const tail = empty.subarray(empty.length - EOS.length);
    if (!EOS.every((b, i) => tail[i] === b)) return undefined;
    bytes = empty.slice(0, empty.length - EOS.length);
    if (schemaMessages.size < MAX_CACHED_SCHEMAS) schemaMessages.set(key, bytes);
  }
  return bytes;
}

export function encodeIpc(table: Table): Uint8Array {
  const schema = schemaMessage(table.schema);
  if (!schema) return tableToIPC(table, 'stream');
  return new CachedSchemaStreamWriter(schema).writeAll(table).toUint8Array(true);
}

/** The table of an Arrow IPC stream: ipcDecode.ts's decoder, apache-arrow's reader for what it does not handle. */
export function decodeIpc(bytes: Uint8Array): Table {
  return decodeIpcStream(bytes) ?? tableFromIPC(bytes);
}
