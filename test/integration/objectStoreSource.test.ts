// The collector's object-store source against real stores — a local folder, MinIO (S3) and Azurite (Azure Blob) —
// and a real nats-server: exact record counts per object in RAW, .gz and JSON documents, objects appearing later,
// a restart midway and a crash between publishing and the position update (every record exactly once), gzip bombs
// refused, late keys and the reorder window, preamble lines of a family. Credentials reach the S3 and Azure
// clients only through the environment, as in production.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, decodePreamble, H, KV_BUCKETS, loadConfig, provisionTopology, subjects, type Logger, type Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { LocalStore, type ObjectStore } from '@sluice/storage';
import { AzureBlobStore, S3Store } from '@sluice/storage/clouds';
import { ObjectStoreSource, type ObjectStoreSourceConfig } from '../../services/collector/objectStoreSource.ts';
import { findAzurite, startAzurite, type AzuriteHandle } from '../support/azurite.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { countSubject, readSubject, until } from '../support/rawStream.ts';
import { findMinio, startS3Server, type S3ServerHandle } from '../support/s3Server.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  await provisionTopology(nc, jsm, cfg);
  kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** One kind of store: how the source reaches it (URL + config, credentials in env) and a writer for the test. */
interface StoreKind {
  /** Root URL for a prefix, e.g. s3://bucket/<prefix>. */
  url(prefix: string): string;
  /** Config options the collector would get (endpoints only, no secrets). */
  options: Pick<ObjectStoreSourceConfig, 's3' | 'azure'>;
  /** Environment the SDK default chains read the credentials from. */
  env: Record<string, string>;
  writer(prefix: string): ObjectStore;
}

let seq = 0;
const gz = (s: string) => gzipSync(Buffer.from(s));
const rec = (tag: string, i: number) => JSON.stringify({ tag, i, msg: `${tag}/${i}/${'p'.repeat(40)}` });
const ndjson = (tag: string, n: number) => Array.from({ length: n }, (_, i) => rec(tag, i)).join('\n') + '\n';

function suite(name: string, skip: () => string | null, kind: () => StoreKind) {
  describe.skipIf(skip() !== null)(`ObjectStoreSource on ${name}`, () => {
    if (skip()) console.warn(`[objectStoreSource] ${name} skipped: ${skip()}`);
    const envBackup: Record<string, string | undefined> = {};

    beforeAll(() => {
      for (const [k, v] of Object.entries(kind().env)) {
        envBackup[k] = process.env[k];
        process.env[k] = v;
      }
    });
    afterAll(() => {
      for (const [k, v] of Object.entries(envBackup)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    interface Env {
      source: string;
      put(key: string, data: string | Uint8Array): Promise<void>;
      make(over?: Partial<ObjectStoreSourceConfig>, store?: KV): ObjectStoreSource;
      logs: Record<string, unknown>[];
      metrics: Metrics;
    }

    function env(tag: string): Env {
      const source = `${name}-${tag}-${++seq}`.replace(/[^A-Za-z0-9_-]/g, '_');
      const prefix = `AWSLogs/${source}/CloudTrail/eu-west-1`;
      const k = kind();
      const w = k.writer(prefix);
      const logs: Record<string, unknown>[] = [];
      const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) }) as Logger;
      const metrics = createMetrics('collector');
      return {
        source,
        logs,
        metrics,
        put: (key, data) => w.put(key, typeof data === 'string' ? Buffer.from(data) : data),
        make: (over = {}, store = kv) =>
          new ObjectStoreSource(
            { source, url: k.url(prefix), pollSeconds: 3600, maxBatchBytes: 2048, maxObjectBytes: 64 * 1024 * 1024, maxDecompressedBytes: 8 * 1024 * 1024, reorderWindow: 0, ...k.options, ...over },
            js,
            store,
            log,
            metrics,
          ),
      };
    }

    const envelopes = (source: string) => readSubject(jsm, 'RAW', subjects.raw(source));
    const lines = async (source: string) => (await envelopes(source)).flatMap((e) => e.lines);
    async function byObject(source: string): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const e of await envelopes(source)) out[e.headers[H.object]!] = (out[e.headers[H.object]!] ?? 0) + e.lines.length;
      return out;
    }
    function expectOnce(got: string[], want: string[]) {
      expect(got.length).toBe(want.length);
      expect(new Set(got).size).toBe(got.length);
      expect(new Set(got)).toEqual(new Set(want));
    }

    it('publishes exact records per object: CloudTrail .json.gz, NDJSON, NDJSON .gz, a JSON array; lineage = key', async () => {
      const e = env('shapes');
      const trail = Array.from({ length: 40 }, (_, i) => ({ eventVersion: '1.08', eventName: `Op${i}`, eventTime: '2026-11-22T10:00:00Z', i }));
      await e.put('2026/11/22/111_CloudTrail_eu-west-1_20261122T1000Z_a.json.gz', gz(JSON.stringify({ Records: trail })));
      await e.put('2026/11/22/111_CloudTrail_eu-west-1_20261122T1005Z_b.ndjson', ndjson('nd', 25));
      await e.put('2026/11/22/111_CloudTrail_eu-west-1_20261122T1010Z_c.ndjson.gz', gz(ndjson('ndgz', 60)));
      await e.put('2026/11/22/111_CloudTrail_eu-west-1_20261122T1015Z_d.json', JSON.stringify([{ x: 1 }, { x: 2 }], null, 2));
      await e.put('2026/11/22/111_CloudTrail_eu-west-1_20261122T1020Z_e.json', '');
      const s = e.make();
      expect(await s.scan()).toBe(5);
      expect(await byObject(e.source)).toEqual({
        '2026/11/22/111_CloudTrail_eu-west-1_20261122T1000Z_a.json.gz': 40,
        '2026/11/22/111_CloudTrail_eu-west-1_20261122T1005Z_b.ndjson': 25,
        '2026/11/22/111_CloudTrail_eu-west-1_20261122T1010Z_c.ndjson.gz': 60,
        '2026/11/22/111_CloudTrail_eu-west-1_20261122T1015Z_d.json': 2,
      });
      const got = await lines(e.source);
      expectOnce(got, [...trail.map((t) => JSON.stringify(t)), ...ndjson('nd', 25).trim().split('\n'), ...ndjson('ndgz', 60).trim().split('\n'), '{"x":1}', '{"x":2}']);
      for (const env of await envelopes(e.source)) {
        expect(env.headers[H.source]).toBe(e.source);
        expect(Number(env.headers[H.count])).toBe(env.lines.length);
        expect(env.bytes).toBeLessThanOrEqual(2048);
        expect(env.headers[H.family]).toBeUndefined();
      }
      expect((await s.position()).after).toBe('2026/11/22/111_CloudTrail_eu-west-1_20261122T1020Z_e.json');
      // Another poll, and a new instance (a restarted collector), publish nothing more.
      expect(await s.scan()).toBe(0);
      expect(await e.make().scan()).toBe(0);
      expect((await lines(e.source)).length).toBe(127);
    });

    it('ingests objects that appear later, and a restart midway stores every record exactly once', async () => {
      const e = env('restart');
      const key = (n: number) => `2026/11/22/${String(n).padStart(4, '0')}.ndjson.gz`;
      const want: string[] = [];
      const add = async (n: number) => {
        await e.put(key(n), gz(ndjson(`o${n}`, 30)));
        want.push(...ndjson(`o${n}`, 30).trim().split('\n'));
      };
      for (let n = 0; n < 6; n++) await add(n);
      // The first collector ingests 2 objects and is stopped; the next one picks up from there.
      const first = e.make();
      expect(await first.scan(2)).toBe(2);
      await first.stop();
      expect(await byObject(e.source)).toEqual({ [key(0)]: 30, [key(1)]: 30 });
      const second = e.make();
      expect(await second.scan()).toBe(4);
      expectOnce(await lines(e.source), want);
      // New objects appear later: only they are read.
      for (let n = 6; n < 9; n++) await add(n);
      expect(await second.scan()).toBe(3);
      expect(await e.make().scan()).toBe(0);
      expectOnce(await lines(e.source), want);
      expect(Object.values(await byObject(e.source))).toEqual(Array(9).fill(30));
    });

    it('after a crash between publishing an object and recording it, the restart re-publishes under the same ids (deduplicated)', async () => {
      const e = env('crash');
      for (let n = 0; n < 3; n++) await e.put(`k${n}.ndjson`, ndjson(`c${n}`, 100));
      const before = await countSubject(jsm, 'RAW', subjects.raw(e.source));
      // KV writes fail once RAW holds more messages than before: the process "dies" right after the PubAcks.
      const dying = new Proxy(kv, {
        get(target, prop, receiver) {
          if (prop === 'put') {
            return async (k: string, v: string) => {
              if ((await countSubject(jsm, 'RAW', subjects.raw(e.source))) > before) throw new Error('simulated crash');
              return target.put(k, v);
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      await expect(e.make({}, dying).scan()).rejects.toThrow(/simulated crash/);
      const stored = await countSubject(jsm, 'RAW', subjects.raw(e.source));
      expect(stored).toBeGreaterThan(1);
      expect((await e.make().position()).current).toBe('k0.ndjson');
      expect(await e.make().scan()).toBe(2);
      expectOnce(await lines(e.source), [0, 1, 2].flatMap((n) => ndjson(`c${n}`, 100).trim().split('\n')));
      expect((await e.make().position()).current).toBeUndefined();
    });

    it('refuses a gzip bomb and an invalid .gz with a logged error and a metric, and moves on', async () => {
      const e = env('bomb');
      await e.put('a-bomb.json.gz', gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }));
      await e.put('b-broken.json.gz', Buffer.from('definitely not gzip'));
      await e.put('c-good.ndjson', ndjson('ok', 5));
      const before = process.memoryUsage().arrayBuffers;
      expect(await e.make({ maxDecompressedBytes: 1024 * 1024 }).scan()).toBe(3);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(48 * 1024 * 1024);
      expectOnce(await lines(e.source), ndjson('ok', 5).trim().split('\n'));
      const errs = e.logs.filter((l) => l.level === 50);
      expect(errs.map((l) => l.key)).toEqual(['a-bomb.json.gz', 'b-broken.json.gz']);
      expect(String(errs[0]!.msg)).toMatch(/inflates beyond maxDecompressedBytes/);
      const dropped = (await e.metrics.registry.getSingleMetric('sluice_collector_dropped_total')!.get()).values;
      expect(dropped.find((v) => v.labels.source === e.source && v.labels.reason === 'gzip_bomb')?.value).toBe(1);
      expect(dropped.find((v) => v.labels.source === e.source && v.labels.reason === 'bad_gzip')?.value).toBe(1);
      const recs = (await e.metrics.registry.getSingleMetric('sluice_collector_records_total')!.get()).values;
      expect(recs.find((v) => v.labels.source === e.source)?.value).toBe(5);
    });

    it('a late key sorting before the mark is missed without a reorder window and ingested once with one', async () => {
      for (const window of [0, 4]) {
        const e = env(`late${window}`);
        await e.put('2026/11/22/10.ndjson', ndjson('a', 3));
        await e.put('2026/11/22/30.ndjson', ndjson('c', 3));
        const s = e.make({ reorderWindow: window });
        expect(await s.scan()).toBe(2);
        await e.put('2026/11/22/20.ndjson', ndjson('b', 3)); // late: sorts between the two
        await e.put('2026/11/22/40.ndjson', ndjson('d', 3));
        expect(await s.scan()).toBe(window === 0 ? 1 : 2);
        expect(await e.make({ reorderWindow: window }).scan()).toBe(0);
        const tags = ['a', 'c', ...(window === 0 ? [] : ['b']), 'd'];
        expectOnce(await lines(e.source), tags.flatMap((t) => ndjson(t, 3).trim().split('\n')));
      }
    });

    it('startAfter skips history on the first run only', async () => {
      const e = env('history');
      for (const k of ['2026/01/01/a.ndjson', '2026/06/01/b.ndjson', '2026/11/22/c.ndjson']) await e.put(k, ndjson(k.slice(0, 10), 2));
      expect(await e.make({ startAfter: '2026/06/01/' }).scan()).toBe(2);
      expect(Object.keys(await byObject(e.source)).sort()).toEqual(['2026/06/01/b.ndjson', '2026/11/22/c.ndjson']);
      await e.put('2026/11/23/d.ndjson', ndjson('d', 2));
      expect(await e.make({ startAfter: '2026/06/01/' }).scan()).toBe(1);
      expect((await lines(e.source)).length).toBe(6);
    });

    it('strips a family preamble from line-framed objects and sends it with every envelope, family header set', async () => {
      const e = env('preamble');
      const fam: SourceFamily = { name: 'tsvish', title: 't', tables: {}, route: () => ({ routed: [], rejected: [] }), isPreamble: (l) => l.startsWith('#') };
      const head1 = ['#separator \\x09', '#fields\tts\tuid', '#types\ttime\tstring'];
      const rows1 = Array.from({ length: 80 }, (_, i) => `1700000000.${i}\tC${i}`);
      const head2 = ['#fields\tts\tuid\textra'];
      const rows2 = Array.from({ length: 20 }, (_, i) => `1700000100.${i}\tD${i}\tx`);
      await e.put('conn.log.gz', gz([...head1, ...rows1, ...head2, ...rows2].join('\n') + '\n'));
      expect(await e.make({ family: fam, maxBatchBytes: 512 }).scan()).toBe(1);
      const envs = await envelopes(e.source);
      expect(envs.length).toBeGreaterThanOrEqual(4);
      for (const x of envs) {
        expect(x.headers[H.family]).toBe('tsvish');
        const p = decodePreamble(x.headers[H.preamble]);
        expect(x.lines.every((l) => !l.startsWith('#'))).toBe(true);
        // Never two preambles in one envelope.
        if (x.lines[0]!.includes('\tC')) {
          expect(p).toEqual(head1);
          expect(x.lines.every((l) => l.startsWith('1700000000.') && l.includes('\tC'))).toBe(true);
        } else {
          expect(p).toEqual(head2);
          expect(x.lines.every((l) => l.includes('\tD'))).toBe(true);
        }
      }
      expect(envs.flatMap((x) => x.lines)).toEqual([...rows1, ...rows2]);
    });

    it('start() polls for new objects and stop() waits for the object in progress', async () => {
      const e = env('poll');
      const s = e.make({ pollSeconds: 0.1 });
      s.start();
      await e.put('x1.ndjson', ndjson('p1', 7));
      await until(async () => (await lines(e.source)).length >= 7, 20_000, 'first object');
      await e.put('x2.ndjson', ndjson('p2', 9));
      await until(async () => (await lines(e.source)).length >= 16, 20_000, 'second object');
      await s.stop();
      expectOnce(await lines(e.source), [...ndjson('p1', 7).trim().split('\n'), ...ndjson('p2', 9).trim().split('\n')]);
    });
  });
}

// Local folder: always available.
let localRoot = '';
suite(
  'file',
  () => null,
  () => {
    localRoot ||= mkdtempSync(join(tmpdir(), 'sluice-objsrc-'));
    const url = (prefix: string) => `file://${join(localRoot, prefix)}`;
    return { url, options: {}, env: {}, writer: (prefix) => new LocalStore(url(prefix)) };
  },
);
afterAll(() => {
  if (localRoot) rmSync(localRoot, { recursive: true, force: true });
});

// MinIO: S3 with credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY only.
let minio: S3ServerHandle | undefined;
const bucket = 'trail';
describe.skipIf(findMinio() === null)('minio', () => {
  beforeAll(async () => {
    minio = await startS3Server();
    await minio.createBucket(bucket);
  });
  afterAll(async () => {
    await minio?.stop();
  });
  suite(
    's3',
    () => null,
    () => ({
      url: (prefix) => `s3://${bucket}/${prefix}`,
      options: { s3: { endpoint: minio!.endpoint, region: minio!.region, forcePathStyle: true } },
      env: { AWS_ACCESS_KEY_ID: minio!.accessKeyId, AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey },
      writer: (prefix) => new S3Store(`s3://${bucket}/${prefix}`, { endpoint: minio!.endpoint, region: minio!.region, credentials: { accessKeyId: minio!.accessKeyId, secretAccessKey: minio!.secretAccessKey } }),
    }),
  );
});
if (findMinio() === null) console.warn('[objectStoreSource] S3 (MinIO) tests skipped: minio binary not found (run scripts/install-s3-server.sh or set SLUICE_MINIO_BIN)');

// Azurite: Azure Blob with the connection string from AZURE_STORAGE_CONNECTION_STRING only.
let azurite: AzuriteHandle | undefined;
const container = 'logs';
describe.skipIf(findAzurite() === null)('azurite', () => {
  beforeAll(async () => {
    azurite = await startAzurite({ container });
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  suite(
    'azure',
    () => null,
    () => ({
      url: (prefix) => `az://${container}/${prefix}`,
      options: {},
      env: { AZURE_STORAGE_CONNECTION_STRING: azurite!.connectionString },
      writer: (prefix) => new AzureBlobStore(`az://${container}/${prefix}`, { connectionString: azurite!.connectionString }),
    }),
  );
});
if (findAzurite() === null) console.warn('[objectStoreSource] Azure (Azurite) tests skipped: run `npm install` (dev dependency azurite)');
