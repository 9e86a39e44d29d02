// Zeek network logs: one file per log type, TSV with a `#fields`/`#types` header (carried as the preamble) or JSON
// lines (`LogAscii::use_json`, json-streaming-logs with `_path`, or the Kafka plugin's `{"conn":{...}}` wrapper).
// The category is the log type: the header's `#path`, else the JSON `_path` / wrapper key, else the file name.
import { decodeZeekLine, parseZeekHeader, ZEEK_HEADER_KEYS, ZeekFormatError, zeekHeaderKey, type ZeekHeader } from '@sluice/formats';
import { RESCUED_COLUMN, zeekColumnName, zeekTables } from '@sluice/tables/zeek';
import type { TableDefinition } from '@sluice/tables';
import { RecordError, UNKNOWN_CATEGORY, type Rejected, type RecordContext, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });

const HASH = 0x23;
const BRACE = 0x7b;
const BRACKET = 0x5b;

/** First byte that is not whitespace (or a UTF-8 BOM byte), or -1. */
function firstByte(raw: Uint8Array): number {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xef && c !== 0xbb && c !== 0xbf) return c;
  }
  return -1;
}

const headers = new WeakMap<readonly string[], ZeekHeader>();

/** The parsed header of an envelope's preamble, parsed once per preamble array. */
function headerOf(preamble: readonly string[]): ZeekHeader {
  let h = headers.get(preamble);
  if (!h) {
    h = parseZeekHeader(preamble);
    headers.set(preamble, h);
  }
  return h;
}

/**
 * Log type from an object name: the base name up to its first dot (`conn.log`, `conn.00:00:00-01:00:00.log.gz`,
 * `zeek/2024-03-11/dns.log`, `json_streaming_dns.1.log`). Undefined when the base name is not a plain token
 * (e.g. `http:<request id>`, `topic:0`).
 */
export function zeekLogTypeOfObject(object: string): string | undefined {
  let base = object.slice(Math.max(object.lastIndexOf('/'), object.lastIndexOf('\\')) + 1);
  if (base.startsWith('json_streaming_')) base = base.slice('json_streaming_'.length);
  const m = /^([A-Za-z0-9_-]+)(?:\.|$)/.exec(base);
  return m ? m[1] : undefined;
}

function categoryOf(logType: string | undefined): string {
  return logType !== undefined && Object.hasOwn(zeekTables, logType) ? logType : UNKNOWN_CATEGORY;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Kafka plugin's wrapper `{"conn":{...}}`: one key naming the log type, the record (with its ts) as value. */
function unwrapKafka(o: Record<string, unknown>): { logType: string; record: Record<string, unknown> } | undefined {
  const keys = Object.keys(o);
  if (keys.length !== 1) return undefined;
  const inner = o[keys[0]!];
  // The wrapped record has its own ts; this keeps a lone nested field (`{"id":{…}}`) from passing for a wrapper.
  return isPlainObject(inner) && 'ts' in inner && /^[A-Za-z0-9_-]+$/.test(keys[0]!) ? { logType: keys[0]!, record: inner } : undefined;
}

/** Log type a JSON record names itself: `_path`, else the Kafka wrapper key. */
function jsonLogType(o: Record<string, unknown>): string | undefined {
  if (typeof o._path === 'string') return o._path;
  return unwrapKafka(o)?.logType;
}

function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
  }
  if (isPlainObject(v)) return { ok: true, value: v };
  return { ok: false, reason: `expected a JSON object, got ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}` };
}

function routeZeek(records: Uint8Array[], ctx: RecordContext): RouteResult {
  const routed: Routed[] = [];
  const rejected: Rejected[] = [];
  let skipped = 0;
  let header: ZeekHeader | undefined;
  let fileType: string | undefined | null = null;
  const typeFromFile = (): string | undefined => {
    if (fileType === null) fileType = zeekLogTypeOfObject(ctx.object);
    return fileType;
  };
  const typeFromHeader = (): string | undefined => {
    if (ctx.preamble.length === 0) return undefined;
    header ??= headerOf(ctx.preamble);
    return header.path;
  };
  for (const raw of records) {
    try {
      const first = firstByte(raw);
      // Blank lines, `#close` and any header line the collector did not strip carry no event.
      if (first === -1 || first === HASH) {
        skipped++;
        continue;
      }
      // A JSON array is never a Zeek record (TSV lines start with the ts digits): rejected rather than mis-split.
      if (first === BRACE || first === BRACKET) {
        const parsed = parseJsonObject(utf8.decode(raw));
        if (!parsed.ok) {
          rejected.push({ raw, rule: 'parse', reason: parsed.reason });
          continue;
        }
        const logType = jsonLogType(parsed.value) ?? typeFromHeader() ?? typeFromFile();
        routed.push({ category: categoryOf(logType), record: raw });
      } else {
        routed.push({ category: categoryOf(typeFromHeader() ?? typeFromFile()), record: raw });
      }
    } catch (e) {
      rejected.push({ raw, rule: 'route', reason: `cannot route record: ${(e as Error).message}` });
    }
  }
  return { routed, rejected, skipped };
}

/** Column sources (top-level keys of the decoded record) each table declares; other keys go to the rescued column. */
const declaredKeys = new Map<TableDefinition, ReadonlySet<string>>();
function declaredOf(table: TableDefinition): ReadonlySet<string> {
  let s = declaredKeys.get(table);
  if (!s) {
    s = new Set(table.columns.map((c) => (c.from ?? c.name).split('.')[0]!));
    declaredKeys.set(table, s);
  }
  return s;
}

function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  // "__proto__" arrives as an own key from JSON.parse; a plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** Epoch values at or above this are milliseconds (`LogAscii::json_timestamps = JSON::TS_MILLIS`): 1e11 s is year 5138. */
const MILLIS_THRESHOLD = 1e11;
const TIME_KEYS = new Set(['ts', '_write_ts']);

const MAX_FLATTEN_DEPTH = 4;

/** Field name → column name, memoised: fresh strings as property keys would be re-internalised on every record. */
const columnNames = new Map<string, string>();
const MAX_MEMO_NAMES = 10_000;
function columnNameOf(field: string): string {
  let name = columnNames.get(field);
  if (name === undefined) {
    name = zeekColumnName(field);
    if (columnNames.size < MAX_MEMO_NAMES) columnNames.set(field, name);
  }
  return name;
}

interface Target {
  out: Record<string, unknown>;
  rescued: Record<string, unknown> | undefined;
  declared: ReadonlySet<string> | undefined;
}

function put(t: Target, name: string, value: unknown): void {
  if (name === '_path') return;
  if (typeof value === 'number' && Math.abs(value) >= MILLIS_THRESHOLD && TIME_KEYS.has(name)) value = value / 1000;
  if (!t.declared || t.declared.has(name)) setOwn(t.out, name, value);
  else setOwn((t.rescued ??= {}), name, value);
}

function walk(t: Target, o: Record<string, unknown>, prefix: string, depth: number): void {
  for (const key of Object.keys(o)) {
    const name = prefix === '' ? columnNameOf(key) : columnNameOf(prefix + key);
    const value = o[key];
    if (depth < MAX_FLATTEN_DEPTH && isPlainObject(value)) walk(t, value, `${prefix}${key}.`, depth + 1);
    else put(t, name, value);
  }
}

/**
 * A Zeek record (field name → value) → the object the table's columns read: dotted names become column names, nested
 * objects (shippers that un-flatten `id.orig_h` into `{"id":{"orig_h":…}}`) are flattened the same way, `_path` is
 * dropped, and fields the table does not declare are gathered under `_rescued_data`.
 */
export function zeekRecordToColumns(record: Record<string, unknown>, table: TableDefinition | undefined): Record<string, unknown> {
  const t: Target = { out: {}, rescued: undefined, declared: table ? declaredOf(table) : undefined };
  walk(t, record, '', 0);
  if (t.rescued) t.out[RESCUED_COLUMN] = t.rescued;
  return t.out;
}

function decodeZeek(record: Uint8Array, category: string, ctx: RecordContext): unknown {
  const table = Object.hasOwn(zeekTables, category) ? zeekTables[category] : undefined;
  const text = utf8.decode(record);
  const first = firstByte(record);
  if (first === BRACE || first === BRACKET) {
    const parsed = parseJsonObject(text);
    if (!parsed.ok) throw new RecordError('parse', parsed.reason);
    const o = parsed.value;
    const wrapped = typeof o._path === 'string' ? undefined : unwrapKafka(o);
    return zeekRecordToColumns(wrapped ? wrapped.record : o, table);
  }
  const header = headerOf(ctx.preamble);
  if (header.fields.length === 0) {
    throw new RecordError('zeek_header', 'TSV record without a #fields header line (no Zeek header preceded it in the file)');
  }
  try {
    return zeekRecordToColumns(decodeZeekLine(text, header), table);
  } catch (e) {
    if (e instanceof ZeekFormatError) throw new RecordError('zeek_fields', e.message);
    throw e;
  }
}

export const zeekFamily: SourceFamily = {
  name: 'zeek',
  title: 'Zeek network logs (conn, dhcp, dns, http, notice, ssl), TSV with #fields headers or JSON lines',
  tables: zeekTables,
  // `#close` is a trailer, not a header: as a preamble line it would start a new run holding only `#close`, and any
  // record written after it (a file appended to after its trailer) would lose its #fields. It reaches route() as a
  // record and is counted as skipped there.
  isPreamble: (line) => {
    const key = zeekHeaderKey(line);
    return key !== undefined && ZEEK_HEADER_KEYS.has(key);
  },
  route: routeZeek,
  decode: (record, category, ctx) => {
    try {
      return decodeZeek(record, category, ctx);
    } catch (e) {
      if (e instanceof RecordError) throw e;
      throw new RecordError('decode', `cannot decode Zeek record: ${(e as Error).message}`);
    }
  },
};
