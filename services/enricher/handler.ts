// Adds enrichment columns to typed Arrow batches, column by column: for each IP column of the table's enrichment its
// scope, GeoIP country/city/location and AS number/organisation; for each DNS-name column its registered domain and
// public suffix; for each attribution column the user / MAC / host name that held the address at the row's event
// time. The other columns' buffers are reused as they are; the output columns replace the (null) ones the parser
// wrote, or are appended when the configuration adds enrichments beyond the table's defaults.
import { Field, makeData, RecordBatch, Schema, Struct, Table, type Data, type DataType, type Utf8 } from 'apache-arrow';
import { arrowType, decodeIpc, encodeIpc } from '@sluice/columnar';
import type { DomainInfo, DomainLookup } from '@sluice/domains';
import { parseIp, type GeoLookup, type IpInfo, type IpScope } from '@sluice/geoip';
import { attributeColumn, type AttributionCounts, type AttributionInput } from './attribution.ts';
import { joinStream, readIpcStream, readTimeColumnMs, readUtf8Column, spliceBatch, timesMsOfColumn, unitMsOf } from './ipcSplice.ts';
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

/** A column's strings (null where null or absent); one decode per row, values only for the rows of this chunk. */
function stringsOf(data: Data | undefined, n: number): (string | null)[] | undefined {
  if (!data) return undefined;
  const out = new Array<string | null>(n).fill(null);
  const d = data as Data<Utf8>;
  const offsets = d.valueOffsets;
  const values = d.values;
  const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bitmap = d.nullCount > 0 ? d.nullBitmap : undefined;
  for (let i = 0; i < n; i++) {
    const j = d.offset + i;
    if (bitmap && bitmap.length > 0 && (bitmap[j >> 3]! & (1 << (j & 7))) === 0) continue;
    const a = offsets[i]!;
    const b = offsets[i + 1]!;
    if (b > a) out[i] = buf.toString('utf8', a, b);
  }
  return out;
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

function doubleData(values: (number | null)[]): Data {
  const arr = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) arr[i] = values[i] ?? 0;
  return mk({ type: arrowType('double'), length: values.length, ...validity(values.length, (i) => values[i] === null), data: arr });
}

function longData(values: (number | null)[]): Data {
  const arr = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) arr[i] = BigInt(v);
  }
  return mk({ type: arrowType('long'), length: values.length, ...validity(values.length, (i) => values[i] === null), data: arr });
}

const SCOPE_ONLY = new Map<IpScope, IpInfo>();
/** Without GeoIP databases the scope is still known. */
function scopeOnly(ip: string | null): IpInfo | null {
  if (!ip) return null;
  const scope = parseIp(ip).scope;
  let info = SCOPE_ONLY.get(scope);
  if (!info) SCOPE_ONLY.set(scope, (info = { scope, country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null }));
  return info;
}

function geoOutputs(column: string, ips: (string | null)[], geo: GeoLookup | null): OutputColumn[] {
  const n = ips.length;
  const infos = new Array<IpInfo | null>(n);
  // Rows repeat addresses: consecutive equal values skip even the cache lookup.
  let last: string | null = null;
  let lastInfo: IpInfo | null = null;
  for (let i = 0; i < n; i++) {
    const ip = ips[i]!;
    if (ip !== last) {
      last = ip;
      lastInfo = geo ? geo.lookup(ip) : scopeOnly(ip);
    }
    infos[i] = lastInfo;
  }
  const names = geoColumnNames(column);
  const pick = <T>(f: (x: IpInfo) => T | null) => infos.map((x) => (x === null ? null : f(x)));
  return [
    { name: names.scope, type: 'string', data: utf8Data(pick((x) => x.scope)) },
    { name: names.country, type: 'string', data: utf8Data(pick((x) => x.country)) },
    { name: names.city, type: 'string', data: utf8Data(pick((x) => x.city)) },
    { name: names.latitude, type: 'double', data: doubleData(pick((x) => x.latitude)) },
    { name: names.longitude, type: 'double', data: doubleData(pick((x) => x.longitude)) },
    { name: names.asn, type: 'long', data: longData(pick((x) => x.asn)) },
    { name: names.asOrg, type: 'string', data: utf8Data(pick((x) => x.asOrg)) },
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
  return withColumns(batch, outputsFor(enrich, (c) => stringsOf(child(c), n), times, n, geo, domains, attr));
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
  column: (name: string) => (string | null)[] | undefined,
  times: () => (number | null)[] | undefined,
  n: number,
  geo: GeoLookup | null,
  domains: DomainLookup | null,
  attr: TableAttribution | undefined,
): OutputColumn[] {
  const outputs: OutputColumn[] = [];
  const none = () => new Array<string | null>(n).fill(null);
  for (const c of enrich.geoip ?? []) outputs.push(...geoOutputs(c, column(c) ?? none(), geo));
  for (const c of enrich.domain ?? []) outputs.push(...domainOutputs(c, column(c) ?? none(), domains));
  if ((enrich.attribution?.length ?? 0) > 0) {
    const t = attr?.index ? times() : undefined; // no index: no need to read the times
    for (const c of enrich.attribution!) outputs.push(...attributionOutputs(c, column(c) ?? none(), t, attr));
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
  const out: Uint8Array[] = [];
  let rows = 0;
  for (const b of s.batches) {
    const n = b.header.length;
    const times = () => (attr?.eventTime ? readTimeColumnMs(s, b, attr.eventTime) : undefined);
    const outputs = outputsFor(enrich, (c) => readUtf8Column(s, b, c), times, n, geo, domains, attr);
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
