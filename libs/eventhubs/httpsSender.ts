// Event Hubs HTTPS send API: POST <hub>/messages with a SAS token; batches as application/vnd.microsoft.servicebus.json
// (a JSON array of {Body, BrokerProperties}). 201 → sent; 401/403/404/413/400 → rejected (retrying cannot help);
// 429/5xx/network/timeouts → RetryableSendError for the caller to retry with backoff.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSasToken, type SasKey } from './sasToken.ts';

export interface HttpsSenderOptions {
  /** `<ns>.servicebus.windows.net` */
  host: string;
  hub: string;
  sas: SasKey;
  /** Base URL requests go to instead of https://<host> (a local stand-in); the token still names the real resource. */
  endpoint?: string;
  /** Extra trusted CA certificate (PEM file), e.g. the local stand-in's self-signed one. */
  caFile?: string;
  /** Token lifetime, default 1 h; a fresh token is made when less than a quarter of it is left. */
  tokenTtlSeconds?: number;
  timeoutMs?: number;
}

export interface HubEvent {
  body: string;
  partitionKey?: string;
  properties?: Record<string, string>;
}

export type SendResult = { outcome: 'sent' } | { outcome: 'rejected'; status: number; body: string };

export class RetryableSendError extends Error {
  override readonly name = 'RetryableSendError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Event Hubs caps a batch at 1 MB; stay under it with room for the array framing. */
export const MAX_BATCH_BYTES = 1_000_000;

export class EventHubsHttpsSender {
  readonly resourceUri: string;
  private readonly url: URL;
  private readonly ca: string | undefined;
  private token: { value: string; expiry: number } | undefined;

  constructor(private readonly o: HttpsSenderOptions) {
    this.resourceUri = `https://${o.host}/${o.hub}`;
    const base = (o.endpoint ?? `https://${o.host}`).replace(/\/+$/, '');
    this.url = new URL(`${base}/${encodeURIComponent(o.hub)}/messages?timeout=60&api-version=2014-01`);
    this.ca = o.caFile ? readFileSync(o.caFile, 'utf8') : undefined;
  }

  private authorization(now = Math.floor(Date.now() / 1000)): string {
    const ttl = this.o.tokenTtlSeconds ?? 3600;
    if (!this.token || this.token.expiry - now < ttl / 4) {
      const expiry = now + ttl;
      this.token = { value: createSasToken(this.resourceUri, this.o.sas, expiry), expiry };
    }
    return this.token.value;
  }

  /** Splits `events` into batches under MAX_BATCH_BYTES (one event over it is sent alone and rejected by the hub). */
  static batches(events: HubEvent[]): HubEvent[][] {
    const out: HubEvent[][] = [];
    let cur: HubEvent[] = [];
    let size = 2;
    for (const e of events) {
      const n = Buffer.byteLength(JSON.stringify(wire(e))) + 1;
      if (cur.length > 0 && size + n > MAX_BATCH_BYTES) {
        out.push(cur);
        cur = [];
        size = 2;
      }
      cur.push(e);
      size += n;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /** Sends one batch (call `batches` first for large inputs). */
  async send(events: HubEvent[]): Promise<SendResult> {
    const body = JSON.stringify(events.map(wire));
    let status: number;
    let text: string;
    try {
      [status, text] = await this.post(body);
    } catch (e) {
      throw new RetryableSendError(`Event Hubs unreachable: ${(e as Error).message}`);
    }
    if (status === 201 || status === 200) return { outcome: 'sent' };
    if (status === 429 || status === 408 || status >= 500) throw new RetryableSendError(`Event Hubs answered ${status} ${text.slice(0, 200)}`, status);
    return { outcome: 'rejected', status, body: text.slice(0, 500) };
  }

  private post(body: string): Promise<[number, string]> {
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          headers: {
            authorization: this.authorization(),
            'content-type': 'application/vnd.microsoft.servicebus.json',
            'content-length': Buffer.byteLength(body),
          },
          ...(this.ca ? { ca: this.ca } : {}),
          timeout: this.o.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve([res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')]));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function wire(e: HubEvent): Record<string, unknown> {
  return {
    Body: e.body,
    ...(e.properties ? { UserProperties: e.properties } : {}),
    ...(e.partitionKey !== undefined ? { BrokerProperties: { PartitionKey: e.partitionKey } } : {}),
  };
}
