// Prometheus metrics every stage exposes; labels are low-cardinality (stage, stream, kind), never per record.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(stage: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ stage });
  collectDefaultMetrics({ register: registry, prefix: 'sluice_process_' });
  return {
    registry,
    recordsIn: new Counter({ name: 'sluice_records_in_total', help: 'Records received by the stage', registers: [registry] }),
    recordsOut: new Counter({ name: 'sluice_records_out_total', help: 'Records published by the stage, by output stream', labelNames: ['stream'], registers: [registry] }),
    batchesIn: new Counter({ name: 'sluice_batches_in_total', help: 'Batch envelopes received', registers: [registry] }),
    batchesOut: new Counter({ name: 'sluice_batches_out_total', help: 'Batch envelopes published', labelNames: ['stream'], registers: [registry] }),
    errors: new Counter({ name: 'sluice_errors_total', help: 'Errors by kind (retryable, dead_lettered, fatal, publish)', labelNames: ['kind'], registers: [registry] }),
    handlerSeconds: new Histogram({
      name: 'sluice_handler_seconds',
      help: 'Time from receiving a batch to acking it',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'sluice_in_flight_batches', help: 'Batches being handled', registers: [registry] }),
    consumerPending: new Gauge({ name: 'sluice_consumer_pending', help: 'Messages in the stream not yet delivered to the consumer', labelNames: ['consumer'], registers: [registry] }),
    consumerAckPending: new Gauge({ name: 'sluice_consumer_ack_pending', help: 'Messages delivered but not yet acked', labelNames: ['consumer'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Lake metrics the dashboards and alerts (deploy/prometheus, deploy/grafana) read beyond commits/rows/files, for
 * the sink to register on its registry and feed from its TableWriter: bytes and file sizes per commit, commit
 * failures, checkpoint age, files in the partition being written, and the end-to-end lag event time → commit.
 */
export function createLakeMetrics(registry: Registry) {
  return {
    bytes: new Counter({ name: 'sluice_delta_bytes_total', help: 'Parquet bytes added by table', labelNames: ['table'], registers: [registry] }),
    fileBytes: new Histogram({
      name: 'sluice_delta_file_bytes',
      help: 'Size of each Parquet file added, by table',
      labelNames: ['table'],
      buckets: [64 * 1024, 256 * 1024, 1024 ** 2, 4 * 1024 ** 2, 16 * 1024 ** 2, 64 * 1024 ** 2, 128 * 1024 ** 2, 256 * 1024 ** 2, 512 * 1024 ** 2],
      registers: [registry],
    }),
    commitFailures: new Counter({ name: 'sluice_delta_commit_failures_total', help: 'Failed Delta commit attempts by table and outcome (retry, fatal)', labelNames: ['table', 'outcome'], registers: [registry] }),
    checkpointTimestamp: new Gauge({ name: 'sluice_delta_last_checkpoint_timestamp_seconds', help: 'Unix time of the last checkpoint written or seen, by table', labelNames: ['table'], registers: [registry] }),
    partitionFiles: new Gauge({ name: 'sluice_delta_partition_files', help: 'Data files in the partition most recently committed to, by table', labelNames: ['table'], registers: [registry] }),
    ingestLag: new Histogram({
      name: 'sluice_ingest_lag_seconds',
      help: 'Commit time minus ingest time of each committed row (collector → Delta latency), by table',
      labelNames: ['table'],
      buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    eventLag: new Histogram({
      name: 'sluice_event_lag_seconds',
      help: 'Commit time minus event time of each committed row (end-to-end latency), by table',
      labelNames: ['table'],
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400],
      registers: [registry],
    }),
  };
}

export type LakeMetrics = ReturnType<typeof createLakeMetrics>;
