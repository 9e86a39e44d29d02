// A local stand-in for the Event Hubs HTTPS send endpoint, for tests: HTTPS with a given certificate, checks the
// SAS token exactly as Event Hubs does (signature, audience, expiry, key name) and answers 201, or 401 with the reason.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { verifySasToken, type SasKey } from './sasToken.ts';

export interface ReceivedEvent {
  hub: string;
  body: string;
  partitionKey?: string;
}

export interface LocalEventHub {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  events: ReceivedEvent[];
  /** Requests answered 401, with the reason. */
  unauthorized: string[];
  /** Statuses to answer the next requests with instead of handling them (e.g. 503), consumed in order. */
  script: number[];
  close(): Promise<void>;
}

export async function startLocalEventHub(opts: { cert: string; key: string; host: string; keys: SasKey[] }): Promise<LocalEventHub> {
  const events: ReceivedEvent[] = [];
  const unauthorized: string[] = [];
  const script: number[] = [];
  const server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body = ''): void => void res.writeHead(status, { 'content-type': 'application/xml; charset=utf-8' }).end(body);
      const m = /^\/([^/?]+)\/messages$/.exec(new URL(req.url ?? '/', 'https://x').pathname);
      if (req.method !== 'POST' || !m) return answer(404, '<Error><Code>404</Code></Error>');
      const hub = decodeURIComponent(m[1]!);
      const verdict = verifySasToken(req.headers.authorization, `https://${opts.host}/${hub}`, opts.keys);
      if (!verdict.ok) {
        unauthorized.push(verdict.reason);
        return answer(401, `<Error><Code>401</Code><Detail>${verdict.reason}</Detail></Error>`);
      }
      const scripted = script.shift();
      if (scripted !== undefined) return answer(scripted, `<Error><Code>${scripted}</Code></Error>`);
      const text = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('application/vnd.microsoft.servicebus.json')) {
        let batch: unknown;
        try {
          batch = JSON.parse(text);
        } catch {
          return answer(400, '<Error><Code>400</Code><Detail>batch is not JSON</Detail></Error>');
        }
        if (!Array.isArray(batch)) return answer(400, '<Error><Code>400</Code><Detail>batch is not an array</Detail></Error>');
        for (const e of batch as { Body?: unknown; BrokerProperties?: { PartitionKey?: string } }[]) {
          const pk = e.BrokerProperties?.PartitionKey;
          events.push({ hub, body: typeof e.Body === 'string' ? e.Body : JSON.stringify(e.Body), ...(pk !== undefined ? { partitionKey: pk } : {}) });
        }
      } else events.push({ hub, body: text });
      answer(201);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    events,
    unauthorized,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
