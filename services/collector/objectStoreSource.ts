// Object-store source: polls an S3 / Azure Blob / local store prefix for new objects and publishes their records
// (NDJSON, JSON documents such as CloudTrail's {"Records":[...]}, .gz of either) to raw.<source>.
//
// Discovery is incremental: objects are ingested in key order and the last fully ingested key is remembered in the
// JetStream KV bucket; each poll lists only keys after it (S3 ListObjectsV2 StartAfter). That is exact when new
// keys sort after old ones, as in time-ordered layouts: CloudTrail
// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<id>.json.gz` and
// VPC flow logs `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/…_YYYYMMDDTHHmmZ_<hash>.log.gz`, within one
// account and region. A key that appears later but sorts before the mark (another region under the same prefix, a
// late upload) would be missed: point one source at each time-ordered prefix, or set `reorderWindow` so the last N
// ingested keys are remembered and the listing starts at the oldest of them — a late key that sorts after that is
// still ingested, once.
//
// Position protocol (as the directory source): before publishing an object, its key is recorded as `current`;
// message ids derive from the key, so after a crash the object is re-published under the same ids and JetStream
// drops the duplicates (within the stream's duplicate window); only after every PubAck does the mark advance.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { frameRecords } from '@sluice/formats';
import type { Logger, Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { compareKeys as compare, openStore, type ListedObject, type ObjectStore, type OpenStoreOptions } from '@sluice/storage';
import { collectorMetrics, countDrop } from './collectorMetrics.ts';
import { publishFramed } from './publishFramed.ts';

export interface ObjectStoreSourceConfig {
  source: string;
  /** `s3://bucket/prefix`, `az://container/prefix`, `abfss://…`, `file:///path`. */
  url: string;
  pollSeconds: number;
  maxBatchBytes: number;
  /** Objects larger than this (as stored) are skipped with an error. */
  maxObjectBytes: number;
  /** A .gz object inflating beyond this is refused as a gzip bomb. */
  maxDecompressedBytes: number;
  /** Remember this many recently ingested keys and list from the oldest of them (0 = high-water mark only). */
  reorderWindow: number;
  /** Where a source without a stored position starts: only keys after this one are ingested (skip history). */
  startAfter?: string;
  s3?: OpenStoreOptions['s3'];
  azure?: OpenStoreOptions['azure'];
  family?: SourceFamily;
  /** `streams.rawPartitions` (default 1). */
  rawPartitions?: number;
}

export interface ObjectPosition {
  /** Highest key fully ingested (listing starts after it, or after recent[0] with a reorder window). */
  after?: string;
  /** With a reorder window: the last ingested keys, sorted. */
  recent?: string[];
  /** The object being published: re-published under the same ids after a crash. */
  current?: string;
}

export class ObjectStoreSource {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly store: ObjectStore;
  private readonly kvKey: string;

  constructor(
    private readonly cfg: ObjectStoreSourceConfig,
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    store?: ObjectStore,
  ) {
    collectorMetrics(metrics);
    // Credentials come from cfg.s3/cfg.azure only as endpoints and options; secrets from the SDK chains / env.
    this.store = store ?? openStore(cfg.url, { s3: cfg.s3, azure: cfg.azure });
    this.kvKey = `${cfg.source}.objects.${createHash('sha256').update(this.store.url).digest('hex').slice(0, 24)}`;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.scan()
        .then(() => undefined)
        .catch((e: Error) => {
          this.metrics.errors.inc({ kind: 'object_store' });
          this.log.error({ err: e.message, url: this.store.url }, 'object store poll failed; retrying next poll');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.cfg.pollSeconds * 1000);
        });
    };
    tick();
  }

  /** Stops polling; waits for the object in progress to be published and recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async position(): Promise<ObjectPosition> {
    const e = await this.kv.get(this.kvKey);
    if (e?.value?.length) return e.json<ObjectPosition>();
    return this.cfg.startAfter === undefined ? {} : { after: this.cfg.startAfter };
  }

  /** One poll: ingests every new object in key order; `limit` stops after that many objects (tests). */
  async scan(limit = Infinity): Promise<number> {
    let pos = await this.position();
    if (pos.current !== undefined) {
      // A previous run died while publishing this object: publish it again under the same ids.
      const info = await this.store.head(pos.current);
      pos = await this.ingest({ key: pos.current, size: info?.size ?? 0, lastModified: info?.lastModified ?? new Date(0) }, pos, info === null);
    }
    const recent = new Set(pos.recent ?? []);
    const from = this.cfg.reorderWindow > 0 && pos.recent?.length ? pos.recent[0] : pos.after;
    const listed = await this.store.list('', from === undefined ? {} : { startAfter: from });
    let n = 0;
    for (const obj of listed) {
      if (this.stopped || n >= limit) break;
      if (recent.has(obj.key)) continue;
      if (pos.after !== undefined && compare(obj.key, pos.after) <= 0) {
        if (this.cfg.reorderWindow === 0) continue;
        this.log.info({ key: obj.key, after: pos.after }, 'late object within the reorder window');
      }
      pos = await this.ingest(obj, pos, false);
      n++;
    }
    return n;
  }

  private async ingest(obj: ListedObject, pos: ObjectPosition, gone: boolean): Promise<ObjectPosition> {
    const key = obj.key;
    const done = (): ObjectPosition => {
      const next: ObjectPosition = { after: pos.after === undefined || compare(key, pos.after) > 0 ? key : pos.after };
      if (this.cfg.reorderWindow > 0) {
        const r = [...(pos.recent ?? []).filter((k) => k !== key), key].sort(compare);
        next.recent = r.slice(Math.max(0, r.length - this.cfg.reorderWindow));
      }
      return next;
    };
    const finish = async () => {
      const next = done();
      await this.kv.put(this.kvKey, JSON.stringify(next));
      return next;
    };
    if (gone) {
      this.log.warn({ key }, 'object being ingested before a restart no longer exists; moving on');
      return finish();
    }
    if (key.endsWith('/') || obj.size === 0) return finish();
    if (obj.size > this.cfg.maxObjectBytes) {
      this.log.error({ key, size: obj.size, limit: this.cfg.maxObjectBytes }, 'object larger than maxObjectBytes; skipped');
      countDrop(this.metrics, this.cfg.source, 'too_large');
      return finish();
    }
    const data = await this.store.get(key);
    if (data === null) {
      this.log.warn({ key }, 'listed object vanished before it was read; skipped');
      return finish();
    }
    let content = data;
    if (key.endsWith('.gz') || (data[0] === 0x1f && data[1] === 0x8b)) {
      try {
        // maxOutputLength refuses a gzip bomb instead of inflating it without bound.
        content = gunzipSync(data, { maxOutputLength: this.cfg.maxDecompressedBytes });
      } catch (e) {
        const bomb = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        if (bomb) this.log.error({ key, limit: this.cfg.maxDecompressedBytes }, 'object inflates beyond maxDecompressedBytes (gzip bomb?); skipped');
        else this.log.error({ key, err: (e as Error).message }, 'not a valid gzip object; skipped');
        countDrop(this.metrics, this.cfg.source, bomb ? 'gzip_bomb' : 'bad_gzip');
        return finish();
      }
    }
    if (pos.current !== key) {
      pos = { ...pos, current: key };
      await this.kv.put(this.kvKey, JSON.stringify(pos));
    }
    const framed = frameRecords(content, 0, true);
    const objectId = createHash('sha256').update(`${this.cfg.source}\0${this.store.url}\0${key}`).digest('hex').slice(0, 32);
    const res = await publishFramed(this.js, this.metrics, { source: this.cfg.source, object: key, idPrefix: `obj:${objectId}`, family: this.cfg.family, rawPartitions: this.cfg.rawPartitions }, framed, undefined, this.cfg.maxBatchBytes);
    if (res.oversized > 0) this.log.warn({ key, records: res.oversized }, 'records larger than the batch cap were not ingested');
    this.log.info({ key, records: res.records, batches: res.batches, framing: framed.framing }, 'ingested object');
    return finish();
  }
}

