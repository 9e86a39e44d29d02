// The batch envelope: many records per NATS message, the encoding and lineage in headers, capped below max_payload.
// Before the parser a batch is NDJSON (one record per line); after it an Arrow IPC stream.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

export type Encoding = 'ndjson' | 'arrow-ipc';

export const H = {
  encoding: 'Sluice-Encoding',
  count: 'Sluice-Count',
  source: 'Sluice-Source',
  object: 'Sluice-Object',
  rawSeq: 'Sluice-Raw-Seq',
  ingestTime: 'Sluice-Ingest-Time',
  table: 'Sluice-Table',
  error: 'Sluice-Error',
  stage: 'Sluice-Stage',
  origSubject: 'Sluice-Original-Subject',
  origSeq: 'Sluice-Original-Seq',
  /** JSON array of a file's header lines (Zeek #fields, VPC header) that the envelope's records are decoded with. */
  preamble: 'Sluice-Preamble',
  /** Source family (`zeek`, `defender`, …) when it differs from the source name. */
  family: 'Sluice-Family',
} as const;

/** Header value for a preamble (JSON keeps newlines and non-ASCII out of the header line). */
export function encodePreamble(lines: readonly string[]): string {
  return JSON.stringify(lines).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function decodePreamble(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const v = JSON.parse(value) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Default cap for one envelope: well below the server's 1 MiB max_payload, leaving room for headers. */
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;

export type HeaderMap = Record<string, string>;

export function toNatsHeaders(h: HeaderMap): MsgHdrs {
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}

export function fromNatsHeaders(h: MsgHdrs | undefined): HeaderMap {
  const out: HeaderMap = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

const NL = 0x0a;

/** Splits an NDJSON body into lines without decoding it (empty lines skipped). indexOf is a native memchr. */
export function splitLines(body: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  while (start < body.length) {
    let nl = body.indexOf(NL, start);
    if (nl === -1) nl = body.length;
    let end = nl;
    if (end > start && body[end - 1] === 0x0d) end--;
    if (end > start) lines.push(body.subarray(start, end));
    start = nl + 1;
  }
  return lines;
}

/**
 * Packs lines into NDJSON bodies of at most maxBytes each. A single line larger than maxBytes is returned
 * in `oversized` so the caller can quarantine it rather than exceed max_payload.
 */
export function packLines(lines: Uint8Array[], maxBytes = DEFAULT_MAX_BATCH_BYTES): { bodies: { body: Uint8Array; count: number }[]; oversized: Uint8Array[] } {
  const bodies: { body: Uint8Array; count: number }[] = [];
  const oversized: Uint8Array[] = [];
  let cur: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    if (cur.length === 0) return;
    const body = new Uint8Array(size);
    let pos = 0;
    for (const l of cur) {
      body.set(l, pos);
      pos += l.length;
      body[pos++] = NL;
    }
    bodies.push({ body, count: cur.length });
    cur = [];
    size = 0;
  };
  for (const l of lines) {
    if (l.length + 1 > maxBytes) {
      oversized.push(l);
      continue;
    }
    if (size + l.length + 1 > maxBytes) flush();
    cur.push(l);
    size += l.length + 1;
  }
  flush();
  return { bodies, oversized };
}
