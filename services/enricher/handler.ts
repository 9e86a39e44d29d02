// Adds enrichment columns to typed Arrow batches, column by column: for each IP column of the table's enrichment its
// scope, GeoIP country/city/location and AS number/organisation; for each DNS-name column its registered domain and
// public suffix. The other columns' buffers are reused as they are; the output columns replace the (null) ones the
// parser wrote, or are appended when the configuration adds enrichments beyond the table's defaults.
import { Field, makeData, RecordBatch, Schema, Struct, Table, type Data, type DataType, type Utf8 } from 'apache-arrow';
import { arrowType, decodeIpc, encodeIpc } from '@sluice/columnar';
import type { DomainInfo, DomainLookup } from '@sluice/domains';
import { parseIp, type GeoLookup, type IpInfo, type IpScope } from '@sluice/geoip';
import { joinStream, readIpcStream, readUtf8Column, spliceBatch } from './ipcSplice.ts';
import { eventPartitionOf, H, NonRetryableError, subjects, type InputMessage, type OutputMessage } from '@sluice/runtime';
import { domainColumnNames, geoColumnNames, type ColumnType, type TableDefinition, type TableEnrichment } from '@sluice/tables';

export interface EnrichOptions {
  /** GeoIP databases; null: only the address scope is filled. */
  geo: GeoLookup | null;
  /** Registered-domain lookups; null or absent: domain columns stay null. */
  domains?: DomainLookup | null;
  /** table name → its enrichment (defaults from the definitions, overridden by configuration); others pass through. */
  tables: ReadonlyMap<string, TableEnrichment>;
  /** streams.eventPartitions: output goes to events.<table>.<input seq % partitions> (default 1). */
  partitions?: number;
}

/** Enrichment per table name, from (already overridden) definitions: the map enrichBatch takes. */
export function enrichmentByTable(defs: readonly TableDefinition[]): Map<string, TableEnrichment> {
  return new Map(defs.filter((d) => (d.enrich?.geoip?.length ?? 0) + (d.enrich?.domain?.length ?? 0) > 0).map((d) => [d.name, d.enrich!] as const));
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

function enrichRecordBatch(batch: RecordBatch, enrich: TableEnrichment, geo: GeoLookup | null, domains: DomainLookup | null): RecordBatch {
  const n = batch.numRows;
  const child = (name: string) => {
    const i = batch.schema.fields.findIndex((f) => f.name === name);
    return i < 0 ? undefined : batch.data.children[i];
  };
  return withColumns(batch, outputsFor(enrich, (c) => stringsOf(child(c), n), n, geo, domains));
}

/** The table with its enrichment columns filled (a table without enrichment is returned as it is). */
export function enrichTable(table: Table, enrich: TableEnrichment | undefined, geo: GeoLookup | null, domains: DomainLookup | null = null): Table {
  if (!enrich || (enrich.geoip?.length ?? 0) + (enrich.domain?.length ?? 0) === 0) return table;
  // The new struct data starts at offset 0; sliced children keep their own offsets, so slices work too.
  const batches = table.batches.map((b) => enrichRecordBatch(b, enrich, geo, domains));
  if (batches.length === 0) return table; // no rows: the sink writes missing nullable columns as null anyway
  return new Table(batches[0]!.schema, batches);
}

function outputsFor(enrich: TableEnrichment, column: (name: string) => (string | null)[] | undefined, n: number, geo: GeoLookup | null, domains: DomainLookup | null): OutputColumn[] {
  const outputs: OutputColumn[] = [];
  const none = () => new Array<string | null>(n).fill(null);
  for (const c of enrich.geoip ?? []) outputs.push(...geoOutputs(c, column(c) ?? none(), geo));
  for (const c of enrich.domain ?? []) outputs.push(...domainOutputs(c, column(c) ?? none(), domains));
  return outputs;
}

/**
 * The fast path: the IPC bytes with the enrichment columns swapped in place, every other column copied as bytes.
 * Null when the stream does not already carry every output column with its type (the parser writes them for the
 * table's defaults; configuration may add others), or uses IPC features the splice does not handle.
 */
export function enrichIpc(bytes: Uint8Array, enrich: TableEnrichment, geo: GeoLookup | null, domains: DomainLookup | null): { data: Uint8Array; rows: number } | null {
  const s = readIpcStream(bytes);
  if (!s) return null;
  const out: Uint8Array[] = [];
  let rows = 0;
  for (const b of s.batches) {
    const n = b.header.length;
    const outputs = outputsFor(enrich, (c) => readUtf8Column(s, b, c), n, geo, domains);
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
  if (enrich && (enrich.geoip?.length ?? 0) + (enrich.domain?.length ?? 0) > 0) {
    let fast: ReturnType<typeof enrichIpc> = null;
    try {
      fast = enrichIpc(msg.data, enrich, opts.geo, opts.domains ?? null);
    } catch {
      fast = null; // malformed input: the generic decoder below names the problem
    }
    if (fast) return output(fast.data, fast.rows);
  }
  let table: Table;
  try {
    table = decodeIpc(msg.data);
  } catch (e) {
    throw new NonRetryableError(`not a valid Arrow IPC stream: ${(e as Error).message}`);
  }
  const out = enrich ? enrichTable(table, enrich, opts.geo, opts.domains ?? null) : table;
  // A table without enrichment is forwarded byte for byte.
  return output(out === table ? msg.data : encodeIpc(out), out.numRows);
}
