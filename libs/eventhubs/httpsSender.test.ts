// The HTTPS send API against the local stand-in over real TLS (self-signed certificate from openssl): 201 with a
// good SAS token, 401 with a bad one, 503 retryable; the batch body is what Event Hubs documents.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHubsHttpsSender, MAX_BATCH_BYTES, RetryableSendError, startLocalEventHub, type LocalEventHub } from './index.ts';

const host = 'sluice-test.servicebus.windows.net';
const key = { keyName: 'send', key: 'c2VuZC1rZXk=' };
let dir: string;
let hub: LocalEventHub;
let certFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-eh-'));
  certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  hub = await startLocalEventHub({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), host, keys: [key] });
});
afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sender = (sas = key) => new EventHubsHttpsSender({ host, hub: 'alerts', sas, endpoint: hub.endpoint, caFile: certFile });

describe('EventHubsHttpsSender', () => {
  it('sends a batch with a valid SAS token: 201, events with their partition keys', async () => {
    const before = hub.events.length;
    expect(await sender().send([{ body: '{"a":1}', partitionKey: 'k1' }, { body: '{"a":2}', partitionKey: 'k2' }])).toEqual({ outcome: 'sent' });
    expect(hub.events.slice(before)).toEqual([
      { hub: 'alerts', body: '{"a":1}', partitionKey: 'k1' },
      { hub: 'alerts', body: '{"a":2}', partitionKey: 'k2' },
    ]);
  });

  it('is refused with 401 when the signature was made with another key', async () => {
    const before = hub.events.length;
    const res = await sender({ keyName: 'send', key: 'd3Jvbmc=' }).send([{ body: 'x' }]);
    expect(res).toMatchObject({ outcome: 'rejected', status: 401 });
    expect(res.outcome === 'rejected' && res.body).toContain('signature mismatch');
    expect(hub.unauthorized.at(-1)).toBe('signature mismatch');
    expect(hub.events.length).toBe(before);
  });

  it('throws RetryableSendError on 503 and on an unreachable endpoint', async () => {
    hub.script.push(503);
    await expect(sender().send([{ body: 'x' }])).rejects.toMatchObject({ name: 'RetryableSendError', status: 503 });
    const dead = new EventHubsHttpsSender({ host, hub: 'alerts', sas: key, endpoint: 'https://127.0.0.1:1', timeoutMs: 500 });
    await expect(dead.send([{ body: 'x' }])).rejects.toBeInstanceOf(RetryableSendError);
  });

  it('rejects an untrusted certificate (TLS is verified)', async () => {
    const noCa = new EventHubsHttpsSender({ host, hub: 'alerts', sas: key, endpoint: hub.endpoint });
    await expect(noCa.send([{ body: 'x' }])).rejects.toThrow(/self.signed|certificate/i);
  });

  it('splits events into batches under 1 MB', () => {
    const big = 'x'.repeat(300_000);
    const batches = EventHubsHttpsSender.batches([1, 2, 3, 4, 5].map((i) => ({ body: big, partitionKey: String(i) })));
    expect(batches.map((b) => b.length)).toEqual([3, 2]);
    for (const b of batches) expect(Buffer.byteLength(JSON.stringify(b.map((e) => ({ Body: e.body }))))).toBeLessThan(MAX_BATCH_BYTES);
  });
});
