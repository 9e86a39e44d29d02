// Adds enrichment columns to typed Arrow batches, column by column: for each IP column of the table's enrichment its
// scope, GeoIP country/city/location and AS number/organisation; for each DNS-name column its registered domain and
// public suffix; for each attribution column the user / MAC / host name that held the address at the row's event
// time. The other columns' buffers are reused as they are; the output columns replace the (null) ones the parser
// wrote, or are appended when the configuration adds enrichments beyond the table's defaults.
import { Field, makeData, RecordBatch, Schema, Struct, Table, type Data, type DataType, type Utf8 } from 'apache-arrow';
import { arrowType, decodeIpc, encodeIpc } from '@sluice/columnar';
import type { DomainInfo, DomainLookup } from '@sluice/domains';
import { parseIp, parseIPv4Bytes, scopeOfV4, type GeoLookup, type IpInfo, type IpScope } from '@sluice/geoip';
import { attributeColumn, type AttributionCounts, type AttributionInput } from './attribution.ts';
import { joinStream, readIpcStream, readTimeColumnMs, readUtf8Raw, spliceBatch, stringsOfRaw, timesMsOfColumn, unitMsOf, type OutColumn, type RawUtf8, type SplicedBatch } from './ipcSplice.ts';
import { eventPartitionOf, H, NonRetryableError, subjects, type InputMessage, type OutputMessage } from '@sluice/runtime';
import type { IntervalIndex } from '@sluice/attribution';
import { attributionColumnNames, domainColumnNames, geoColumnNames, hasEnrichment, type TableDefinition, type TableEnrichment } from '@sluice/tables';

export interface EnrichOptions {
  /** GeoIP databases; null: only the address scope is filled. */
  geo: GeoLookup | null;
  /** Registered-domain lookups; null or absent: domain columns stay null. */
  domains?: DomainLookup | null;
  /** table name → its enrichment (defaults from the definitions, overridden by configuration); others pass through. */
  tables: ReadonlyMap<string, TableEnrichment>;
  /** streams.eventPartitions: output goes to events.<table>.<input seq % partitions> (default 1). */
  partitions?: number;
  /**
   * IP attribution: the ip_lookup interval index (null or absent: attribution columns stay null), each table's
   * event-time column (see eventTimeByTable), and counters of lookups by result.
   */
  attribution?: { index: IntervalIndex | null; eventTimes: ReadonlyMap<string, string>; counts?: AttributionCounts };
}

/** Enrichment per table name, from (already overridden) definitions: the map enrichBatch takes. */
export function enrichmentByTable(defs: readonly TableDefinition[]): Map<string, TableEnrichment> {
  return new Map(defs.filter((d) => hasEnrichment(d.enrich)).map((d) => [d.name, d.enrich!] as const));
}

/** Event-time column per table that has attribution columns (the time at which its addresses are attributed). */
export function eventTimeByTable(defs: readonly TableDefinition[]): Map<string, string> {
  return new Map(defs.filter((d) => (d.enrich?.attribution?.length ?? 0) > 0 && d.eventTime).map((d) => [d.name, d.eventTime!] as const));
}

/** What attributing one table's batch needs: the index and counters, and the name of its event-time column. */
export interface TableAttribution extends AttributionInput {
  eventTime: string | undefined;
}

/** An output column: its values as typed arrays, made into IPC body buffers or an apache-arrow Data as needed. */
interface OutputColumn {
  name: string;
  type: 'string' | 'double' | 'long';
  length: number;
  nullCount: number;
  /** Null when no value is null. */
  validity: Uint8Array | null;
  /** Utf8 only. */
  offsets: Int32Array | null;
  values: Uint8Array | Float64Array | BigInt64Array;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const NO_BYTES = new Uint8Array(0);

function outColumn(c: OutputColumn): OutColumn {
  const validity = c.nullCount > 0 && c.validity ? c.validity : NO_BYTES;
  return { kind: c.type, length: c.length, nullCount: c.nullCount, buffers: c.offsets ? [validity, bytesOf(c.offsets), bytesOf(c.values)] : [validity, bytesOf(c.values)] };
}

function dataOf(c: OutputColumn): Data {
  return mk({ type: arrowType(c.type), length: c.length, nullBitmap: c.validity ?? undefined, nullCount: c.nullCount, valueOffsets: c.offsets ?? undefined, data: c.values });
}

/** A Utf8 child's buffers, validity realigned to row 0 (apache-arrow slices the offsets of a sliced child, not its bitmap). */
function rawOf(data: Data | undefined, n: number): RawUtf8 | undefined {
  if (!data) return undefined;
  const d = data as Data<Utf8>;
  const values = d.values;
  const bitmap = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
  const validity = bitmap && d.offset % 8 !== 0 ? realign(bitmap, d.offset, n) : bitmap?.subarray(d.offset >> 3) ?? null;
  return { length: n, validity, offsets: d.valueOffsets, data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

function mk(props: Record<string, unknown>): Data {
  return makeData(props as never) as Data;
}

/** Row i null: its validity bit cleared in a bitmap made on the first null, all bits (the trailing ones too) set. */
function clearBit(bitmap: Uint8Array | null, n: number, i: number): Uint8Array {
  const b = bitmap ?? new Uint8Array((n + 7) >> 3).fill(0xff);
  b[i >> 3]! &= ~(1 << (i & 7));
  return b;
}

/**
 * A Utf8 column of `values` (null where null). The values are joined and encoded with one call; the offsets are the
 * cumulative lengths, in characters for ASCII values (the common case) and in UTF-8 bytes for the others.
 */
function utf8Column(name: string, values: readonly (string | null)[], n: number): OutputColumn {
  const offsets = new Int32Array(n + 1);
  let validity: Uint8Array | null = null;
  let nullCount = 0;
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      validity ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else chars += v.length;
    offsets[i + 1] = chars;
  }
  if (chars === 0) return { name, type: 'string', length: n, nullCount, validity, offsets, values: NO_BYTES };
  const joined = values.join('');
  const size = Buffer.byteLength(joined, 'utf8');
  const bytes = Buffer.allocUnsafe(size);
  bytes.write(joined, 0, 'utf8');
  if (size !== chars) {
    // Some value is not ASCII: offsets in bytes, value by value.
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v) pos += isAscii(v) ? v.length : Buffer.byteLength(v, 'utf8');
      offsets[i + 1] = pos;
    }
    // Lone surrogates at the seams of two values would encode differently joined: then each value on its own.
    if (pos !== size) return { name, type: 'string', length: n, nullCount, validity, offsets, values: writeEach(values, n, offsets) };
  }
  return { name, type: 'string', length: n, nullCount, validity, offsets, values: new Uint8Array(bytes.buffer, bytes.byteOffset, size) };
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function writeEach(values: readonly (string | null)[], n: number, offsets: Int32Array): Uint8Array {
  let bound = 0;
  for (let i = 0; i < n; i++) bound += (values[i]?.length ?? 0) * 3;
  const bytes = Buffer.allocUnsafe(bound);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) pos += bytes.write(v, pos, 'utf8');
    offsets[i + 1] = pos;
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, pos);
}

const SCOPE_ONLY = new Map<IpScope, IpInfo>();
/** Without GeoIP databases the scope is still known. */
function scopeInfo(scope: IpScope): IpInfo {
  let info = SCOPE_ONLY.get(scope);
  if (!info) SCOPE_ONLY.set(scope, (info = { scope, country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null }));
  return info;
}

function scopeOnly(ip: string | null): IpInfo | null {
  return ip ? scopeInfo(parseIp(ip).scope) : null;
}

/**
 * The GeoIP result per row of an address column. Dotted-quad IPv4 is parsed from the column's bytes and looked up
 * by its number (no string is made); anything else (IPv6, padded text) takes the string path.
 */
function geoInfos(ips: RawUtf8, geo: GeoLookup | null): (IpInfo | null)[] {
  const { length: n, validity, offsets, data } = ips;
  const infos = new Array<IpInfo | null>(n);
  // Rows repeat addresses: consecutive equal values skip even the cache lookup.
  let lastV4 = -1;
  let last: IpInfo | null = null;
  for (let r = 0; r < n; r++) {
    const a = offsets[r]!;
    const b = offsets[r + 1]!;
    if (b <= a || (validity && (validity[r >> 3]! & (1 << (r & 7))) === 0)) {
      infos[r] = null;
      continue;
    }
    const v4 = parseIPv4Bytes(data, a, b);
    if (v4 >= 0) {
      if (v4 !== lastV4) {
        lastV4 = v4;
        last = geo ? geo.lookupV4(v4) : scopeInfo(scopeOfV4(v4));
      }
      infos[r] = last;
    } else {
      const ip = data.toString('utf8', a, b);
      infos[r] = geo ? geo.lookup(ip) : scopeOnly(ip);
    }
  }
  return infos;
}

/** A double or int64 column of one numeric field of the results; int64 written as two 32-bit halves, no BigInt. */
function numberField(name: string, infos: readonly (IpInfo | null)[], field: 'latitude' | 'longitude' | 'asn'): OutputColumn {
  const n = infos.length;
  const long = field === 'asn';
  const f64 = long ? null : new Float64Array(n);
  const i32 = long ? new Int32Array(n * 2) : null;
  let validity: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const info = infos[i];
    const v = info ? info[field] : null;
    if (v === null) {
      validity = clearBit(validity, n, i);
      nullCount++;
    } else if (f64) f64[i] = v;
    else {
      // Little-endian int64 from a safe integer: low 32 bits, then the (signed) high part.
      const hi = Math.floor(v / 4_294_967_296);
      i32![2 * i] = v - hi * 4_294_967_296;
      i32![2 * i + 1] = hi;
    }
  }
  return { name, type: long ? 'long' : 'double', length: n, nullCount, validity, offsets: null, values: f64 ?? new BigInt64Array(i32!.buffer) };
}

function geoOutputs(column: string, ips: RawUtf8 | undefined, n: number, geo: GeoLookup | null): OutputColumn[] {
  const infos: (IpInfo | null)[] = ips ? geoInfos(ips, geo) : new Array<IpInfo | null>(n).fill(null);
  const names = geoColumnNames(column);
  const scope = new Array<string | null>(n);
  const country = new Array<string | null>(n);
  const city = new Array<string | null>(n);
  const asOrg = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const info = infos[i];
    if (info) {
      scope[i] = info.scope;
      country[i] = info.country;
      city[i] = info.city;
      asOrg[i] = info.asOrg;
    } else scope[i] = country[i] = city[i] = asOrg[i] = null;
  }
  return [
    utf8Column(names.scope, scope, n),
    utf8Column(names.country, country, n),
    utf8Column(names.city, city, n),
    numberField(names.latitude, infos, 'latitude'),
    numberField(names.longitude, infos, 'longitude'),
    numberField(names.asn, infos, 'asn'),
    utf8Column(names.asOrg, asOrg, n),
  ];
}

function domainOutputs(column: string, values: (string | null)[], domains: DomainLookup | null): OutputColumn[] {
  const n = values.length;
  const registered = new Array<string | null>(n);
  const suffix = new Array<string | null>(n);
  let last: string | null = null;
  let lastInfo: DomainInfo | null = null;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== last) {
      last = v;
      lastInfo = domains ? domains.lookup(v) : null;
    }
    registered[i] = lastInfo ? lastInfo.registeredDomain : null;
    suffix[i] = lastInfo ? lastInfo.publicSuffix : null;
  }
  const names = domainColumnNames(column);
  return [utf8Column(names.registeredDomain, registered, n), utf8Column(names.publicSuffix, suffix, n)];
}

/** The batch with the output columns put in place of same-named columns, or appended; all other buffers reused. */
function withColumns(batch: RecordBatch, outputs: OutputColumn[]): RecordBatch {
  const fields = [...batch.schema.fields];
  const children = [...batch.data.children];
  const index = new Map(fields.map((f, i) => [f.name, i]));
  for (const o of outputs) {
    const field = new Field(o.name, arrowType(o.type) as DataType, true);
    const i = index.get(o.name);
    if (i === undefined) {
      index.set(o.name, fields.length);
      fields.push(field);
      children.push(dataOf(o));
    } else {
      fields[i] = field;
      children[i] = dataOf(o);
    }
  }
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, mk({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }) as Data<Struct>);
}

/** A timestamp column's values in epoch ms (null where null); undefined when absent or not a timestamp. */
function timesOf(data: Data | undefined, n: number): (number | null)[] | undefined {
  if (!data) return undefined;
  const unitMs = unitMsOf(data.type as DataType);
  if (unitMs === null) return undefined;
  // apache-arrow slices the values buffer of a sliced child but not its validity bitmap (indexed from data.offset).
  const v = data.values as ArrayBufferView;
  const bytes = new Uint8Array(v.buffer, v.byteOffset, n * 8);
  // timesMsOfColumn reads the validity bitmap from bit 0: realign it for a sliced child.
  const bitmap = data.nullCount > 0 && data.nullBitmap ? data.nullBitmap : null;
  const validity = bitmap && data.offset % 8 !== 0 ? realign(bitmap, data.offset, n) : bitmap?.subarray(data.offset >> 3) ?? null;
  return timesMsOfColumn(validity, data.nullCount, bytes, n, unitMs);
}

function realign(bitmap: Uint8Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bitmap[(offset + i) >> 3]! & (1 << ((offset + i) & 7))) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function enrichRecordBatch(batch: RecordBatch, enrich: TableEnrichment, geo: GeoLookup | null, domains: DomainLookup | null, attr: TableAttribution | undefined): RecordBatch {
  const n = batch.numRows;
  const child = (name: string) => {
    const i = batch.schema.fields.findIndex((f) => f.name === name);
    return i < 0 ? undefined : batch.data.children[i];
  };
  const times = () => (attr?.eventTime ? timesOf(child(attr.eventTime), n) : undefined);
  return withColumns(batch, outputsFor(enrich, (c) => rawOf(child(c), n), true, times, n, geo, domains, attr));
}

/** The table with its enrichment columns filled (a table without enrichment is returned as it is). */
export function enrichTable(table: Table, enrich: TableEnrichment | undefined, geo: GeoLookup | null, domains: DomainLookup | null = null, attr?: TableAttribution): Table {
  if (!hasEnrichment(enrich)) return table;
  // The new struct data starts at offset 0; sliced children keep their own offsets, so slices work too.
  const batches = table.batches.map((b) => enrichRecordBatch(b, enrich!, geo, domains, attr));
  if (batches.length === 0) return table; // no rows: the sink writes missing nullable columns as null anyway
  return new Table(batches[0]!.schema, batches);
}

/** A Utf8 column of n nulls (validity as clearBit leaves it: the bits past n stay set). */
function nullColumn(name: string, n: number): OutputColumn {
  const validity = n > 0 ? new Uint8Array((n + 7) >> 3) : null;
  if (validity && n % 8 !== 0) validity[validity.length - 1] = (0xff << (n % 8)) & 0xff;
  return { name, type: 'string', length: n, nullCount: n, validity, offsets: new Int32Array(n + 1), values: NO_BYTES };
}

function attributionOutputs(column: string, ips: (string | null)[], times: (number | null)[] | undefined, attr: TableAttribution | undefined): OutputColumn[] {
  const names = attributionColumnNames(column);
  const n = ips.length;
  // No index (attribution off) or no event times: nothing is looked up, every value is null.
  if (!attr?.index || !times) return [nullColumn(names.user, n), nullColumn(names.mac, n), nullColumn(names.hostname, n)];
  const a = attributeColumn(ips, times, attr);
  return [utf8Column(names.user, a.user, n), utf8Column(names.mac, a.mac, n), utf8Column(names.hostname, a.hostname, n)];
}

function outputsFor(
  enrich: TableEnrichment,
  column: (name: string) => RawUtf8 | undefined,
  emptyAsNull: boolean,
  times: () => (number | null)[] | undefined,
  n: number,
  geo: GeoLookup | null,
  domains: DomainLookup | null,
  attr: TableAttribution | undefined,
): OutputColumn[] {
  const outputs: OutputColumn[] = [];
  const none = () => new Array<string | null>(n).fill(null);
  // Strings are decoded only for the columns that need them (domains, attribution), once per column.
  const decoded = new Map<string, (string | null)[]>();
  const strings = (c: string) => {
    let v = decoded.get(c);
    if (!v) {
      const raw = column(c);
      decoded.set(c, (v = raw ? stringsOfRaw(raw, emptyAsNull) : none()));
    }
    return v;
  };
  for (const c of enrich.geoip ?? []) outputs.push(...geoOutputs(c, column(c), n, geo));
  for (const c of enrich.domain ?? []) outputs.push(...domainOutputs(c, strings(c), domains));
  if ((enrich.attribution?.length ?? 0) > 0) {
    const index = attr?.index;
    const t = index ? times() : undefined; // no index: no need to read the times
    // No index: every attribution column is null, and its addresses need not be decoded.
    for (const c of enrich.attribution!) outputs.push(...attributionOutputs(c, index ? strings(c) : none(), t, attr));
  }
  return outputs;
}

/**
 * The fast path: the IPC bytes with the enrichment columns swapped in place, every other column copied as bytes.
 * Null when the stream does not already carry every output column with its type (the parser writes them for the
 * table's defaults; configuration may add others), or uses IPC features the splice does not handle.
 */
export function enrichIpc(bytes: Uint8Array, enrich: TableEnrichment, geo: GeoLookup | null, domains: DomainLookup | null, attr?: TableAttribution): { data: Uint8Array; rows: number } | null {
  const s = readIpcStream(bytes);
  if (!s) return null;
  const out: SplicedBatch[] = [];
  let rows = 0;
  for (const b of s.batches) {
    const n = b.length;
    const times = () => (attr?.eventTime ? readTimeColumnMs(s, b, attr.eventTime) : undefined);
    const outputs = outputsFor(enrich, (c) => readUtf8Raw(s, b, c), false, times, n, geo, domains, attr);
    const spliced = spliceBatch(s, b, new Map(outputs.map((o) => [o.name, outColumn(o)])));
    if (!spliced) return null;
    out.push(spliced);
    rows += n;
  }
  return { data: joinStream(s.schemaBytes, out), rows };
}

export function enrichBatch(msg: InputMessage, opts: EnrichOptions): OutputMessage[] {
  if (msg.headers[H.encoding] !== 'arrow-ipc') throw new NonRetryableError(`enricher expects arrow-ipc envelopes, got ${msg.headers[H.encoding] ?? 'none'}`);
  const tableName = msg.headers[H.table] ?? msg.subject.split('.')[1] ?? '';
  const enrich = opts.tables.get(tableName);
  const output = (data: Uint8Array, rows: number): OutputMessage[] => [
    { subject: subjects.events(tableName, eventPartitionOf(msg.seq, opts.partitions ?? 1)), data, records: rows, headers: { ...msg.headers, [H.count]: String(rows) } },
  ];
  const a = opts.attribution;
  const attr: TableAttribution | undefined = a ? { index: a.index, counts: a.counts, eventTime: a.eventTimes.get(tableName) } : undefined;
  if (hasEnrichment(enrich)) {
    let fast: ReturnType<typeof enrichIpc> = null;
    // The fast path counts into its own counters: if it gives up half-way, the generic path counts again.
    const counts = attr?.counts ? { hit: 0, miss: 0, not_local: 0 } : undefined;
    try {
      fast = enrichIpc(msg.data, enrich!, opts.geo, opts.domains ?? null, attr && { ...attr, counts });
    } catch {
      fast = null; // malformed input: the generic decoder below names the problem
    }
    if (fast) {
      if (counts && attr?.counts) for (const k of ['hit', 'miss', 'not_local'] as const) attr.counts[k] += counts[k];
      return output(fast.data, fast.rows);
    }
  }
  let table: Table;
  try {
    table = decodeIpc(msg.data);
  } catch (e) {
    throw new NonRetryableError(`not a valid Arrow IPC stream: ${(e as Error).message}`);
  }
  const out = enrich ? enrichTable(table, enrich, opts.geo, opts.domains ?? null, attr) : table;
  // A table without enrichment is forwarded byte for byte.
  return output(out === table ? msg.data : encodeIpc(out), out.numRows);
}
