// Delivers one payload to a Slack incoming webhook, following Slack's status-code contract.
// 2xx → posted; 429 → wait Retry-After and retry; 5xx/network → backoff and retry, then throw; other 4xx → rejected.

export type PostResult = { outcome: 'posted' } | { outcome: 'rejected'; status: number; body: string };

export interface PostOptions {
  /** Per-attempt limit on connect + response, default 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt for 5xx and network errors (429s are not counted), default 3. */
  maxRetries?: number;
  /** Cap on the sum of Retry-After waits for one delivery, default 60 s; past it we throw so the caller can requeue. */
  maxRateLimitWaitMs?: number;
  signal?: AbortSignal;
  /** Injected in tests to skip real waits; the default sleep is also cut short by `signal`. */
  sleep?: (ms: number) => Promise<void>;
  /** Told about each 429 before its wait, so a caller's rate limiter can slow down the webhook's other posts. */
  onRateLimited?: (waitMs: number) => void;
}

/** Delivery failed for a reason that may pass (network, 5xx, sustained rate limiting): requeue, don't dead-letter. */
export class RetryableDeliveryError extends Error {
  override readonly name = 'RetryableDeliveryError';
  readonly attempts: number;
  /** Last HTTP status, absent when the last attempt failed before a response. */
  readonly status: number | undefined;
  /** Slack's requested wait when we gave up because of rate limiting. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, info: { attempts: number; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: info.cause });
    this.attempts = info.attempts;
    this.status = info.status;
    this.retryAfterMs = info.retryAfterMs;
  }
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
// Slack always sends whole seconds ≥ 1; flooring absent/zero values keeps a misbehaving server from spinning us.
const MIN_RATE_LIMIT_WAIT_MS = 1000;

export async function postToSlack(url: string, payload: object, opts: PostOptions = {}): Promise<PostResult> {
  const { timeoutMs = 10_000, maxRetries = 3, maxRateLimitWaitMs = 60_000, signal } = opts;
  const sleep = opts.sleep ?? ((ms: number) => abortableSleep(ms, signal));
  new URL(url); // a malformed URL is a configuration error: throw now instead of "retrying" it
  const body = JSON.stringify(payload);
  let attempts = 0;
  let failures = 0;
  let rateLimitedMs = 0;

  for (;;) {
    signal?.throwIfAborted();
    attempts++;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const attemptSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: attemptSignal,
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      // Read the body under the same timeout: it is the error code for 4xx and frees the socket either way.
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      failures++;
      if (failures > maxRetries) {
        throw new RetryableDeliveryError(`Slack webhook unreachable after ${attempts} attempts: ${describe(err)}`, { attempts, cause: err });
      }
      await sleep(backoffMs(failures));
      continue;
    }

    if (status >= 200 && status < 300) return { outcome: 'posted' };
    if (status === 429) {
      const waitMs = Math.max(MIN_RATE_LIMIT_WAIT_MS, parseRetryAfter(retryAfter) ?? 0);
      if (rateLimitedMs + waitMs > maxRateLimitWaitMs) {
        throw new RetryableDeliveryError(`Slack webhook still rate limited after waiting ${rateLimitedMs} ms`, {
          attempts,
          status,
          retryAfterMs: waitMs,
        });
      }
      rateLimitedMs += waitMs;
      opts.onRateLimited?.(waitMs);
      await sleep(waitMs);
      continue;
    }
    if (status >= 500) {
      failures++;
      if (failures > maxRetries) {
        throw new RetryableDeliveryError(`Slack webhook answered ${status} ${text.slice(0, 200)} after ${attempts} attempts`, { attempts, status });
      }
      await sleep(backoffMs(failures));
      continue;
    }
    // 400 invalid_payload/no_text, 403 action_prohibited, 404 channel_not_found/no_service, 410 channel_is_archived, …:
    // retrying cannot help, the caller dead-letters.
    return { outcome: 'rejected', status, body: text };
  }
}

/** Retry-After is delay-seconds (what Slack sends) or an HTTP date; returns ms, or undefined when unparseable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with "equal jitter": at least half the step, so retries never collapse to zero delay. */
export function backoffMs(failure: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failure - 1));
  return step / 2 + random() * (step / 2);
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici wraps the real reason (ECONNREFUSED, …) in `cause` behind a generic "fetch failed".
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
