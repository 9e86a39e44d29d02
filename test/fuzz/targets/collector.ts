// Fuzz targets for the collector's byte-level inputs: HTTP bodies (a real HttpSource listening on 127.0.0.1: NDJSON,
// JSON documents, gzip bodies, bombs, truncated gzip, bodies over the size limit, chunked uploads) and files as the
// directory source reads them (a real DirectorySource scanning a temporary folder: NDJSON, JSON documents, .gz files).
// JetStream and its KV bucket are in-memory fakes that store what is published, so each input's records can be
// counted: published + refused (with a status or a drop counter) = records in the body or file.
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { firstInvalidJson, frameRecords, type FramedRecords } from '@sluice/formats';
import type { MsgHdrs } from '@nats-io/transport-node';
import { createLogger, createMetrics, H, splitLines, type Metrics } from '@sluice/runtime';
import { EMPTY_PREAMBLE, familyFor, segmentByPreamble, type SourceFamily } from '@sluice/sources';
import { collectorMetrics } from '../../../services/collector/collectorMetrics.ts';
import { DirectorySource } from '../../../services/collector/directorySource.ts';
import { HttpSource } from '../../../services/collector/httpSource.ts';
import { brokenGzip, bytes, concat, deepNesting, gzipBomb, mutateLine, randomBytes, rngFor, text, type Rng } from '../hostile.ts';
import { checkBooks, emptyOutcome, type Target } from '../target.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const MAX_BODY = 1024 * 1024;
const MAX_BATCH = 64 * 1024;
const MAX_INFLATED = 4 * 1024 * 1024;
const BOMB = 64 * 1024 * 1024;

/** Records published to the fake JetStream (lines of every envelope). */
class FakeJetStream {
  records = 0;
  envelopes = 0;
  /** Envelopes whose Sluice-Count differs from the lines the splitter will find in them. */
  miscounted: string[] = [];
  client(): JetStreamClient {
    const publish = (_subject: string, data: Uint8Array, opts?: { headers?: MsgHdrs }): Promise<PubAck> => {
      this.envelopes++;
      const lines = splitLines(data).length;
      const declared = Number(opts?.headers?.get(H.count));
      if (declared !== lines) this.miscounted.push(`envelope declares ${declared} records but holds ${lines} lines`);
      this.records += lines;
      return Promise.resolve({ stream: 'RAW', seq: this.envelopes, duplicate: false, domain: '' } as PubAck);
    };
    return { publish } as unknown as JetStreamClient;
  }
}

/** The KV bucket the directory source keeps file positions in. */
function fakeKv(): KV & { clear(): void } {
  const m = new Map<string, Uint8Array>();
  const kv = {
    get: (key: string) => {
      const value = m.get(key);
      return Promise.resolve(value ? { value, json: <T>() => JSON.parse(text(value)) as T } : null);
    },
    put: (key: string, v: string) => {
      m.set(key, bytes(v));
      return Promise.resolve(m.size);
    },
    clear: () => m.clear(),
  };
  return kv as unknown as KV & { clear(): void };
}

let sampleLines: { source: string; lines: string[] }[] | undefined;
/** Valid bodies to start from: JSON lines (no family), CloudTrail, Defender, Zeek TSV with its header. */
function samples() {
  const lines = (f: string) => readFileSync(join(FIXTURES, f), 'utf8').split('\n').filter((l) => l.trim() !== '');
  sampleLines ??= [
    { source: 'json', lines: lines('cloudtrail/events.ndjson') },
    { source: 'cloudtrail', lines: [readFileSync(join(FIXTURES, 'cloudtrail/records.json'), 'utf8')] },
    { source: 'defender', lines: [readFileSync(join(FIXTURES, 'defender/eventhub-payload.json'), 'utf8')] },
    { source: 'zeek', lines: lines('zeek/conn.log') },
    { source: 'winlog', lines: lines('winlog/winlogbeat8.ndjson') },
  ];
  return sampleLines;
}

/** A body: valid lines with hostile mutations, or noise, nesting, blanks, a huge line or a whole document. */
function body(rng: Rng): { source: string; data: Uint8Array; how: string } {
  const s = rng.pick(samples());
  const r = rng.next();
  if (r < 0.1) return { source: s.source, data: randomBytes(rng, rng.chance(0.9) ? 4096 : 300_000), how: 'random-bytes' };
  if (r < 0.15) return { source: s.source, data: bytes(rng.pick(['', ' ', '\n', '\r\n\r\n', '\t \n ', '{}', '[]', '{"records":[]}', 'null'])), how: 'blank' };
  if (r < 0.2) return { source: s.source, data: bytes(deepNesting(rng, rng.pick([1000, 100_000]))), how: 'nest-document' };
  const header = s.source === 'zeek' ? s.lines.filter((l) => l.startsWith('#')) : [];
  const records = s.lines.filter((l) => !l.startsWith('#'));
  const picked: Uint8Array[] = [];
  const how: string[] = [];
  for (let k = rng.int(1, 6); k > 0; k--) picked.push(bytes(rng.pick(records)));
  for (let k = rng.int(0, 2); k > 0; k--) {
    const at = rng.int(0, picked.length - 1);
    const m = mutateLine(rng, text(picked[at]!), MAX_BATCH);
    picked[at] = m.data;
    how.push(m.how);
  }
  const nl = bytes(rng.pick(['\n', '\r\n']));
  const all = [...header.map(bytes), ...picked];
  let data = concat(all.flatMap((l, k) => (k === 0 ? [l] : [nl, l])));
  if (rng.chance(0.5)) data = concat([data, nl]);
  if (rng.chance(0.03)) {
    data = concat(Array.from({ length: Math.ceil((MAX_BODY + 10) / Math.max(1, data.length)) }, () => data));
    how.push('over-size');
  }
  return { source: s.source, data, how: how.join('+') || 'valid' };
}

/** gzip the body (or a bomb, or a broken stream) for a `Content-Encoding: gzip` / `.gz` input. */
function maybeGzip(rng: Rng, b: Uint8Array): { data: Uint8Array; gzip: string } {
  const r = rng.next();
  if (r < 0.55) return { data: b, gzip: 'none' };
  if (r < 0.8) return { data: gzipSync(b), gzip: 'gzip' };
  if (r < 0.88) return { data: gzipBomb(BOMB), gzip: 'bomb' };
  if (r < 0.96) return { data: brokenGzip(rng, b), gzip: 'broken' };
  return { data: b, gzip: 'not-gzip' };
}

interface Expect {
  /** Records in the (inflated) content, after preamble lines. */
  records: number;
  /** Records refused for being over the batch cap. */
  oversized: number;
  /** The whole input refused: why. */
  refused?: 'too-large' | 'bomb' | 'bad-gzip' | 'empty' | 'invalid-json';
}

function inflate(data: Uint8Array, gz: boolean): Uint8Array | 'bomb' | 'bad-gzip' {
  if (!gz) return data;
  try {
    return gunzipSync(data, { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'bomb' : 'bad-gzip';
  }
}

function recordsOf(framed: FramedRecords, family: SourceFamily | undefined): Uint8Array[] {
  if (framed.framing !== 'ndjson') return framed.records;
  return segmentByPreamble(framed.records, EMPTY_PREAMBLE, family).segments.flatMap((s) => s.records);
}

// ---- HTTP ---------------------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: { error?: string; accepted?: number };
}

function post(port: number, path: string, data: Uint8Array, headers: Record<string, string>, chunked: boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (!chunked) h['content-length'] = String(data.length);
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        answered = true;
        const t = Buffer.concat(chunks).toString();
        try {
          resolve({ status: res.statusCode ?? 0, body: t ? (JSON.parse(t) as Reply['body']) : {} });
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: reply is not JSON: ${t.slice(0, 200)}`));
        }
      });
    });
    // The server may stop reading an over-limit body after answering: an error after the reply changes nothing.
    req.on('error', (e) => (answered ? undefined : setTimeout(() => (answered ? undefined : reject(e)), 200)));
    req.on('socket', (sock) => sock.setNoDelay(true));
    if (chunked) {
      for (let i = 0; i < data.length; i += 64 * 1024) req.write(data.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(data);
  });
}

export function httpTarget(): Target {
  const fake = new FakeJetStream();
  let source: HttpSource | undefined;
  return {
    name: 'http',
    title: 'collector HTTP source on 127.0.0.1 (NDJSON, JSON documents, gzip, bombs, limits; in-memory JetStream)',
    async setup() {
      source = new HttpSource(
        { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY, maxBatchBytes: MAX_BATCH, maxDecompressedBytes: MAX_INFLATED, sources: [], familyOf: (s) => familyFor(s) },
        fake.client(),
        createLogger('collector', 'silent'),
        createMetrics('collector'),
      );
      await source.start();
    },
    async teardown() {
      await source?.stop();
    },
    generate(seed, i) {
      const rng = rngFor(seed, 'http', i);
      const b = body(rng);
      const g = maybeGzip(rng, b.data);
      return { data: g.data, meta: { gen: `${b.how}${g.gzip === 'none' ? '' : `+${g.gzip}`}`, source: b.source, gzip: g.gzip, chunked: rng.chance(0.2) } };
    },
    async run(c) {
      if (!source) await this.setup!();
      const out = emptyOutcome();
      const src = String(c.meta.source);
      const family = familyFor(src);
      const gz = c.meta.gzip !== 'none';
      // What the HTTP source must answer, worked out from the body.
      const exp: Expect = { records: 0, oversized: 0 };
      const content = c.data.length > MAX_BODY ? 'too-large' : inflate(c.data, gz);
      if (typeof content === 'string') exp.refused = content;
      else {
        const framed = frameRecords(content, 0, true);
        if (framed.records.length === 0) exp.refused = 'empty';
        else if (framed.framing === 'ndjson' && !family?.decode && !family?.isPreamble && firstInvalidJson(framed.records)) exp.refused = 'invalid-json';
        else {
          const recs = recordsOf(framed, family);
          exp.records = recs.length;
          exp.oversized = recs.filter((r) => r.length + 1 > MAX_BATCH).length;
        }
      }
      const before = fake.records;
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
      if (gz) headers['content-encoding'] = 'gzip';
      const reply = await post(source!.port, `/ingest/${src}`, c.data, headers, Boolean(c.meta.chunked));
      const published = fake.records - before;
      out.problems.push(...fake.miscounted.splice(0));
      const want = exp.refused ? (exp.refused === 'too-large' || exp.refused === 'bomb' ? 413 : 400) : exp.oversized > 0 ? 413 : 202;
      if (reply.status !== want) out.problems.push(`HTTP ${reply.status} (${reply.body.error ?? ''}), expected ${want} (${exp.refused ?? `${exp.records} records, ${exp.oversized} oversized`})`);
      if (reply.status >= 400 && !reply.body.error) out.problems.push(`HTTP ${reply.status} without an error message`);
      if (exp.refused) {
        if (published !== 0) out.problems.push(`refused body (${exp.refused}) but ${published} records published`);
        out.records = 1;
        out.rejected = 1;
      } else {
        const accepted = exp.records - exp.oversized;
        if (published !== accepted || (reply.body.accepted ?? -1) !== accepted) out.problems.push(`${exp.records} records (${exp.oversized} oversized): ${published} published, reply says accepted ${reply.body.accepted}`);
        out.records = exp.records;
        out.rows = published;
        out.rejected = exp.records - published;
      }
      checkBooks(out);
      return out;
    },
  };
}

// ---- directory source -----------------------------------------------------------------------------------------------

export function filesTarget(): Target {
  const fake = new FakeJetStream();
  const kv = fakeKv();
  let dir: string | undefined;
  let metrics: Metrics | undefined;
  const drops = async (): Promise<number> => (await collectorMetrics(metrics!).dropped.get()).values.reduce((n, v) => n + v.value, 0);
  return {
    name: 'files',
    title: 'collector directory source: NDJSON / JSON document / .gz files, bombs, truncated gzip (in-memory JetStream + KV)',
    setup() {
      dir ??= mkdtempSync(join(tmpdir(), 'sluice-fuzz-files-'));
      metrics ??= createMetrics('collector');
      return Promise.resolve();
    },
    teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
      return Promise.resolve();
    },
    generate(seed, i) {
      const rng = rngFor(seed, 'files', i);
      const b = body(rng);
      const g = maybeGzip(rng, b.data);
      const base = b.source === 'zeek' ? 'conn.log' : rng.pick(['events.ndjson', 'events.json', 'events.log']);
      return { data: g.data, meta: { gen: `${b.how}${g.gzip === 'none' ? '' : `+${g.gzip}`}`, source: b.source, gzip: g.gzip, file: g.gzip === 'none' ? base : `${base}.gz` } };
    },
    async run(c) {
      await this.setup!();
      const out = emptyOutcome();
      const family = c.meta.source === 'zeek' ? familyFor('zeek') : undefined;
      const gz = String(c.meta.file).endsWith('.gz');
      const exp: Expect = { records: 0, oversized: 0 };
      const content = inflate(c.data, gz);
      if (typeof content === 'string') exp.refused = content;
      else {
        const recs = recordsOf(frameRecords(content, 0, true), family);
        exp.records = recs.length;
        exp.oversized = recs.filter((r) => r.length + 1 > MAX_BATCH).length;
      }
      // A folder of its own: the scan sees exactly this file.
      const folder = join(dir!, 'in');
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder);
      const file = join(folder, String(c.meta.file));
      writeFileSync(file, c.data);
      // Settled: an mtime in this very millisecond would still count as being written (Date.now() has no fraction).
      utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      kv.clear();
      const src = new DirectorySource(
        { source: 'fuzz', path: folder, pollSeconds: 3600, settleSeconds: 0, maxBatchBytes: MAX_BATCH, family, maxDecompressedBytes: MAX_INFLATED },
        fake.client(),
        kv,
        createLogger('collector', 'silent'),
        metrics!,
      );
      const before = fake.records;
      const dropsBefore = await drops();
      await src.scan();
      const published = fake.records - before;
      out.problems.push(...fake.miscounted.splice(0));
      const dropped = (await drops()) - dropsBefore;
      if (exp.refused) {
        if (published !== 0 || dropped !== 1) out.problems.push(`file refused (${exp.refused}) expected: ${published} records published, ${dropped} drops counted`);
        out.records = 1;
        out.rejected = 1;
      } else {
        if (published !== exp.records - exp.oversized || dropped !== exp.oversized) out.problems.push(`${exp.records} records (${exp.oversized} oversized): ${published} published, ${dropped} counted as dropped`);
        out.records = exp.records;
        out.rows = published;
        out.rejected = dropped;
      }
      checkBooks(out);
      return out;
    },
  };
}
