// Watches a directory for new or growing files (NDJSON, JSON documents, .gz) and publishes their records.
// Its position per file (bytes consumed) lives in a JetStream KV bucket, so a restart neither re-ingests nor skips.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { frameRecords, type FramedRecords } from '@sluice/formats';
import type { Logger, Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { countDrop } from './collectorMetrics.ts';
import { EMPTY_PREAMBLE, type PreambleState } from './preamble.ts';
import { publishFramed } from './publishFramed.ts';

export interface DirectorySourceConfig {
  source: string;
  path: string;
  pollSeconds: number;
  /** A file unchanged for this long is complete: its last line counts even without a newline. */
  settleSeconds: number;
  maxBatchBytes: number;
  /** Resolved source family: its isPreamble strips file headers and sends them with each envelope. */
  family?: SourceFamily;
  /** A .gz file inflating beyond this is refused (a gzip bomb), logged, counted and remembered. */
  maxDecompressedBytes?: number;
  /** `streams.rawPartitions` (default 1). */
  rawPartitions?: number;
  /** NDJSON files larger than this are read and published in ranges of about this size. Default 16 MiB. */
  rangeBytes?: number;
}

export const DEFAULT_RANGE_BYTES = 16 * 1024 * 1024;

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;

interface Position {
  path: string;
  ino: number;
  /** Bytes of (decompressed) content consumed. */
  offset: number;
  done: boolean;
  /**
   * End of the range being published, recorded before publishing it. A restart that finds it re-reads exactly
   * [offset, pending) even if the file grew meanwhile, so the batches and their ids match what a crashed run may
   * already have stored, and JetStream drops them as duplicates instead of dropping new lines packed into them.
   */
  pending?: number;
  /** Preamble in force at `offset` (absent = none yet). */
  preamble?: PreambleState;
}

export class DirectorySource {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly cfg: DirectorySourceConfig,
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.scan()
        .catch((e: Error) => this.log.error({ err: e.message, dir: this.cfg.path }, 'directory scan failed; retrying next poll'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.cfg.pollSeconds * 1000);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the directory; exposed for tests. */
  async scan(): Promise<void> {
    const files = await listFiles(this.cfg.path);
    for (const file of files.sort()) {
      if (this.stopped) return;
      await this.ingest(file);
    }
  }

  private async ingest(file: string): Promise<void> {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return;
    const rel = relative(this.cfg.path, file);
    const fileId = createHash('sha256').update(`${this.cfg.source}\0${rel}\0${st.ino}`).digest('hex').slice(0, 32);
    const key = `${this.cfg.source}.${fileId}`;
    const entry = await this.kv.get(key);
    const pos: Position = entry?.value?.length ? (entry.json<Position>()) : { path: rel, ino: st.ino, offset: 0, done: false };
    if (pos.done) return;
    const gz = file.endsWith('.gz');
    // A file still being written may be half a JSON document or half a gzip stream: wait until it settles.
    // A settled NDJSON file that grows later is read on from its remembered offset.
    if (Date.now() - st.mtimeMs < this.cfg.settleSeconds * 1000) return;
    if (!gz && st.size <= pos.offset) return;
    // A large NDJSON file is read and published range by range: memory stays bounded by the range, not the file.
    if (!gz && st.size - pos.offset > (this.cfg.rangeBytes ?? DEFAULT_RANGE_BYTES) && (await this.ingestRanges(file, rel, key, fileId, st.ino, st.size, pos))) return;
    let content: Uint8Array = await readFile(file);
    if (gz) {
      const limit = this.cfg.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
      try {
        // maxOutputLength stops inflating at the limit instead of exhausting memory on a gzip bomb.
        content = gunzipSync(content, { maxOutputLength: limit });
      } catch (e) {
        const bomb = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        if (bomb) this.log.error({ file: rel, limit }, 'gzip file inflates beyond maxDecompressedBytes; skipped and remembered');
        else this.log.error({ file: rel, err: (e as Error).message }, 'not a valid gzip file; skipped and remembered');
        countDrop(this.metrics, this.cfg.source, bomb ? 'gzip_bomb' : 'bad_file');
        await this.kv.put(key, JSON.stringify({ ...pos, done: true }));
        return;
      }
    }
    const complete = true;
    const end = pos.pending !== undefined && pos.pending <= content.length ? pos.pending : content.length;
    const framed = frameRecords(end < content.length ? content.subarray(0, end) : content, pos.offset, complete);
    await this.publishRange(key, rel, fileId, st.ino, pos, framed, gz);
  }

  /**
   * Publishes one framed range and advances the position: the range's end is recorded (pending) before
   * publishing, the new offset only after every batch's PubAck. Returns the new position.
   */
  private async publishRange(key: string, rel: string, fileId: string, ino: number, pos: Position, framed: FramedRecords, done: boolean): Promise<Position> {
    let preamble = pos.preamble;
    if (framed.records.length > 0) {
      if (pos.pending !== framed.consumed) await this.kv.put(key, JSON.stringify({ ...pos, path: rel, ino, pending: framed.consumed }));
      const res = await publishFramed(
        this.js,
        this.metrics,
        { source: this.cfg.source, object: rel, idPrefix: `dir:${fileId}:${pos.offset}`, family: this.cfg.family, rawPartitions: this.cfg.rawPartitions },
        framed,
        pos.preamble ?? EMPTY_PREAMBLE,
        this.cfg.maxBatchBytes,
      );
      if (this.cfg.family?.isPreamble) preamble = res.state;
      if (res.oversized > 0) this.log.warn({ file: rel, records: res.oversized }, 'records larger than the batch cap were not ingested');
      this.log.info({ file: rel, records: res.records, batches: res.batches, framing: framed.framing }, 'ingested');
    }
    // Only after every batch's PubAck does the position advance; a crash before this replays ids JetStream drops.
    // A JSON document is not final: a one-line NDJSON file parses as one, and must be read on when it grows.
    const next: Position = { path: rel, ino, offset: framed.consumed, done, ...(preamble ? { preamble } : {}) };
    if (next.offset !== pos.offset || next.done !== pos.done || pos.pending !== undefined) await this.kv.put(key, JSON.stringify(next));
    return next;
  }

  /**
   * Reads an NDJSON file from its position in ranges of about rangeBytes (whole lines; a recorded pending range is
   * re-read exactly, so a replay after a crash cuts the same batches). False, having read nothing, when the file
   * may be one JSON document (its first line is not a JSON value) or a line is longer than the range: the caller
   * then reads the whole file as before.
   */
  private async ingestRanges(file: string, rel: string, key: string, fileId: string, ino: number, size: number, start: Position): Promise<boolean> {
    const rangeBytes = this.cfg.rangeBytes ?? DEFAULT_RANGE_BYTES;
    const fh = await open(file, 'r');
    try {
      let pos = start;
      let first = true;
      while (pos.offset < size && !this.stopped) {
        const end = pos.pending !== undefined && pos.pending > pos.offset && pos.pending <= size ? pos.pending : Math.min(size, pos.offset + rangeBytes);
        // One leading newline: framing from offset 1 never takes the range for a whole JSON document.
        const buf = Buffer.allocUnsafe(end - pos.offset + 1);
        buf[0] = 0x0a;
        const { bytesRead } = await fh.read(buf, 1, end - pos.offset, pos.offset);
        if (bytesRead !== end - pos.offset) return !first; // truncated meanwhile: the next poll looks again
        if (first && pos.offset === 0 && !firstLineIsJson(buf)) return false;
        const framed = frameRecords(buf, 1, end === size);
        if (framed.consumed === 1) return !first; // no whole line in the range
        first = false;
        pos = await this.publishRange(key, rel, fileId, ino, pos, { ...framed, consumed: pos.offset + framed.consumed - 1 }, false);
      }
      return true;
    } finally {
      await fh.close();
    }
  }
}

/** Whether the first line (after the leading newline at 0) is a JSON value by itself: then the file is NDJSON. */
function firstLineIsJson(buf: Buffer): boolean {
  const nl = buf.indexOf(0x0a, 1);
  if (nl < 0) return false;
  try {
    JSON.parse(buf.toString('utf8', 1, nl));
    return true;
  } catch {
    return false;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  for (const e of entries) {
    // Hidden and temporary files are still being written by their producer.
    if (e.name.startsWith('.') || e.name.endsWith('.tmp') || e.name.endsWith('.part')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
