// What the sink tells Prometheus after each commit beyond counts: bytes and file sizes, checkpoint time, commit
// failures, and per-row latency — commit time minus ingest time (collector → Delta) and minus event time.
import type { Table } from 'apache-arrow';
import type { LakeMetrics } from '@sluice/runtime';
import type { TableDefinition } from '@sluice/tables';
import type { TableWriterStats } from './tableWriter.ts';

/** Ingest-time and event-time columns of a table's rows (silver: lineage + eventTime; bronze and others: ingest_time). */
export function latencyColumnsOf(def: TableDefinition): { ingest?: string; event?: string } {
  if (def.layer === 'silver') return { ingest: '_ingest_time', event: def.eventTime };
  const has = (n: string) => def.columns.some((c) => c.name === n);
  return { ingest: has('ingest_time') ? 'ingest_time' : undefined, event: has('event_time') ? 'event_time' : undefined };
}

/** Observes (commit time − column time) in seconds for every non-null row; Arrow returns timestamps in epoch ms. */
export function observeLag(data: Table, column: string | undefined, nowMs: number, observe: (seconds: number) => void): void {
  const v = column ? data.getChild(column) : null;
  if (!v) return;
  for (let i = 0; i < v.length; i++) {
    const t = v.get(i) as number | null;
    if (typeof t === 'number') observe(Math.max(0, (nowMs - t) / 1000));
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
      observeLag(data, cols.ingest, now, (s) => m.ingestLag.observe({ table }, s));
      observeLag(data, cols.event, now, (s) => m.eventLag.observe({ table }, s));
    },
    onCommitFailure: (table, outcome) => m.commitFailures.inc({ table, outcome }),
  };
}
