// Reads back what a source stored in a stream, message by message, for integration tests.
import type { JetStreamManager } from '@nats-io/jetstream';

export interface StoredEnvelope {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  /** The NDJSON lines of the body (a trailing newline ends the last one). */
  lines: string[];
  bytes: number;
}

/** Every message of `stream` on exactly `subject`, in stream order. */
export async function readSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<StoredEnvelope[]> {
  const info = await jsm.streams.info(stream);
  const out: StoredEnvelope[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m || m.subject !== subject) continue;
    const headers: Record<string, string> = {};
    for (const k of m.header?.keys() ?? []) headers[k] = m.header.get(k);
    const text = new TextDecoder().decode(m.data);
    const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
    out.push({ seq: m.seq, subject: m.subject, headers, lines: text.length === 0 ? [] : lines, bytes: m.data.length });
  }
  return out;
}

/** Messages currently stored on `subject` (from the stream's per-subject state). */
export async function countSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

export async function until(cond: () => Promise<boolean> | boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
