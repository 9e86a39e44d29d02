// Splits raw Defender XDR lines into per-category batches. A line is an Event Hubs payload `{"records":[...]}`
// (exploded) or a single record; only `category` is read. Unknown categories go to a catch-all subject, not away.
import { H, NonRetryableError, packLines, quarantineOutputs, splitLines, subjects, type InputMessage, type OutputMessage, type QuarantineRecord } from '@sluice/runtime';

export const UNKNOWN_CATEGORY = '_unknown';
const PREFIX = 'AdvancedHunting-';
const dec = new TextDecoder();
const enc = new TextEncoder();

export interface SplitStats {
  byCategory: Map<string, number>;
}

/** The category token of a record: the known table category, or `_unknown`. */
export function categoryOf(record: unknown, known: ReadonlySet<string>): string {
  const c = record && typeof record === 'object' ? (record as Record<string, unknown>).category : undefined;
  if (typeof c !== 'string') return UNKNOWN_CATEGORY;
  const name = c.startsWith(PREFIX) ? c.slice(PREFIX.length) : c;
  return known.has(name) ? name : UNKNOWN_CATEGORY;
}

export function splitBatch(msg: InputMessage, known: ReadonlySet<string>, stats?: SplitStats): OutputMessage[] {
  if (msg.headers[H.encoding] && msg.headers[H.encoding] !== 'ndjson') {
    throw new NonRetryableError(`splitter expects ndjson envelopes, got ${msg.headers[H.encoding]}`);
  }
  const source = msg.headers[H.source] ?? msg.subject.split('.')[1] ?? 'unknown';
  const groups = new Map<string, Uint8Array[]>();
  const bad: QuarantineRecord[] = [];
  for (const line of splitLines(msg.data)) {
    let value: unknown;
    try {
      value = JSON.parse(dec.decode(line));
    } catch (e) {
      bad.push(quarantined(msg, source, line, `invalid JSON: ${(e as Error).message}`));
      continue;
    }
    const records = value && typeof value === 'object' && Array.isArray((value as { records?: unknown }).records) ? ((value as { records: unknown[] }).records) : null;
    if (records) {
      for (const r of records) add(groups, categoryOf(r, known), enc.encode(JSON.stringify(r)));
    } else {
      // A single record keeps its original bytes.
      add(groups, categoryOf(value, known), line);
    }
  }
  const lineage = { [H.source]: source, [H.object]: msg.headers[H.object] ?? '', [H.rawSeq]: String(msg.seq), [H.ingestTime]: msg.headers[H.ingestTime] ?? '' };
  const outputs: OutputMessage[] = [];
  for (const [category, lines] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    stats?.byCategory.set(category, (stats.byCategory.get(category) ?? 0) + lines.length);
    for (const b of packLines(lines).bodies) {
      outputs.push({
        subject: subjects.categorized(source, category),
        data: b.body,
        records: b.count,
        headers: { ...lineage, [H.encoding]: 'ndjson', [H.count]: String(b.count) },
      });
    }
  }
  outputs.push(...quarantineOutputs('splitter', source, bad, lineage));
  return outputs;
}

function add(groups: Map<string, Uint8Array[]>, category: string, line: Uint8Array): void {
  const g = groups.get(category);
  if (g) g.push(line);
  else groups.set(category, [line]);
}

function quarantined(msg: InputMessage, source: string, line: Uint8Array, reason: string): QuarantineRecord {
  return {
    stage: 'splitter',
    table: source,
    rule: 'parse',
    reason,
    raw: dec.decode(line),
    source,
    object: msg.headers[H.object] ?? '',
    raw_seq: msg.seq,
    input_seq: msg.seq,
    ingest_time: msg.headers[H.ingestTime] ?? null,
  };
}
