// Detector metrics beyond the runtime's: alerts by rule, state keys, snapshot age and size, rows skipped, decodes.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createDetectorMetrics(registry: Registry) {
  return {
    alerts: new Counter({ name: 'sluice_detector_alerts_total', help: 'Alerts raised (before JetStream de-duplication), by rule', labelNames: ['rule'], registers: [registry] }),
    rows: new Counter({
      name: 'sluice_detector_rows_total',
      help: 'Rows read by rule and outcome: seen (all), not_owned (another replica owns the key), replayed (the snapshot already reflects them)',
      labelNames: ['rule', 'outcome'],
      registers: [registry],
    }),
    stateKeys: new Gauge({ name: 'sluice_detector_state_keys', help: 'Keys held in memory (users, devices, tables) by rule', labelNames: ['rule'], registers: [registry] }),
    evicted: new Gauge({ name: 'sluice_detector_evicted_keys', help: 'Keys dropped by TTL or the per-partition cap since start, by rule', labelNames: ['rule'], registers: [registry] }),
    snapshotAge: new Gauge({ name: 'sluice_detector_snapshot_age_seconds', help: 'Seconds since the last complete snapshot of the rule state (since start when none yet)', labelNames: ['rule'], registers: [registry] }),
    snapshotBytes: new Gauge({ name: 'sluice_detector_snapshot_bytes', help: 'Compressed size of the last snapshot (all owned partitions), by rule', labelNames: ['rule'], registers: [registry] }),
    decodes: new Counter({
      name: 'sluice_detector_decodes_total',
      help: 'Input messages handed to rule hosts: decoded (by this host) or shared (decoded by another host reading the same table)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    snapshotSeconds: new Gauge({ name: 'sluice_detector_snapshot_duration_seconds', help: 'Time the last snapshot took (capture + KV writes), by rule', labelNames: ['rule'], registers: [registry] }),
  };
}

export type DetectorMetrics = ReturnType<typeof createDetectorMetrics>;
