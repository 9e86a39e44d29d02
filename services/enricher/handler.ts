// Adds enrichment columns to typed Arrow batches: GeoIP country and city for the table's declared IP columns.
// Private, loopback and invalid addresses get null geo (their scope is known, not looked up).
import type { Table } from 'apache-arrow';
import { ColumnBuilder, decodeIpc, encodeIpc, readStrings } from '@sluice/columnar';
import type { GeoLookup, GeoResult } from '@sluice/geoip';
import { eventPartitionOf, H, NonRetryableError, subjects, type InputMessage, type OutputMessage } from '@sluice/runtime';
import { geoColumnNames } from '@sluice/tables';

export interface EnrichOptions {
  geo: GeoLookup | null;
  /** table name → IP columns to enrich (from the table definitions). */
  geoFields: ReadonlyMap<string, readonly string[]>;
  /** streams.eventPartitions: output goes to events.<table>.<input seq % partitions> (default 1). */
  partitions?: number;
}

export function enrichTable(table: Table, fields: readonly string[], geo: GeoLookup | null): Table {
  if (fields.length === 0) return table;
  const specs = fields.flatMap((f) => {
    const n = geoColumnNames(f);
    return [
      { name: n.country, type: 'string' as const },
      { name: n.city, type: 'string' as const },
    ];
  });
  const b = new ColumnBuilder(specs);
  const ips = fields.map((f) => readStrings(table, f));
  const names = fields.map((f) => geoColumnNames(f));
  // Logs repeat addresses a lot: look each distinct one up once per batch.
  const seen = new Map<string, GeoResult | null>();
  const row: Record<string, string | null> = {};
  for (let r = 0; r < table.numRows; r++) {
    for (let i = 0; i < fields.length; i++) {
      const n = names[i]!;
      const ip = ips[i]?.[r] ?? null;
      let g: GeoResult | null = null;
      if (ip !== null && geo) {
        g = seen.get(ip) ?? null;
        if (g === null && !seen.has(ip)) seen.set(ip, (g = geo.lookup(ip)));
      }
      row[n.country] = g?.country ?? null;
      row[n.city] = g?.city ?? null;
    }
    b.append(row);
  }
  return table.assign(b.build());
}

export function enrichBatch(msg: InputMessage, opts: EnrichOptions): OutputMessage[] {
  if (msg.headers[H.encoding] !== 'arrow-ipc') throw new NonRetryableError(`enricher expects arrow-ipc envelopes, got ${msg.headers[H.encoding] ?? 'none'}`);
  const tableName = msg.headers[H.table] ?? msg.subject.split('.')[1] ?? '';
  let table: Table;
  try {
    table = decodeIpc(msg.data);
  } catch (e) {
    throw new NonRetryableError(`not a valid Arrow IPC stream: ${(e as Error).message}`);
  }
  const out = enrichTable(table, opts.geoFields.get(tableName) ?? [], opts.geo);
  return [{ subject: subjects.events(tableName, eventPartitionOf(msg.seq, opts.partitions ?? 1)), data: encodeIpc(out), records: out.numRows, headers: { ...msg.headers, [H.count]: String(out.numRows) } }];
}
