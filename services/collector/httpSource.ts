// HTTP source: POST /ingest/<source> with NDJSON or a JSON document (gzip allowed). Answers 202 only after JetStream
// stored every batch; 400 names the first unparsable record; 413 over the size limit (or a body that inflates
// beyond maxDecompressedBytes); 401 without a bearer token and 403 with a wrong one when a token is configured.
import type { JetStreamClient } from '@nats-io/jetstream';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { firstInvalidJson, frameRecords } from '@sluice/formats';
import { token, type Logger, type Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { publishFramed } from './publishFramed.ts';

export interface HttpSourceConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxBatchBytes: number;
  /** Sources accepted in the path; empty = any. */
  sources: string[];
  /** A gzip body inflating beyond this is refused with 413; default 10 × maxBodyBytes. */
  maxDecompressedBytes?: number;
  /** Bearer token every request must carry; none = no authentication (loopback only, enforced by the service). */
  token?: string;
  /** Family of a source posted to (preamble lines and the Sluice-Family header); default none. */
  familyOf?: (source: string) => SourceFamily | undefined;
  /** `streams.rawPartitions` (default 1). */
  rawPartitions?: number;
}

export class HttpSource {
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly cfg: HttpSourceConfig,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.cfg.port, this.cfg.host, () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : this.cfg.port;
    this.log.info({ host: this.cfg.host, port: this.port }, 'HTTP source listening: POST /ingest/<source>');
  }

  async stop(): Promise<void> {
    // close() waits for in-flight requests: each answers only after its PubAcks.
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private authenticate(req: IncomingMessage): 401 | 403 | null {
    return checkBearer(req.headers.authorization, this.cfg.token!);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    try {
      if (this.cfg.token !== undefined) {
        const denied = this.authenticate(req);
        if (denied) {
          req.resume();
          this.metrics.errors.inc({ kind: denied === 401 ? 'http_unauthenticated' : 'http_forbidden' });
          if (denied === 401) res.setHeader('www-authenticate', 'Bearer realm="sluice"');
          return reply(denied, { error: denied === 401 ? 'missing bearer token: send Authorization: Bearer <token>' : 'invalid token' });
        }
      }
      const m = /^\/ingest\/([A-Za-z0-9_-]+)\/?$/.exec((req.url ?? '').split('?')[0] ?? '');
      if (!m) return reply(404, { error: 'not found: POST /ingest/<source>' });
      if (req.method !== 'POST') return reply(405, { error: 'method not allowed: use POST' });
      const source = token(m[1]!);
      if (this.cfg.sources.length > 0 && !this.cfg.sources.includes(source)) {
        return reply(404, { error: `unknown source "${source}"; configured: ${this.cfg.sources.join(', ')}` });
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > this.cfg.maxBodyBytes) {
        req.resume();
        return reply(413, { error: `body of ${declared} bytes exceeds the limit of ${this.cfg.maxBodyBytes}` });
      }
      let body = await readBody(req, this.cfg.maxBodyBytes);
      if (body === null) return reply(413, { error: `body exceeds the limit of ${this.cfg.maxBodyBytes} bytes` });
      const inflateLimit = this.cfg.maxDecompressedBytes ?? this.cfg.maxBodyBytes * 10;
      if (String(req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        try {
          // maxOutputLength refuses a decompression bomb instead of inflating it.
          body = gunzipSync(body, { maxOutputLength: inflateLimit });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
            this.metrics.errors.inc({ kind: 'gzip_bomb' });
            this.log.warn({ source, limit: inflateLimit }, 'gzip body inflates beyond maxDecompressedBytes; refused');
            return reply(413, { error: `body inflates beyond the limit of ${inflateLimit} bytes` });
          }
          return reply(400, { error: `invalid gzip body: ${(e as Error).message}` });
        }
      }
      const framed = frameRecords(body, 0, true);
      if (framed.records.length === 0) return reply(400, { error: 'empty body: send NDJSON or a JSON document' });
      const family = this.cfg.familyOf?.(source);
      // Lines must be JSON unless the source's family decodes its own text format (Zeek TSV, syslog, …).
      if (framed.framing === 'ndjson' && !family?.decode && !family?.isPreamble) {
        const bad = firstInvalidJson(framed.records);
        if (bad) return reply(400, { error: `record ${bad.index} is not valid JSON: ${bad.reason}` });
      }
      // A client retry with the same Idempotency-Key republishes the same ids: JetStream drops the duplicates.
      const key = String(req.headers['idempotency-key'] ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64);
      const requestId = key || randomUUID();
      const out = await publishFramed(this.js, this.metrics, { source, object: `http:${requestId}`, idPrefix: `http:${source}:${requestId}`, family, rawPartitions: this.cfg.rawPartitions }, framed, undefined, this.cfg.maxBatchBytes);
      if (out.oversized > 0) {
        return reply(413, { error: `${out.oversized} record(s) exceed the batch cap of ${this.cfg.maxBatchBytes} bytes`, accepted: out.records, requestId });
      }
      reply(202, { accepted: out.records, batches: out.batches, requestId });
    } catch (e) {
      this.metrics.errors.inc({ kind: 'http_source' });
      this.log.error({ err: (e as Error).message }, 'HTTP ingest failed');
      reply(503, { error: `not stored, retry: ${(e as Error).message}` });
    }
  }
}

/** 401 without a bearer token, 403 with a wrong one, null when it matches (compared in constant time). */
function checkBearer(header: string | undefined, want: string): 401 | 403 | null {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return 401;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(want)) ? null : 403;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  // Not `for await`: leaving that loop early destroys the request and its socket, so the 413 could be lost in a
  // connection reset. Over the limit the rest is drained and discarded, as for a declared Content-Length.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => (req.complete ? undefined : reject(new Error('request aborted before its end'))));
  });
}
