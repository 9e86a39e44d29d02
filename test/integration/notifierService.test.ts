// Two real notifier processes (replicas sharing the durable consumers, as deployed) from one YAML config: Slack and
// Event Hubs HTTPS each on their own consumer, so a slow Slack does not hold back Event Hubs; one replica is stopped
// mid-stream (SIGTERM) and every alert still reaches each destination exactly once; a replica killed (SIGKILL)
// inside an aggregation window loses nothing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebhookReceiver, type WebhookReceiver } from '@sluice/slack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEventHub, type LocalEventHub } from '@sluice/eventhubs';
import { freePort } from '../support/natsServer.ts';
import { alert, pending, postedIds, publish, startHarness, until, type Harness } from './notifierHarness.ts';

const REPO_ROOT = new URL('../..', import.meta.url).pathname;
let h: Harness;
let work: string;
let receiver: WebhookReceiver;
let hub: LocalEventHub;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'sluice-notifier-svc-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { stdio: 'ignore' });
  hub = await startLocalEventHub({ cert: readFileSync(join(work, 'cert.pem'), 'utf8'), key: readFileSync(join(work, 'key.pem'), 'utf8'), host: 'sluice-test.servicebus.windows.net', keys: [{ keyName: 'send', key: 'c2VuZC1rZXk=' }] });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await receiver?.close();
  await hub?.close();
  await h?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function replica(name: string, slackExtra = ''): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(
    file,
    `
nats: { url: ${h.server.url} }
http: { host: 127.0.0.1, port: ${await freePort()} }
log: { level: warn }
consumer: { ackWaitSeconds: 5, backoffSeconds: [0.2] }
notifier:
  claimLeaseSeconds: 10
  slack: { webhookUrl: ${receiver.url}, ratePerSecond: 2${slackExtra} }
  eventhubs:
    https:
      connectionString: "Endpoint=sb://sluice-test.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VuZC1rZXk=;EntityPath=alerts"
      endpoint: ${hub.endpoint}
      caFile: ${join(work, 'cert.pem')}
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/notifier/main.ts', '--config', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

describe('notifier service, two replicas', () => {
  it('delivers every alert once per destination; Event Hubs is not held back by a slow Slack; a replica stops cleanly', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    await until(async () => (await Promise.all(['notifier-slack', 'notifier-eventhubs-https'].map((d) => pending(h, d).then(() => true, () => false)))).every(Boolean), 'both consumers', 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${a.output()}\n${b.output()}`);
    });
    const ids = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
    const msgs = ids.map((id) => [alert(id)]);
    await publish(h, 'svc', [...msgs, ...msgs]);

    await until(() => hub.events.length >= 20, 'all alerts on Event Hubs', 30_000);
    // Slack is paced at 2 messages/s per replica: still busy when Event Hubs has everything.
    expect(receiver.posts.length).toBeLessThan(20);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    await until(() => receiver.posts.length >= 20, 'all alerts on Slack', 60_000);
    await until(async () => (await pending(h, 'notifier-slack')).join() === '0,0' && (await pending(h, 'notifier-eventhubs-https')).join() === '0,0', 'all acked', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(postedIds(receiver).flat().sort()).toEqual([...ids].sort());
    expect(hub.events.map((e) => e.partitionKey).sort()).toEqual([...ids].sort());
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(a.output() + b.output()).not.toMatch(/"level":(50|60)/);
  });

  it('a replica killed (SIGKILL) inside an aggregation window loses nothing: the other replica posts the group once', async () => {
    const from = receiver.posts.length;
    const a = await replica('killed', ', aggregateWindowSeconds: 4');
    await until(async () => (await pending(h, 'notifier-slack')).join() === '0,0', 'consumer ready', 60_000);
    const ids = Array.from({ length: 6 }, (_, i) => `win-${i}`);
    await publish(h, 'svc', ids.map((id) => [alert(id, { entity: 'ws-window', rule: 'ssh_bruteforce' })]));
    await until(async () => (await pending(h, 'notifier-slack'))[1] === 6, 'the window holding all six', 30_000);
    a.child.kill('SIGKILL');
    await a.exited;
    expect(receiver.posts.length).toBe(from);
    const b = await replica('survivor', ', aggregateWindowSeconds: 4');
    // Redelivered after ack_wait (5 s), aggregated again by the survivor.
    await until(() => postedIds(receiver, from).flat().length >= 6, 'the group from the survivor', 60_000);
    await until(async () => (await pending(h, 'notifier-slack')).join() === '0,0', 'acked', 30_000);
    expect(postedIds(receiver, from).flat().sort()).toEqual(ids);
    expect(receiver.posts.length - from).toBeLessThanOrEqual(2);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
