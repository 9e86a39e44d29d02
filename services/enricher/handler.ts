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
import { joinStream, readIpcStream, readTimeColumnMs, readUtf8Raw, spliceBatch, stringsOfRaw, timesMsOfColumn, unitMsOf, type RawUtf8, type SplicedBatch } from './ipcSplice.ts';
import { eventPartitionOf, H, NonRetryableError, subjects, type InputMessage, type OutputMessage } from '@sluice/runtime';
import type { IntervalIndex } from '@sluice/attribution';
import { attributionColumnNames, domainColumnNames, geoColumnNames, hasEnrichment, type ColumnType, type TableDefinition, type TableEnrichment } from '@sluice/tables';

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

interface OutputColumn {
  name: string;
  type: ColumnType;
  data: Data;
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

function validity(n: number, isNull: (i: number) => boolean): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  let bitmap: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    if (isNull(i)) {
      if (!bitmap) bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    }
  }
  return { nullBitmap: bitmap, nullCount };
}

function mk(props: Record<string, unknown>): Data {
  return makeData(props as never) as Data;
}

function utf8Data(values: (string | null)[]): Data {
  const n = values.length;
  let bound = 0;
  for (let i = 0; i < n; i++) bound += (values[i]?.length ?? 0) * 3;
  const bytes = Buffer.allocUnsafe(bound);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) pos += v.length < 32 && isAscii(v) ? bytes.write(v, pos, 'latin1') : bytes.write(v, pos, 'utf8');
    offsets[i + 1] = pos;
  }
  return mk({ type: arrowType('string'), length: n, ...validity(n, (i) => values[i] === null), valueOffsets: offsets, data: new Uint8Array(bytes.buffer, bytes.byteOffset, pos) });
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
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

type StringField = 'scope' | 'country' | 'city' | 'asOrg';

/** A Utf8 column of one string field of the results (null where the result or the field is null). */
function utf8Field(infos: readonly (IpInfo | null)[], field: StringField): Data {
  const n = infos.length;
  let bound = 0;
  for (let i = 0; i < n; i++) bound += (infos[i]?.[field]?.length ?? 0) * 3;
  const bytes = Buffer.allocUnsafe(bound);
  const offsets = new Int32Array(n + 1);
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  let pos = 0;
  let last: string | null = null;
  let lastAt = 0;
  let lastLen = 0;
  for (let i = 0; i < n; i++) {
    const v = infos[i]?.[field] ?? null;
    if (v === null) {
      if (!bitmap) bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else if (v === last) {
      // Same string as the previous row: copy its bytes instead of encoding it again.
      bytes.copyWithin(pos, lastAt, lastAt + lastLen);
      pos += lastLen;
    } else {
      last = v;
      lastAt = pos;
      pos += v.length < 32 && isAscii(v) ? bytes.write(v, pos, 'latin1') : bytes.write(v, pos, 'utf8');
      lastLen = pos - lastAt;
    }
    offsets[i + 1] = pos;
  }
  return mk({ type: arrowType('string'), length: n, nullBitmap: bitmap, nullCount, valueOffsets: offsets, data: new Uint8Array(bytes.buffer, bytes.byteOffset, pos) });
}

/** A double or int64 column of one numeric field of the results; int64 written as two 32-bit halves, no BigInt. */
function numberField(infos: readonly (IpInfo | null)[], field: 'latitude' | 'longitude' | 'asn'): Data {
  const n = infos.length;
  const long = field === 'asn';
  const f64 = long ? null : new Float64Array(n);
  const i32 = long ? new Int32Array(n * 2) : null;
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = infos[i]?.[field] ?? null;
    if (v === null) {
      if (!bitmap) bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else if (f64) f64[i] = v;
    else {
      // Little-endian int64 from a safe integer: low 32 bits, then the (signed) high part.
      const hi = Math.floor(v / 4_294_967_296);
      i32![2 * i] = v - hi * 4_294_967_296;
      i32![2 * i + 1] = hi;
    }
  }
  const values = f64 ?? new BigInt64Array(i32!.buffer);
  return mk({ type: arrowType(long ? 'long' : 'double'), length: n, nullBitmap: bitmap, nullCount, data: values });
}

function geoOutputs(column: string, ips: RawUtf8 | undefined, n: number, geo: GeoLookup | null): OutputColumn[] {
  const infos: (IpInfo | null)[] = ips ? geoInfos(ips, geo) : new Array<IpInfo | null>(n).fill(null);
  const names = geoColumnNames(column);
  return [
    { name: names.scope, type: 'string', data: utf8Field(infos, 'scope') },
    { name: names.country, type: 'string', data: utf8Field(infos, 'country') },
    { name: names.city, type: 'string', data: utf8Field(infos, 'city') },
    { name: names.latitude, type: 'double', data: numberField(infos, 'latitude') },
    { name: names.longitude, type: 'double', data: numberField(infos, 'longitude') },
    { name: names.asn, type: 'long', data: numberField(infos, 'asn') },
    { name: names.asOrg, type: 'string', data: utf8Field(infos, 'asOrg') },
  ];
}

function domainOutputs(column: string, values: (string | null)[], domains: DomainLookup | null): OutputColumn[] {
  const n = values.length;
  const infos = new Array<DomainInfo | null>(n);
  let last: string | null = null;
  let lastInfo: DomainInfo | null = null;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== last) {
      last = v;
      lastInfo = domains ? domains.lookup(v) : null;
    }
    infos[i] = lastInfo;
  }
  const names = domainColumnNames(column);
  return [
    { name: names.registeredDomain, type: 'string', data: utf8Data(infos.map((x) => x?.registeredDomain ?? null)) },
    { name: names.publicSuffix, type: 'string', data: utf8Data(infos.map((x) => x?.publicSuffix ?? null)) },
  ];
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
      children.push(o.data);
    } else {
      fields[i] = field;
      children[i] = o.data;
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

function attributionOutputs(column: string, ips: (string | null)[], times: (number | null)[] | undefined, attr: TableAttribution | undefined): OutputColumn[] {
  const a = attributeColumn(ips, times, attr);
  const names = attributionColumnNames(column);
  return [
    { name: names.user, type: 'string', data: utf8Data(a.user) },
    { name: names.mac, type: 'string', data: utf8Data(a.mac) },
    { name: names.hostname, type: 'string', data: utf8Data(a.hostname) },
  ];
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
    const n = b.header.length;
    const times = () => (attr?.eventTime ? readTimeColumnMs(s, b, attr.eventTime) : undefined);
    const outputs = outputsFor(enrich, (c) => readUtf8Raw(s, b, c), false, times, n, geo, domains, attr);
    const spliced = spliceBatch(s, b, new Map(outputs.map((o) => [o.name, o.data])));
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
