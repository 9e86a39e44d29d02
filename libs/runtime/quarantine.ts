// Quarantine envelopes: a record that failed parsing or an expectation travels with its reason, raw bytes and lineage
// to quarantine.<stage>.<table>, where the sink keeps it for inspection and replay.
import { DEFAULT_MAX_BATCH_BYTES, H, packLines } from './envelope.ts';
import type { OutputMessage } from './publisher.ts';
import { subjects } from './topology.ts';

export interface QuarantineRecord {
  stage: string;
  table: string;
  reason: string;
  /** Which expectation or check failed; `parse` for structural failures. */
  rule: string;
  raw: string;
  source: string;
  object: string;
  raw_seq: number | null;
  input_seq: number | null;
  ingest_time: string | null;
}

const enc = new TextEncoder();

export function quarantineOutputs(stage: string, table: string, records: QuarantineRecord[], lineage: Record<string, string>): OutputMessage[] {
  if (records.length === 0) return [];
  const { bodies, oversized } = packLines(records.map((r) => enc.encode(JSON.stringify(r))));
  // A record too big for one envelope still must not vanish: keep its head and say so.
  const trimmed = oversized.map((b) => {
    const r = JSON.parse(new TextDecoder().decode(b)) as QuarantineRecord;
    // Cut until the encoded record fits: escapes (`\\`, `\"`, `\u0000`) and multi-byte characters make bytes > chars.
    for (let keep = 256 * 1024; ; keep = Math.floor(keep / 2)) {
      const out = enc.encode(JSON.stringify({ ...r, raw: r.raw.slice(0, keep), reason: `${r.reason} (raw truncated from ${r.raw.length} chars)` }));
      if (out.length < DEFAULT_MAX_BATCH_BYTES || keep === 0) return out;
    }
  });
  const all = trimmed.length ? [...bodies, ...packLines(trimmed).bodies] : bodies;
  return all.map((b) => ({
    subject: subjects.quarantine(stage, table),
    data: b.body,
    records: b.count,
    headers: { ...lineage, [H.encoding]: 'ndjson', [H.count]: String(b.count), [H.table]: table, [H.stage]: stage },
  }));
}
