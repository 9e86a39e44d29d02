// The collector's HTTP source in-process against a real nats-server: 202 only once JetStream stored every batch,
// framing (NDJSON, JSON documents, gzip), envelope splitting, the refusals with their status codes, and
// Idempotency-Key retries deduplicated by JetStream; bearer-token authentication and the decompressed-size limit.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createLogger, createMetrics, H, loadConfig, provisionTopology, subjects, type Logger } from '@sluice/runtime';
import { HttpSource } from '../../services/collector/httpSource.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { countSubject, readSubject } from '../support/rawStream.ts';

const MAX_BODY = 1024 * 1024;
const MAX_BATCH = 4096;
const SOURCES = ['acked', 'doc', 'ndjson', 'split', 'bad', 'empty', 'big', 'gz', 'bomb', 'idem', 'noidem'];

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let http: HttpSource;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  await provisionTopology(nc, jsm, cfg);
  http = new HttpSource(
    { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY, maxBatchBytes: MAX_BATCH, sources: SOURCES },
    jetstream(nc),
    createLogger('collector', 'silent'),
    createMetrics('collector'),
  );
  await http.start();
});

afterAll(async () => {
  await http?.stop();
  await nc?.close();
  await server?.stop();
});

interface Reply {
  status: number;
  body: { error?: string; accepted?: number; batches?: number; requestId?: string };
}

/** One request on its own connection; `chunked` sends the body without a Content-Length, in 64 KiB chunks. */
function send(path: string, opts: { method?: string; body?: Uint8Array | string; headers?: Record<string, string>; chunked?: boolean } = {}): Promise<Reply> {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
  const headers: Record<string, string> = { ...opts.headers };
  if (body && !opts.chunked) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: http.port, path, method: opts.method ?? 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Reply['body']) : {} });
      });
    });
    // An error after the reply arrived (the server stopped reading an over-limit body) does not change the reply.
    req.on('error', reject);
    if (body && opts.chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
    } else if (body) req.write(body);
    req.end();
  });
}

const ingest = (source: string, body: Uint8Array | string, headers: Record<string, string> = {}) => send(`/ingest/${source}`, { body, headers });

function records(n: number, tag: string, pad = 40): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ tag, n: i, msg: `${tag}-${i}-${'x'.repeat(pad)}`, nested: { a: [i, i * 2] } }));
}

async function stored(source: string) {
  return readSubject(jsm, 'RAW', subjects.raw(source));
}

describe('HttpSource', () => {
  it('answers 202 only after JetStream stored every batch, with lineage headers', async () => {
    const recs = records(120, 'acked');
    const lines = recs.map((r) => JSON.stringify(r));
    const res = await ingest('acked', lines.join('\n') + '\n');
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(120);
    expect(res.body.batches).toBeGreaterThan(1);
    // Read back immediately after the 202: no waiting, every envelope must already be in the stream.
    const envs = await stored('acked');
    expect(envs.length).toBe(res.body.batches);
    expect(envs.flatMap((e) => e.lines)).toEqual(lines);
    for (const e of envs) {
      expect(e.headers[H.source]).toBe('acked');
      expect(e.headers[H.object]).toBe(`http:${res.body.requestId}`);
      expect(e.headers[H.encoding]).toBe('ndjson');
      expect(Number(e.headers[H.count])).toBe(e.lines.length);
      expect(Number.isNaN(Date.parse(e.headers[H.ingestTime]!))).toBe(false);
    }
  });

  it('explodes a JSON document {"records":[...]} into one line per record', async () => {
    const recs = records(25, 'doc');
    const res = await ingest('doc', JSON.stringify({ records: recs }, null, 2));
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(25);
    const lines = (await stored('doc')).flatMap((e) => e.lines);
    expect(lines).toEqual(recs.map((r) => JSON.stringify(r)));
  });

  it('keeps NDJSON one line per record, byte for byte (CRLF and blank lines tolerated)', async () => {
    // Odd spacing and key order must survive: NDJSON lines are stored as received, never re-serialised.
    const lines = ['{"b": 1,  "a": 2}', '{"n":1.50,"s":"\\u00e9"}', '[1, 2 ,3]', '"just a string"', '{"big":12345678901234567890}'];
    const res = await ingest('ndjson', lines[0] + '\r\n' + lines[1] + '\n\n' + lines.slice(2).join('\n'));
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(lines.length);
    const envs = await stored('ndjson');
    expect(envs.flatMap((e) => e.lines)).toEqual(lines);
    expect(envs.reduce((s, e) => s + Number(e.headers[H.count]), 0)).toBe(lines.length);
  });

  it('splits a body larger than maxBatchBytes into envelopes each within the cap, count exact', async () => {
    const recs = records(1000, 'split', 90);
    const lines = recs.map((r) => JSON.stringify(r));
    const body = lines.join('\n') + '\n';
    expect(body.length).toBeGreaterThan(20 * MAX_BATCH);
    const res = await ingest('split', body);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1000);
    const envs = await stored('split');
    expect(envs.length).toBe(res.body.batches);
    expect(envs.length).toBeGreaterThanOrEqual(Math.ceil(body.length / MAX_BATCH));
    for (const e of envs) {
      expect(e.bytes).toBeLessThanOrEqual(MAX_BATCH);
      expect(Number(e.headers[H.count])).toBe(e.lines.length);
    }
    expect(envs.reduce((s, e) => s + Number(e.headers[H.count]), 0)).toBe(1000);
    expect(envs.flatMap((e) => e.lines)).toEqual(lines);
  });

  it('refuses NDJSON with an invalid line with 400 naming the record number, and stores nothing', async () => {
    const body = ['{"ok":1}', '{"ok":2}', '{"ok":3', '{"ok":4}'].join('\n') + '\n';
    const res = await ingest('bad', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^record 3 is not valid JSON/);
    expect(await countSubject(jsm, 'RAW', subjects.raw('bad'))).toBe(0);
  });

  it('refuses an empty body (and one of blank lines) with 400', async () => {
    for (const body of ['', '\n\n  \n']) {
      const res = await ingest('empty', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatch(/empty body/);
    }
    expect(await countSubject(jsm, 'RAW', subjects.raw('empty'))).toBe(0);
  });

  it('refuses a body over maxBodyBytes with 413, with a Content-Length and chunked', async () => {
    const line = JSON.stringify({ pad: 'y'.repeat(1000) });
    const body = Buffer.from(Array.from({ length: Math.ceil((MAX_BODY * 2) / line.length) }, () => line).join('\n') + '\n');
    expect(body.length).toBeGreaterThan(MAX_BODY);
    const declared = await send('/ingest/big', { body });
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatch(/exceeds the limit/);
    const chunked = await send('/ingest/big', { body, chunked: true });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error).toMatch(/exceeds the limit/);
    // A client that streams its upload (fetch) must get the 413 every time, not a connection reset mid-upload.
    for (let k = 0; k < 10; k++) {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < body.length; i += 64 * 1024) c.enqueue(body.subarray(i, i + 64 * 1024));
          c.close();
        },
      });
      const r = await fetch(`http://127.0.0.1:${http.port}/ingest/big`, { method: 'POST', body: stream, duplex: 'half' }).then(
        (x) => String(x.status),
        (e: Error & { cause?: { code?: string } }) => `error ${e.cause?.code ?? e.message}`,
      );
      expect(r, `streamed upload #${k}`).toBe('413');
    }
    expect(await countSubject(jsm, 'RAW', subjects.raw('big'))).toBe(0);
    // The server is still healthy afterwards, and a body just under the limit goes through, chunked too.
    const ok = await send('/ingest/big', { body: body.subarray(0, body.indexOf('\n', MAX_BODY - 2 * line.length) + 1), chunked: true });
    expect(ok.status).toBe(202);
  });

  it('answers 404 for a wrong path or an unconfigured source and 405 for GET', async () => {
    for (const path of ['/', '/ingest', '/ingest/', '/ingest/a/b', '/other/acked', '/ingest/has.dot']) {
      expect((await send(path, { body: '{"a":1}' })).status, path).toBe(404);
    }
    const unknown = await send('/ingest/nope', { body: '{"a":1}' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown source "nope"/);
    expect((await send('/ingest/acked', { method: 'GET' })).status).toBe(405);
    expect((await send('/ingest/acked', { method: 'PUT', body: '{"a":1}' })).status).toBe(405);
    expect(await countSubject(jsm, 'RAW', subjects.raw('nope'))).toBe(0);
  });

  it('accepts Content-Encoding: gzip bodies (NDJSON and documents)', async () => {
    const recs = records(300, 'gz');
    const lines = recs.map((r) => JSON.stringify(r));
    const a = await ingest('gz', gzipSync(lines.slice(0, 200).join('\n') + '\n'), { 'content-encoding': 'gzip' });
    expect(a.status).toBe(202);
    expect(a.body.accepted).toBe(200);
    const b = await ingest('gz', gzipSync(JSON.stringify({ records: recs.slice(200) })), { 'content-encoding': 'GZIP' });
    expect(b.status).toBe(202);
    expect(b.body.accepted).toBe(100);
    expect((await stored('gz')).flatMap((e) => e.lines)).toEqual(lines);
    const broken = await ingest('gz', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/invalid gzip/);
  });

  it('refuses a gzip bomb without inflating it all', async () => {
    // 50 MB of zeros → ~50 KB on the wire, well under maxBodyBytes; inflating stops at the output limit.
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const before = process.memoryUsage().arrayBuffers;
    const res = await ingest('bomb', bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/limit/);
    // Nothing near 50 MB was held at once (the reply is sent while any partial output is still referenced).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(40 * 1024 * 1024);
    expect(await countSubject(jsm, 'RAW', subjects.raw('bomb'))).toBe(0);
  });

  it('stores a retried body with the same Idempotency-Key once; without the header twice', async () => {
    const body = records(200, 'idem').map((r) => JSON.stringify(r)).join('\n') + '\n';
    const first = await ingest('idem', body, { 'idempotency-key': 'order-42_retry' });
    const again = await ingest('idem', body, { 'idempotency-key': 'order-42_retry' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.requestId).toBe(first.body.requestId);
    expect(first.body.batches).toBeGreaterThan(1);
    const once = await stored('idem');
    expect(once.length).toBe(first.body.batches);
    expect(once.reduce((s, e) => s + Number(e.headers[H.count]), 0)).toBe(200);

    const x = await ingest('noidem', body);
    const y = await ingest('noidem', body);
    expect([x.status, y.status]).toEqual([202, 202]);
    expect(y.body.requestId).not.toBe(x.body.requestId);
    const twice = await stored('noidem');
    expect(twice.length).toBe((x.body.batches ?? 0) + (y.body.batches ?? 0));
    expect(twice.reduce((s, e) => s + Number(e.headers[H.count]), 0)).toBe(400);
  });
});

describe('HttpSource with a bearer token', () => {
  const TOKEN = 'tok-9f2c1e7a5b3d4c6e8a0b';
  let secured: HttpSource;
  const logs: string[] = [];
  const metrics = createMetrics('collector');

  beforeAll(async () => {
    const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) }) as Logger;
    secured = new HttpSource({ host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY, maxDecompressedBytes: 256 * 1024, maxBatchBytes: MAX_BATCH, sources: [], token: TOKEN }, jetstream(nc), log, metrics);
    await secured.start();
  });
  afterAll(async () => {
    await secured?.stop();
  });

  const post = (source: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${secured.port}/ingest/${source}`, { method: 'POST', body, headers }).then(async (r) => ({ status: r.status, www: r.headers.get('www-authenticate'), body: (await r.json()) as Reply['body'] }));

  it('answers 401 without a bearer token, 403 with a wrong one, 202 with the right one', async () => {
    const body = records(3, 'auth').map((r) => JSON.stringify(r)).join('\n');
    const none = await post('authz', body);
    expect(none.status).toBe(401);
    expect(none.www).toMatch(/^Bearer/);
    expect((await post('authz', body, { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    const wrong = await post('authz', body, { authorization: 'Bearer tok-wrong-wrong-wrong' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toBe('invalid token');
    expect((await post('authz', body, { authorization: `Bearer ${TOKEN}x` })).status).toBe(403);
    // Refusals come before the path is looked at: no information about sources without a token.
    expect((await post('no/such/path', body)).status).toBe(401);
    expect(await countSubject(jsm, 'RAW', subjects.raw('authz'))).toBe(0);
    const ok = await post('authz', body, { authorization: `bearer ${TOKEN}` });
    expect(ok.status).toBe(202);
    expect(ok.body.accepted).toBe(3);
    expect((await stored('authz')).flatMap((e) => e.lines)).toEqual(body.split('\n'));
    const errs = (await metrics.errors.get()).values;
    expect(errs.find((v) => v.labels.kind === 'http_unauthenticated')?.value).toBe(3);
    expect(errs.find((v) => v.labels.kind === 'http_forbidden')?.value).toBe(2);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('refuses a gzip body inflating beyond maxDecompressedBytes with 413 and counts it', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    const res = await post('authbomb', bomb, { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/inflates beyond the limit of 262144 bytes/);
    expect((await metrics.errors.get()).values.find((v) => v.labels.kind === 'gzip_bomb')?.value).toBe(1);
    const small = gzipSync(records(2, 'ok').map((r) => JSON.stringify(r)).join('\n'));
    expect((await post('authbomb', small, { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip' })).status).toBe(202);
  });
});
