// Publishes raw records as NDJSON batch envelopes on raw.<source>, each with an id derived from where it came from,
// so a source that repeats itself after a crash produces duplicates that JetStream drops.
import type { JetStreamClient } from '@nats-io/jetstream';
import { DEFAULT_MAX_BATCH_BYTES, H, encodePreamble, publishAll, rawPartitionOf, subjects, type HeaderMap, type Metrics, type OutputMessage } from '@sluice/runtime';
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

/**
 * Where packLines would cut `records` into envelopes (the same greedy rule, so the same bodies and ids), without
 * building any: `ends[k]` is the index after the last record of envelope k; records over the cap are skipped.
 */
export function planEnvelopes(records: readonly Uint8Array[], maxBatchBytes: number): { ends: number[]; oversized: number } {
  const ends: number[] = [];
  let oversized = 0;
  let size = 0;
  let count = 0;
  for (let i = 0; i < records.length; i++) {
    const n = records[i]!.length + 1;
    if (n > maxBatchBytes) {
      oversized++;
      continue;
    }
    if (size + n > maxBatchBytes && count > 0) {
      ends.push(i);
      size = 0;
      count = 0;
    }
    size += n;
    count++;
  }
  if (count > 0) ends.push(records.length);
  return { ends, oversized };
}

/** The NDJSON body of records [from, to), skipping those over the cap (as packLines does). */
export function buildBody(records: readonly Uint8Array[], from: number, to: number, maxBatchBytes: number): { body: Uint8Array; count: number } {
  let size = 0;
  let count = 0;
  for (let i = from; i < to; i++) {
    const n = records[i]!.length + 1;
    if (n <= maxBatchBytes) {
      size += n;
      count++;
    }
  }
  const body = new Uint8Array(size);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const l = records[i]!;
    if (l.length + 1 > maxBatchBytes) continue;
    body.set(l, pos);
    pos += l.length;
    body[pos++] = 0x0a;
  }
  return { body, count };
}

export async function publishRaw(js: JetStreamClient, metrics: Metrics, origin: RawOrigin, records: Uint8Array[], maxBatchBytes = DEFAULT_MAX_BATCH_BYTES): Promise<PublishedRaw> {
  const { ends, oversized } = planEnvelopes(records, maxBatchBytes);
  const ingestTime = new Date().toISOString();
  const subject = subjects.raw(origin.source, rawPartitionOf(origin.object, origin.rawPartitions ?? 1));
  const cm = collectorMetrics(metrics);
  // Windows of publishes keep memory flat for huge files while still pipelining acks: only a window's envelopes
  // are built at a time (a whole file's worth of envelopes was a second copy of the file in memory).
  const window = 16;
  for (let w = 0; w < ends.length; w += window) {
    const outputs: OutputMessage[] = [];
    const ids: string[] = [];
    for (let k = w; k < Math.min(w + window, ends.length); k++) {
      const b = buildBody(records, k === 0 ? 0 : ends[k - 1]!, ends[k]!, maxBatchBytes);
      outputs.push({ subject, data: b.body, records: b.count, headers: headersFor(origin, b.count, ingestTime) });
      ids.push(`collector:${origin.idPrefix}:${k}`);
    }
    await publishAll(js, outputs, ids);
    for (const o of outputs) {
      metrics.recordsOut.inc({ stream: 'raw' }, o.records);
      metrics.batchesOut.inc({ stream: 'raw' });
      cm.records.inc({ source: origin.source }, o.records);
      cm.batches.inc({ source: origin.source });
      cm.bytes.inc({ source: origin.source }, o.data.length);
    }
  }
  if (oversized > 0) countDrop(metrics, origin.source, 'oversized', oversized);
  return { batches: ends.length, records: records.length - oversized, oversized };
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
