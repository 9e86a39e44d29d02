// What the sink tells Prometheus after each commit beyond counts: bytes and file sizes, checkpoint time, commit
// failures, and per-row latency — commit time minus ingest time (collector → Delta) and minus event time.
import { TimeUnit, Type, type Table } from 'apache-arrow';
import type { LakeMetrics } from '@sluice/runtime';
import type { TableDefinition } from '@sluice/tables';
import type { TableWriterStats } from './tableWriter.ts';

/** Ingest-time and event-time columns of a table's rows (silver: lineage + eventTime; bronze and others: ingest_time). */
export function latencyColumnsOf(def: TableDefinition): { ingest?: string; event?: string } {
  if (def.layer === 'silver') return { ingest: '_ingest_time', event: def.eventTime };
  const has = (n: string) => def.columns.some((c) => c.name === n);
  return { ingest: has('ingest_time') ? 'ingest_time' : undefined, event: has('event_time') ? 'event_time' : undefined };
}

/**
 * Observes (commit time − column time) in seconds for every non-null row. Timestamp(µs) chunks are read from their
 * buffers as 32-bit halves (Vector.get allocates a BigInt per value: this ran for every committed row); other
 * types through Arrow's get, which returns epoch ms.
 */
export function observeLag(data: Table, column: string | undefined, nowMs: number, observe: (seconds: number) => void): void {
  const v = column ? data.getChild(column) : null;
  if (!v) return;
  const t = v.type as { typeId?: number; unit?: number };
  if (t.typeId !== Type.Timestamp || t.unit !== TimeUnit.MICROSECOND || !v.data.every((d) => d.values instanceof BigInt64Array)) {
    for (let i = 0; i < v.length; i++) {
      const ms = v.get(i) as number | null;
      if (typeof ms === 'number') observe(Math.max(0, (nowMs - ms) / 1000));
    }
    return;
  }
  for (const d of v.data) {
    const src = d.values as BigInt64Array;
    const halves = new Int32Array(src.buffer, src.byteOffset, d.length * 2);
    const bm = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
    for (let i = 0; i < d.length; i++) {
      if (bm && ((bm[(d.offset + i) >> 3]! >> ((d.offset + i) & 7)) & 1) === 0) continue;
      // µs since the epoch from (hi, lo): exact below 2^53 µs (year ±287 396).
      const micros = halves[2 * i + 1]! * 4294967296 + (halves[2 * i]! >>> 0);
      observe(Math.max(0, (nowMs - micros / 1000) / 1000));
    }
  }
}

export function lakeStats(m: LakeMetrics, defs: ReadonlyMap<string, TableDefinition>): Pick<TableWriterStats, 'onCommitted' | 'onCommitFailure'> {
  return {
    onCommitted: (table, data, fileSizes, checkpointed) => {
      const now = Date.now();
      for (const size of fileSizes) {
        m.bytes.inc({ table }, size);
        m.fileBytes.observe({ table }, size);
      }
      if (checkpointed) m.checkpointTimestamp.set({ table }, now / 1000);
      const def = defs.get(table);
      if (!def) return;
      const cols = latencyColumnsOf(def);
      // The labelled child once per commit: observe({ table }, s) hashes and validates the labels on every row.
      const ingest = m.ingestLag.labels({ table });
      const event = m.eventLag.labels({ table });
      observeLag(data, cols.ingest, now, (s) => ingest.observe(s));
      observeLag(data, cols.event, now, (s) => event.observe(s));
    },
    onCommitFailure: (table, outcome) => m.commitFailures.inc({ table, outcome }),
  };
}
