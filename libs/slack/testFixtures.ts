// Sample alerts and a tiny scripted HTTP server shared by this package's tests.
// Not exported from index.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Alert } from './alert.ts';

export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    alert_id: 'al-0001',
    rule: 'ssh_bruteforce',
    severity: 'high',
    title: 'SSH brute force against bastion',
    entity: '203.0.113.7',
    event_time: '2024-05-01T12:00:00.000Z',
    created_time: '2024-05-01T12:00:05.000Z',
    detail: { failures: 42, window_s: 60, user: 'root', geo_known: false, asn: null },
    evidence: [
      { table: 'auth_events', source: 'sshd', object: 'raw/2024/05/01/sshd-0001.log.gz', raw_seq: 1234 },
      { table: 'auth_events', source: 'sshd', object: 'raw/2024/05/01/sshd-0001.log.gz', raw_seq: null },
    ],
    next_query: "SELECT * FROM auth_events WHERE src_ip = '203.0.113.7' ORDER BY event_time",
    ...over,
  };
}

export interface ScriptedServer {
  url: string;
  requests: { at: number; body: string }[];
  close(): Promise<void>;
}

/** HTTP server whose n-th request (0-based) is answered by `respond(n, req, res)`. */
export async function scriptedServer(
  respond: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<ScriptedServer> {
  const requests: { at: number; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ at: Date.now(), body: Buffer.concat(chunks).toString('utf8') });
      respond(requests.length - 1, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T/B/x`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
