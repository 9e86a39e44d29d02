// Collector metrics by source: records, envelopes and bytes published to RAW, and records dropped by reason.
// Registered once per metrics registry (tests and the service may build several sources on one registry).
import { Counter } from 'prom-client';
import type { Metrics } from '@sluice/runtime';

export interface CollectorMetrics {
  records: Counter<'source'>;
  batches: Counter<'source'>;
  bytes: Counter<'source'>;
  /** Records or objects not ingested: oversized, gzip_bomb, bad_gzip, too_large, overload, protocol, … */
  dropped: Counter<'source' | 'reason'>;
}

const cache = new WeakMap<Metrics['registry'], CollectorMetrics>();

export function collectorMetrics(metrics: Metrics): CollectorMetrics {
  const registry = metrics.registry;
  let m = cache.get(registry);
  if (!m) {
    m = {
      records: new Counter({ name: 'sluice_collector_records_total', help: 'Records published to RAW, by source', labelNames: ['source'], registers: [registry] }),
      batches: new Counter({ name: 'sluice_collector_batches_total', help: 'Envelopes published to RAW, by source', labelNames: ['source'], registers: [registry] }),
      bytes: new Counter({ name: 'sluice_collector_bytes_total', help: 'Envelope body bytes published to RAW, by source', labelNames: ['source'], registers: [registry] }),
      dropped: new Counter({
        name: 'sluice_collector_dropped_total',
        help: 'Records (or whole objects) not ingested, by source and reason',
        labelNames: ['source', 'reason'],
        registers: [registry],
      }),
    };
    cache.set(registry, m);
  }
  return m;
}

/** Counts an error in the shared errors-by-kind counter and the per-source drop counter. */
export function countDrop(metrics: Metrics, source: string, reason: string, n = 1): void {
  metrics.errors.inc({ kind: reason });
  collectorMetrics(metrics).dropped.inc({ source, reason }, n);
}
