// Snapshot bytes: gzip'd NDJSON of a PartitionSnapshot (line 1 the header without keys, then pages of
// [key, state] pairs, each page its own gzip member), cut into chunks that fit a NATS message (KV values are
// messages; max_payload defaults to 1 MiB). Pages keep every allocation small: one JSON string of a whole
// partition (millions of keys) lands in V8's large-object space and costs major GCs on a big heap.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { PartitionSnapshot } from './detectorRuntime.ts';

export const SNAPSHOT_CHUNK_BYTES = 512 * 1024;
const PAGE_KEYS = 2000;

/** Encodes a snapshot whose keys come from `keys` (encoded lazily, page by page). */
export function encodeSnapshotPages(header: Omit<PartitionSnapshot, 'keys'>, keys: Iterable<[string, unknown]>): Uint8Array {
  const members: Buffer[] = [gzipSync(JSON.stringify({ ...header, keys: [] }) + '\n', { level: 1 })];
  let page: [string, unknown][] = [];
  for (const kv of keys) {
    page.push(kv);
    if (page.length === PAGE_KEYS) {
      members.push(gzipSync(JSON.stringify(page) + '\n', { level: 1 }));
      page = [];
    }
  }
  if (page.length) members.push(gzipSync(JSON.stringify(page) + '\n', { level: 1 }));
  return Buffer.concat(members);
}

export function encodeSnapshot(s: PartitionSnapshot): Uint8Array {
  const { keys, ...header } = s;
  return encodeSnapshotPages(header, keys);
}

export function decodeSnapshot(bytes: Uint8Array): PartitionSnapshot {
  // gunzip reads concatenated members as one stream.
  const lines = gunzipSync(bytes).toString('utf8').split('\n');
  const snap = JSON.parse(lines[0]!) as PartitionSnapshot;
  for (let i = 1; i < lines.length; i++) if (lines[i]) for (const kv of JSON.parse(lines[i]!) as [string, unknown][]) snap.keys.push(kv);
  return snap;
}

export function chunk(bytes: Uint8Array, size = SNAPSHOT_CHUNK_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
  return out.length ? out : [new Uint8Array(0)];
}

export function unchunk(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}
