// The collector's directory source in-process against a real nats-server and KV bucket: exact records for every
// file shape, positions that survive a restart, growing files read on from their offset, unsettled files left alone,
// a crash between publishing and the position update deduplicated by the derived message ids, bad .gz remembered.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, H, KV_BUCKETS, loadConfig, provisionTopology, subjects, type Logger, type Metrics } from '@sluice/runtime';
import { DirectorySource, type DirectorySourceConfig } from '../../services/collector/directorySource.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { countSubject, readSubject, until } from '../support/rawStream.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
let root: string;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  await provisionTopology(nc, jsm, cfg);
  kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
  root = mkdtempSync(join(tmpdir(), 'sluice-dirsource-'));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Env {
  dir: string;
  cfg: DirectorySourceConfig;
  logs: Record<string, unknown>[];
  metrics: Metrics;
  make(store?: KV): DirectorySource;
}

/** A fresh directory and source name per test; `make()` is one collector process (call again for a restart). */
function env(source: string, over: Partial<DirectorySourceConfig> = {}): Env {
  const dir = join(root, source);
  mkdirSync(dir, { recursive: true });
  const cfg: DirectorySourceConfig = { source, path: dir, pollSeconds: 3600, settleSeconds: 1, maxBatchBytes: 2048, ...over };
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) }) as Logger;
  const metrics = createMetrics('collector');
  return { dir, cfg, logs, metrics, make: (store = kv) => new DirectorySource(cfg, js, store, log, metrics) };
}

/** Writes a file whose mtime is a minute old: settled, so the next scan reads it. */
function writeSettled(path: string, content: string | Uint8Array): void {
  writeFileSync(path, content);
  settle(path);
}

function appendSettled(path: string, content: string): void {
  appendFileSync(path, content);
  settle(path);
}

function settle(path: string): void {
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
}

function recs(tag: string, n: number, pad = 30): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i, text: `${tag}/${i}/${'z'.repeat(pad)}` }));
}

async function lines(source: string): Promise<string[]> {
  return (await readSubject(jsm, 'RAW', subjects.raw(source))).flatMap((e) => e.lines);
}

const count = (source: string) => countSubject(jsm, 'RAW', subjects.raw(source));

/** KV positions of a source, by file path relative to its directory. */
async function positions(source: string): Promise<Map<string, { key: string; offset: number; done: boolean }>> {
  const out = new Map<string, { key: string; offset: number; done: boolean }>();
  for await (const key of await kv.keys(`${source}.>`)) {
    const e = await kv.get(key);
    if (!e?.value?.length) continue;
    const p = e.json<{ path: string; offset: number; done: boolean }>();
    out.set(p.path, { key, offset: p.offset, done: p.done });
  }
  return out;
}

/**
 * The KV as a collector that dies right after publishing sees it: every position write made once RAW holds more
 * messages on the source's subject than when the crash was armed is lost, and the process "dies" (the scan throws).
 */
async function dyingAfterPublish(source: string): Promise<KV> {
  const before = await count(source);
  return new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, value: string) => {
          if ((await count(source)) > before) throw new Error('simulated crash between publish and position update');
          return target.put(key, value);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('DirectorySource', () => {
  it('publishes exact records from NDJSON, a pretty-printed JSON document and .gz; ignores hidden and temporary files', async () => {
    const e = env('shapes');
    const nd = recs('nd', 40);
    const doc = recs('doc', 25).map((l) => JSON.parse(l) as unknown);
    const gz = recs('gz', 60);
    const sub = recs('sub', 5);
    // CRLF endings, a blank line and no final newline: a settled file's last line still counts.
    writeSettled(join(e.dir, 'a.ndjson'), nd.slice(0, 20).join('\r\n') + '\r\n\n' + nd.slice(20).join('\n'));
    writeSettled(join(e.dir, 'b.json'), JSON.stringify({ records: doc }, null, 2));
    writeSettled(join(e.dir, 'c.ndjson.gz'), gzipSync(gz.join('\n') + '\n'));
    mkdirSync(join(e.dir, 'nested'));
    writeSettled(join(e.dir, 'nested', 'd.log'), sub.join('\n') + '\n');
    for (const ignored of ['.hidden.ndjson', 'e.ndjson.tmp', 'f.ndjson.part']) writeSettled(join(e.dir, ignored), recs('ignored', 3).join('\n') + '\n');

    await e.make().scan();

    const envs = await readSubject(jsm, 'RAW', subjects.raw('shapes'));
    const got = envs.flatMap((x) => x.lines);
    const want = [...nd, ...doc.map((d) => JSON.stringify(d)), ...gz, ...sub];
    expect(got.length).toBe(want.length);
    expect(new Set(got)).toEqual(new Set(want));
    expect(got.some((l) => l.includes('ignored'))).toBe(false);
    // Lineage: each envelope names its file; counts are exact; every envelope within the cap.
    const byObject = new Map<string, number>();
    for (const x of envs) {
      expect(x.headers[H.source]).toBe('shapes');
      expect(x.headers[H.encoding]).toBe('ndjson');
      expect(Number(x.headers[H.count])).toBe(x.lines.length);
      expect(x.bytes).toBeLessThanOrEqual(2048);
      byObject.set(x.headers[H.object]!, (byObject.get(x.headers[H.object]!) ?? 0) + x.lines.length);
    }
    expect(Object.fromEntries(byObject)).toEqual({ 'a.ndjson': 40, 'b.json': 25, 'c.ndjson.gz': 60, [join('nested', 'd.log')]: 5 });
    const pos = await positions('shapes');
    expect([...pos.keys()].sort()).toEqual(['a.ndjson', 'b.json', 'c.ndjson.gz', join('nested', 'd.log')]);
    expect(pos.get('c.ndjson.gz')!.done).toBe(true);
  });

  it('publishes nothing again after a restart, and only appended lines of a growing file', async () => {
    const e = env('restart');
    const file = join(e.dir, 'app.ndjson');
    const first = recs('r1', 30);
    writeSettled(file, first.join('\n') + '\n');
    writeSettled(join(e.dir, 'doc.json'), JSON.stringify(recs('rdoc', 4).map((l) => JSON.parse(l) as unknown), null, 2));
    writeSettled(join(e.dir, 'z.gz'), gzipSync(recs('rgz', 7).join('\n')));
    await e.make().scan();
    const after1 = await count('restart');
    expect((await lines('restart')).length).toBe(41);

    // A new instance (a restarted collector) on the same directory and KV: nothing is published again.
    await e.make().scan();
    await e.make().scan();
    expect(await count('restart')).toBe(after1);

    const more = recs('r2', 12);
    appendSettled(file, more.join('\n') + '\n');
    await e.make().scan();
    const got = await lines('restart');
    expect(got.length).toBe(41 + 12);
    expect(got.slice(-12)).toEqual(more);
    expect(got.filter((l) => l.includes('"r1"')).length).toBe(30);
    await e.make().scan();
    expect((await lines('restart')).length).toBe(53);
  });

  it('reads on from the offset when a one-line NDJSON file grows', async () => {
    // One JSON object on one line is also a valid JSON document: it must not close the file for good.
    const e = env('oneline');
    const file = join(e.dir, 'grow.ndjson');
    const all = recs('one', 4);
    writeSettled(file, all[0] + '\n');
    await e.make().scan();
    expect(await lines('oneline')).toEqual([all[0]]);
    appendSettled(file, all.slice(1).join('\n') + '\n');
    await e.make().scan();
    expect(await lines('oneline')).toEqual(all);
  });

  it('does not read a file that is still being written (mtime younger than settleSeconds)', async () => {
    const e = env('settle', { settleSeconds: 30 });
    const file = join(e.dir, 'writing.ndjson');
    const r = recs('s', 10);
    writeFileSync(file, r.slice(0, 5).join('\n') + '\n' + r[5]!.slice(0, 12)); // half a line at the end
    await e.make().scan();
    expect(await count('settle')).toBe(0);
    expect((await positions('settle')).size).toBe(0);
    appendFileSync(file, r[5]!.slice(12) + '\n' + r.slice(6).join('\n') + '\n');
    await e.make().scan();
    expect(await count('settle')).toBe(0);
    settle(file);
    await e.make().scan();
    expect(await lines('settle')).toEqual(r);
  });

  it('produces no duplicate when the position was not recorded after publishing (rewound or lost KV entry)', async () => {
    const e = env('rewind');
    const big = recs('big', 200, 60); // several envelopes
    const small = recs('small', 9);
    writeSettled(join(e.dir, 'big.ndjson'), big.join('\n') + '\n');
    writeSettled(join(e.dir, 'small.ndjson'), small.join('\n') + '\n');
    writeSettled(join(e.dir, 'doc.json'), JSON.stringify({ records: recs('rdoc', 6).map((l) => JSON.parse(l) as unknown) }, null, 2));
    await e.make().scan();
    const stored = await count('rewind');
    expect(stored).toBeGreaterThan(5);
    const want = await lines('rewind');
    expect(want.length).toBe(215);

    // As if the collector died after the PubAcks but before writing positions: rewind one, lose the others.
    const pos = await positions('rewind');
    const b = pos.get('big.ndjson')!;
    await kv.put(b.key, JSON.stringify({ ...(await kv.get(b.key))!.json<object>(), offset: 0, done: false }));
    await kv.delete(pos.get('small.ndjson')!.key);
    await kv.delete(pos.get('doc.json')!.key);
    await e.make().scan();

    expect(await count('rewind')).toBe(stored);
    expect(await lines('rewind')).toEqual(want);
    const again = await positions('rewind');
    expect(again.get('big.ndjson')!.offset).toBe(b.offset);
    expect(again.size).toBe(3);
  });

  it('after a crash between publishing and the position update, a restart stores every record once', async () => {
    const e = env('crash');
    const file = join(e.dir, 'live.ndjson');
    const first = recs('c1', 120, 50);
    writeSettled(file, first.join('\n') + '\n');
    await expect(e.make(await dyingAfterPublish('crash')).scan()).rejects.toThrow(/simulated crash/);
    expect(await count('crash')).toBeGreaterThan(1);
    expect((await lines('crash')).length).toBe(120);

    // Restart on an unchanged file: the replay carries the same ids, JetStream drops them.
    const stored = await count('crash');
    await e.make().scan();
    expect(await count('crash')).toBe(stored);
    expect(await lines('crash')).toEqual(first);

    // Crash again, and this time the file keeps growing while the collector is down.
    const second = recs('c2', 7);
    appendSettled(file, second.join('\n') + '\n');
    await expect(e.make(await dyingAfterPublish('crash')).scan()).rejects.toThrow(/simulated crash/);
    const third = recs('c3', 5);
    appendSettled(file, third.join('\n') + '\n');
    await e.make().scan();
    await e.make().scan();
    expect(await lines('crash')).toEqual([...first, ...second, ...third]);
  });

  it('remembers an invalid .gz as done, logs it once and keeps ingesting the other files', async () => {
    const e = env('badgz');
    writeSettled(join(e.dir, 'broken.ndjson.gz'), Buffer.from('this is not gzip\n{"a":1}\n'));
    const good = recs('ok', 3);
    writeSettled(join(e.dir, 'good.ndjson'), good.join('\n') + '\n');
    await e.make().scan();
    expect(await lines('badgz')).toEqual(good);
    const bad = (await positions('badgz')).get('broken.ndjson.gz');
    expect(bad?.done).toBe(true);
    const errors = () => e.logs.filter((l) => l.file === 'broken.ndjson.gz' && l.level === 50);
    expect(errors().length).toBe(1);
    expect(String(errors()[0]!.msg)).toMatch(/not a valid gzip/);
    expect((await e.metrics.errors.get()).values.find((v) => v.labels.kind === 'bad_file')?.value).toBe(1);

    // Later polls (and a restarted collector) do not try it again.
    const s = e.make();
    await s.scan();
    await s.scan();
    await e.make().scan();
    expect(errors().length).toBe(1);
    expect((await e.metrics.errors.get()).values.find((v) => v.labels.kind === 'bad_file')?.value).toBe(1);
    expect(await lines('badgz')).toEqual(good);
  });

  it('refuses a .gz inflating beyond maxDecompressedBytes (gzip bomb): logged, counted, remembered', async () => {
    const e = env('dirbomb', { maxDecompressedBytes: 1024 * 1024 });
    writeSettled(join(e.dir, 'bomb.ndjson.gz'), gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x20), { level: 9 }));
    const good = recs('fine', 4);
    writeSettled(join(e.dir, 'fine.ndjson.gz'), gzipSync(good.join('\n') + '\n'));
    await e.make().scan();
    await e.make().scan();
    expect(await lines('dirbomb')).toEqual(good);
    expect((await positions('dirbomb')).get('bomb.ndjson.gz')?.done).toBe(true);
    expect(e.logs.filter((l) => l.file === 'bomb.ndjson.gz' && /inflates beyond maxDecompressedBytes/.test(String(l.msg))).length).toBe(1);
    expect((await e.metrics.errors.get()).values.find((v) => v.labels.kind === 'gzip_bomb')?.value).toBe(1);
  });

  it('reads a large NDJSON file in ranges (exact records in order, a crash mid-file deduplicated); a large JSON document whole', async () => {
    // Ranges of 1 KiB over ~9 KiB files: several ranges per file, lines cut at range ends carried to the next.
    const e = env('ranges', { rangeBytes: 1024 });
    const big = recs('big', 120);
    // CRLF and a blank line inside, no final newline: as in the whole-file path.
    writeSettled(join(e.dir, 'big.ndjson'), big.slice(0, 60).join('\r\n') + '\r\n\n' + big.slice(60).join('\n'));
    const doc = recs('rdoc', 80).map((l) => JSON.parse(l) as unknown);
    writeSettled(join(e.dir, 'doc.json'), JSON.stringify({ records: doc }, null, 2));
    // The first scan dies after the first range's publish, before its position is stored.
    await expect(e.make(await dyingAfterPublish('ranges')).scan()).rejects.toThrow(/simulated crash/);
    await e.make().scan();
    await e.make().scan();
    const envs = await readSubject(jsm, 'RAW', subjects.raw('ranges'));
    const bigLines = envs.filter((x) => x.headers[H.object] === 'big.ndjson').flatMap((x) => x.lines);
    expect(bigLines).toEqual(big);
    expect(envs.filter((x) => x.headers[H.object] === 'doc.json').flatMap((x) => x.lines)).toEqual(doc.map((d) => JSON.stringify(d)));
    const pos = await positions('ranges');
    expect(pos.get('big.ndjson')?.offset).toBe(Buffer.byteLength(big.slice(0, 60).join('\r\n') + '\r\n\n' + big.slice(60).join('\n')));
    // Growing on: the appended lines come next, still in ranges.
    const more = recs('more', 50);
    appendSettled(join(e.dir, 'big.ndjson'), '\n' + more.join('\n') + '\n');
    await e.make().scan();
    const after = (await readSubject(jsm, 'RAW', subjects.raw('ranges'))).filter((x) => x.headers[H.object] === 'big.ndjson').flatMap((x) => x.lines);
    expect(after).toEqual([...big, ...more]);
  });

  it('start() polls the directory and stop() waits for the scan in progress', async () => {
    const e = env('polling', { pollSeconds: 0.1, settleSeconds: 0 });
    const s = e.make();
    s.start();
    const r = recs('p', 20);
    writeSettled(join(e.dir, 'later.ndjson'), r.join('\n') + '\n');
    await until(async () => (await lines('polling')).length >= 20, 15_000, 'the poll to ingest later.ndjson');
    await s.stop();
    expect(await lines('polling')).toEqual(r);
  });
});
