// Routes the raw records of one envelope to their categories with the source's family (explode containers,
// reassemble multi-part messages, name the category). One output batch per category; bad records to quarantine;
// categories without a table go to the catch-all `_unknown` subject (the unrouted table), never away.
import { H, NonRetryableError, decodePreamble, packLines, quarantineOutputs, splitLines, subjects, type InputMessage, type OutputMessage, type QuarantineRecord } from '@sluice/runtime';
import { UNKNOWN_CATEGORY, type RecordContext, type SourceFamily } from '@sluice/sources';

export { UNKNOWN_CATEGORY };

const dec = new TextDecoder();
const NL = 0x0a;

export interface SplitStats {
  byCategory: Map<string, number>;
  skipped: number;
}

export function splitBatch(msg: InputMessage, family: SourceFamily, stats?: SplitStats): OutputMessage[] {
  if (msg.headers[H.encoding] && msg.headers[H.encoding] !== 'ndjson') {
    throw new NonRetryableError(`splitter expects ndjson envelopes, got ${msg.headers[H.encoding]}`);
  }
  const source = msg.headers[H.source] ?? msg.subject.split('.')[1] ?? 'unknown';
  const object = msg.headers[H.object] ?? '';
  const preambleHeader = msg.headers[H.preamble];
  const ctx: RecordContext = { source, object, preamble: decodePreamble(preambleHeader), ingestTime: msg.headers[H.ingestTime] };
  const result = family.route(splitLines(msg.data), ctx);
  const lineage: Record<string, string> = { [H.source]: source, [H.object]: object, [H.rawSeq]: String(msg.seq), [H.ingestTime]: msg.headers[H.ingestTime] ?? '' };
  if (preambleHeader) lineage[H.preamble] = preambleHeader;
  const bad: QuarantineRecord[] = result.rejected.map((r) => quarantined(msg, source, r.raw, r.rule, r.reason));
  const groups = new Map<string, Uint8Array[]>();
  for (const { category, record } of result.routed) {
    // Envelopes are newline-delimited: a record with a newline inside would become two.
    if (record.includes(NL)) {
      bad.push(quarantined(msg, source, record, 'parse', 'routed record contains a newline'));
      continue;
    }
    const token = /^[A-Za-z0-9_-]+$/.test(category) ? category : UNKNOWN_CATEGORY;
    const g = groups.get(token);
    if (g) g.push(record);
    else groups.set(token, [record]);
  }
  if (stats) stats.skipped += result.skipped ?? 0;
  const outputs: OutputMessage[] = [];
  for (const [category, lines] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    stats?.byCategory.set(category, (stats.byCategory.get(category) ?? 0) + lines.length);
    const { bodies, oversized } = packLines(lines);
    for (const b of bodies) {
      outputs.push({
        subject: subjects.categorized(source, category),
        data: b.body,
        records: b.count,
        headers: { ...lineage, [H.encoding]: 'ndjson', [H.count]: String(b.count) },
      });
    }
    for (const o of oversized) bad.push(quarantined(msg, source, o, 'size', `record of ${o.length} bytes exceeds the envelope cap`));
  }
  outputs.push(...quarantineOutputs('splitter', source, bad, lineage));
  return outputs;
}

function quarantined(msg: InputMessage, source: string, raw: Uint8Array, rule: string, reason: string): QuarantineRecord {
  return {
    stage: 'splitter',
    table: source,
    rule,
    reason,
    raw: dec.decode(raw),
    source,
    object: msg.headers[H.object] ?? '',
    raw_seq: msg.seq,
    input_seq: msg.seq,
    ingest_time: msg.headers[H.ingestTime] ?? null,
  };
}
