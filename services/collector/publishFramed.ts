// Publishes the framed records of one file-like unit (a file range, an object, a request body), cut into
// preamble segments so no envelope mixes two preambles. Segment k>0 gets `:s<k>` in its id prefix, so a replay of
// the same range from the same preamble state yields the same ids.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { SourceFamily } from '@sluice/sources';
import type { FramedRecords } from '@sluice/formats';
import type { Metrics } from '@sluice/runtime';
import { EMPTY_PREAMBLE, segmentByPreamble, type PreambleState } from './preamble.ts';
import { publishRaw, type PublishedRaw } from './rawPublisher.ts';

export interface FramedOrigin {
  source: string;
  object: string;
  idPrefix: string;
  family?: SourceFamily;
  rawPartitions?: number;
}

/** The preamble state after `framed`, without publishing (to record where a range ends). */
export function preambleAfter(framed: FramedRecords, state: PreambleState, family: SourceFamily | undefined): PreambleState {
  if (framed.framing !== 'ndjson') return state;
  return segmentByPreamble(framed.records, state, family).state;
}

export async function publishFramed(
  js: JetStreamClient,
  metrics: Metrics,
  origin: FramedOrigin,
  framed: FramedRecords,
  state: PreambleState = EMPTY_PREAMBLE,
  maxBatchBytes?: number,
): Promise<PublishedRaw & { state: PreambleState }> {
  // A JSON document's elements are records, never preamble lines.
  const { segments, state: next } =
    framed.framing === 'ndjson' ? segmentByPreamble(framed.records, state, origin.family) : { segments: framed.records.length ? [{ preamble: [], records: framed.records }] : [], state };
  const total: PublishedRaw = { batches: 0, records: 0, oversized: 0 };
  for (let k = 0; k < segments.length; k++) {
    const seg = segments[k]!;
    const r = await publishRaw(
      js,
      metrics,
      { source: origin.source, object: origin.object, idPrefix: k === 0 ? origin.idPrefix : `${origin.idPrefix}:s${k}`, family: origin.family?.name, rawPartitions: origin.rawPartitions, preamble: seg.preamble },
      seg.records,
      maxBatchBytes,
    );
    total.batches += r.batches;
    total.records += r.records;
    total.oversized += r.oversized;
  }
  return { ...total, state: next };
}
