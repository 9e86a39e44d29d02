// Publishes raw records as NDJSON batch envelopes on raw.<source>, each with an id derived from where it came from,
// so a source that repeats itself after a crash produces duplicates that JetStream drops.
import type { JetStreamClient } from '@nats-io/jetstream';
import { DEFAULT_MAX_BATCH_BYTES, H, encodePreamble, packLines, publishAll, rawPartitionOf, subjects, type HeaderMap, type Metrics, type OutputMessage } from '@sluice/runtime';
import { collectorMetrics, countDrop } from './collectorMetrics.ts';

export interface RawOrigin {
  source: string;
  /** File path or HTTP request id: lineage carried to every table. */
  object: string;
  /** Stable prefix for message ids, e.g. `dir:<fileId>:<offset>` or `http:<requestId>`. */
  idPrefix: string;
  /** Source family name, sent as `Sluice-Family`. */
  family?: string;
  /** Header lines the records are decoded with, sent as `Sluice-Preamble` (omitted when empty). */
  preamble?: readonly string[];
  /** `streams.rawPartitions`: the object's batches go to raw.<source>.<rawPartitionOf(object)>; default 1. */
  rawPartitions?: number;
}

export interface PublishedRaw {
  batches: number;
  records: number;
  /** Records over the envelope cap: not published; the caller reports them. */
  oversized: number;
}

export async function publishRaw(js: JetStreamClient, metrics: Metrics, origin: RawOrigin, records: Uint8Array[], maxBatchBytes = DEFAULT_MAX_BATCH_BYTES): Promise<PublishedRaw> {
  const { bodies, oversized } = packLines(records, maxBatchBytes);
  const ingestTime = new Date().toISOString();
  const outputs: OutputMessage[] = bodies.map((b) => ({
    subject: subjects.raw(origin.source, rawPartitionOf(origin.object, origin.rawPartitions ?? 1)),
    data: b.body,
    records: b.count,
    headers: headersFor(origin, b.count, ingestTime),
  }));
  const ids = outputs.map((_, i) => `collector:${origin.idPrefix}:${i}`);
  // Windows of publishes keep memory flat for huge files while still pipelining acks.
  const window = 16;
  for (let i = 0; i < outputs.length; i += window) {
    await publishAll(js, outputs.slice(i, i + window), ids.slice(i, i + window));
  }
  const cm = collectorMetrics(metrics);
  for (const o of outputs) {
    metrics.recordsOut.inc({ stream: 'raw' }, o.records);
    metrics.batchesOut.inc({ stream: 'raw' });
    cm.records.inc({ source: origin.source }, o.records);
    cm.batches.inc({ source: origin.source });
    cm.bytes.inc({ source: origin.source }, o.data.length);
  }
  if (oversized.length > 0) countDrop(metrics, origin.source, 'oversized', oversized.length);
  return { batches: outputs.length, records: records.length - oversized.length, oversized: oversized.length };
}

function headersFor(origin: RawOrigin, count: number, ingestTime: string): HeaderMap {
  const h: HeaderMap = {
    [H.encoding]: 'ndjson',
    [H.count]: String(count),
    [H.source]: origin.source,
    [H.object]: origin.object,
    [H.ingestTime]: ingestTime,
  };
  if (origin.family) h[H.family] = origin.family;
  if (origin.preamble && origin.preamble.length > 0) h[H.preamble] = encodePreamble(origin.preamble);
  return h;
}
