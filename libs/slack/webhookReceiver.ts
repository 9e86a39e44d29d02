// A local stand-in for a Slack incoming webhook, for tests and the demo.
// Speaks Slack's contract: 200 `ok`, 400/404/405 with Slack's error strings, and 429 + Retry-After on request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateWebhookPayload } from './webhookValidation.ts';

export interface ReceivedPost {
  received: Date;
  body: unknown;
}

export interface WebhookReceiverOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Answer every Nth request with 429 and Retry-After: 1, to exercise client rate-limit handling. */
  rateLimitEvery?: number;
  /**
   * Answers for the next requests, consumed in order before normal handling: Slack's documented failures
   * (429 rate_limited with Retry-After, 500 rollup_error, 4xx codes) or `hang` (no answer, connection dropped after
   * `hangMs`: a timeout). The post is not recorded.
   */
  script?: ScriptedAnswer[];
  /** Called for each accepted post before the 200 is sent, so a persisted post is never acknowledged unsaved. */
  onPost?: (post: ReceivedPost) => void;
}

/** Slack's incoming-webhook error answers (status and body as Slack documents them). */
export const SLACK_ERRORS = {
  rate_limited: 429,
  rollup_error: 500,
  invalid_payload: 400,
  user_not_found: 400,
  too_many_attachments: 400,
  action_prohibited: 403,
  posting_to_general_channel_denied: 403,
  invalid_token: 403,
  team_disabled: 403,
  channel_not_found: 404,
  no_service: 404,
  channel_is_archived: 410,
} as const;

export type ScriptedAnswer = keyof typeof SLACK_ERRORS | { error: 'rate_limited'; retryAfterSeconds: number } | { hang: number };

export interface WebhookReceiver {
  url: string;
  posts: ReceivedPost[];
  /** Requests received (including refused ones), with the time each arrived. */
  requests: Date[];
  /** Scripted answers still to come; push more at any time. */
  script: ScriptedAnswer[];
  close(): Promise<void>;
}

// Same shape as a real hook (/services/T…/B…/secret), so URL handling code is exercised as in production.
const HOOK_PATH = '/services/T00000000/B00000000/sluicelocalhook';
// Slack caps message payloads well under this; it only guards the test process's memory.
const MAX_BODY_BYTES = 1 << 20;

export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { port = 0, host = '127.0.0.1', rateLimitEvery, onPost } = opts;
  const script = [...(opts.script ?? [])];
  const requestTimes: Date[] = [];
  if (rateLimitEvery !== undefined && (!Number.isInteger(rateLimitEvery) || rateLimitEvery < 1)) {
    throw new RangeError(`rateLimitEvery must be a positive integer, got ${rateLimitEvery}`);
  }
  const posts: ReceivedPost[] = [];
  let requests = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, 'rollup_error', String(err)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== HOOK_PATH) return reply(res, 404, 'no_service');
    if (req.method !== 'POST') return reply(res, 405, 'invalid_method');
    requests++;
    requestTimes.push(new Date());
    const scripted = script.shift();
    if (scripted !== undefined) {
      if (typeof scripted === 'object' && 'hang' in scripted) {
        await new Promise((r) => setTimeout(r, scripted.hang));
        return void res.destroy();
      }
      const code = typeof scripted === 'string' ? scripted : scripted.error;
      if (code === 'rate_limited') res.setHeader('retry-after', String(typeof scripted === 'object' ? scripted.retryAfterSeconds : 1));
      return reply(res, SLACK_ERRORS[code], code);
    }
    if (rateLimitEvery !== undefined && requests % rateLimitEvery === 0) {
      res.setHeader('retry-after', '1');
      return reply(res, 429, 'rate_limited');
    }
    if (raw === null) return reply(res, 400, 'invalid_payload');
    const body = parseBody(raw, req.headers['content-type']);
    const error = validateWebhookPayload(body);
    if (error !== null) return reply(res, 400, error);
    const post = { received: new Date(), body };
    posts.push(post);
    onPost?.(post);
    reply(res, 200, 'ok');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${addr.port}${HOOK_PATH}`,
    posts,
    requests: requestTimes,
    script,
    // Idempotent, so test teardown can close a receiver the test already closed.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps sockets alive; without this close() waits for their idle timeout.
        server.closeAllConnections();
      })),
  };
}

/** Slack accepts JSON, or a form field `payload` holding JSON; anything unparseable is `invalid_payload`. */
function parseBody(raw: string, contentType: string | undefined): unknown {
  try {
    if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(raw).get('payload');
      return payload === null ? undefined : JSON.parse(payload);
    }
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Whole body as UTF-8, or null when it exceeds MAX_BODY_BYTES (the rest is drained and dropped). */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buf);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: string, log?: string): void {
  if (log !== undefined) console.error(`webhook receiver: ${log}`);
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}
