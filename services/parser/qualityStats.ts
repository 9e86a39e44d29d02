// Data-quality stats of one parsed input envelope: rows in, kept, dropped, quarantined, and rows failing each check
// (warn expectations included, which keep their rows). The handler feeds a QualityTally while it parses; one small
// NDJSON message per envelope and table then goes to quality.<table> (stream QUALITY), where the detector's
// expectation-rate rule turns them into failure ratios per table and expectation (docs/detections/data-quality.md).
import { H, subjects, type InputMessage, type OutputMessage, type QuarantineRecord } from '@sluice/runtime';
import type { ExpectationAction } from '@sluice/tables';

/** The message body: one JSON object. Counts are rows of this one input envelope. */
export interface QualityStats {
  table: string;
  category: string;
  source: string;
  object: string;
  raw_seq: number;
  /** The input's identity (stream + sequence): the same on every redelivery, so the detector counts it once. */
  input_stream: string;
  input_seq: number;
  /** The envelope's ingest time (collector), null when the input carried none. */
  ingest_time: string | null;
  parser_version: string;
  rows: number;
  kept: number;
  dropped: number;
  quarantined: number;
  /**
   * Rows failing each check: expectations of every action (warn too), `parse` for records that did not decode or
   * coerce, a family decoder's own rule (e.g. `zeek_fields`). A row failing two checks counts under both.
   */
  failures: Record<string, number>;
  /** Rows not kept, each under the one check that decided it (the quarantine record's rule, a drop's first drop rule): sums to dropped + quarantined. */
  rejected: Record<string, number>;
}

const counts = (): Record<string, number> => Object.create(null) as Record<string, number>;
const inc = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);

/** Per-envelope counters the parser's loop feeds; only failing rows cost anything. */
export class QualityTally {
  dropped = 0;
  readonly failures = counts();
  readonly droppedBy = counts();

  constructor(private readonly actions: ReadonlyMap<string, ExpectationAction>) {}

  /** A record its decoder (or JSON) rejected under `rule`: it never reached the expectations. */
  undecoded(rule: string): void {
    inc(this.failures, rule);
  }

  /** A decoded record's failed checks (`coercion` is counted as `parse`, the quarantine's name for it). */
  verdict(failed: readonly string[], disposition: string): void {
    for (const f of failed) inc(this.failures, f === 'coercion' ? 'parse' : f);
    if (disposition === 'drop') {
      this.dropped++;
      inc(this.droppedBy, failed.find((f) => this.actions.get(f) === 'drop') ?? failed[0] ?? 'drop');
    }
  }
}

const enc = new TextEncoder();

/** Message id: one stats message per input envelope and table, identical on every redelivery of that input. */
export function qualityMsgId(stream: string, seq: number, table: string): string {
  return `quality:${stream}:${seq}:${table}`;
}

/**
 * The stats of a parsed envelope from its tally and what the handler produced (`outputs`: the Arrow envelopes of
 * kept rows; `bad`: the quarantine records). Nothing for an envelope without rows.
 */
export function qualityStatsOf(
  msg: InputMessage,
  p: { table: string; category: string; version: string },
  tally: QualityTally,
  outputs: readonly OutputMessage[],
  bad: readonly QuarantineRecord[],
): QualityStats | null {
  const parsedSubject = subjects.parsed(p.table);
  let kept = 0;
  for (const o of outputs) if (o.subject === parsedSubject) kept += o.records;
  const rejected = counts();
  for (const [rule, n] of Object.entries(tally.droppedBy)) inc(rejected, rule, n);
  for (const b of bad) inc(rejected, b.rule);
  const rows = kept + tally.dropped + bad.length;
  if (rows === 0) return null;
  return {
    table: p.table,
    category: p.category,
    source: msg.headers[H.source] ?? '',
    object: msg.headers[H.object] ?? '',
    raw_seq: Number(msg.headers[H.rawSeq] ?? -1),
    input_stream: msg.stream,
    input_seq: msg.seq,
    ingest_time: msg.headers[H.ingestTime] || null,
    parser_version: p.version,
    rows,
    kept,
    dropped: tally.dropped,
    quarantined: bad.length,
    failures: { ...tally.failures },
    rejected: { ...rejected },
  };
}

/** The bus message of the stats (none for an empty envelope). */
export function qualityOutputs(
  msg: InputMessage,
  p: { table: string; category: string; version: string },
  tally: QualityTally,
  outputs: readonly OutputMessage[],
  bad: readonly QuarantineRecord[],
): OutputMessage[] {
  const s = qualityStatsOf(msg, p, tally, outputs, bad);
  if (!s) return [];
  return [
    {
      subject: subjects.quality(p.table),
      data: enc.encode(JSON.stringify(s) + '\n'),
      records: 1,
      msgId: qualityMsgId(msg.stream, msg.seq, p.table),
      headers: {
        [H.encoding]: 'ndjson',
        [H.count]: '1',
        [H.table]: p.table,
        [H.source]: s.source,
        [H.object]: s.object,
        [H.rawSeq]: String(s.raw_seq),
        ...(s.ingest_time ? { [H.ingestTime]: s.ingest_time } : {}),
      },
    },
  ];
}
