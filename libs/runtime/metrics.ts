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
