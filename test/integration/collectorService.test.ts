// The collector as a process (services/collector/main.ts) against a real nats-server: one config with every input
// kind — directory, object store (file://), syslog UDP and TCP, HTTP with a bearer token from the environment —
// delivers into RAW, the family header follows `family`, and SIGTERM stops it cleanly. Bad configurations exit 2
// with a message naming the key, before listening anywhere.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H, rawPartitionOf, subjects } from '@sluice/runtime';
import { freePort, startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { readSubject, until } from '../support/rawStream.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'svc-token-0123456789abcdef';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let work: string;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  work = mkdtempSync(join(tmpdir(), 'sluice-collector-svc-'));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(config: string, env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const file = join(work, `cfg-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, config);
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/collector/main.ts', '--config', file], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

const RAW_PARTITIONS = 3;

/** RAW envelopes of a source over all its partitions; none while the service has not provisioned the stream yet. */
async function envelopes(source: string) {
  const out = [];
  for (let p = 0; p < RAW_PARTITIONS; p++) out.push(...(await readSubject(jsm, 'RAW', subjects.raw(source, p)).catch(() => [])));
  return out;
}
const lines = async (source: string) => (await envelopes(source)).flatMap((e) => e.lines);

describe('collector service', () => {
  it('runs every input kind from one config and stops cleanly on SIGTERM', async () => {
    const dir = join(work, 'dir');
    const bucket = join(work, 'bucket', 'AWSLogs');
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(bucket, '2026', '11', '22'), { recursive: true });
    const past = new Date(Date.now() - 60_000);
    writeFileSync(join(dir, 'a.ndjson'), '{"d":1}\n{"d":2}\n');
    utimesSync(join(dir, 'a.ndjson'), past, past);
    writeFileSync(join(bucket, '2026', '11', '22', 'x.json'), JSON.stringify({ Records: [{ o: 1 }, { o: 2 }, { o: 3 }] }));
    const [httpPort, udpPort, tcpPort, healthPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const svc = run(
      `
nats: { url: ${server.url} }
http: { host: 127.0.0.1, port: ${healthPort} }
streams: { rawPartitions: ${RAW_PARTITIONS} }
collector:
  directories: [{ source: svc-dir, path: ${dir}, pollSeconds: 0.2 }]
  objectStores: [{ source: svc-obj, url: "file://${bucket}", pollSeconds: 0.2 }]
  syslog: [{ source: svc-syslog, family: defender, udp: { port: ${udpPort} }, tcp: { port: ${tcpPort} }, batchMillis: 50 }]
  http: { enabled: true, port: ${httpPort}, families: { svc-edr: defender } }
`,
      { SLUICE__COLLECTOR__HTTP__TOKEN: TOKEN },
    );
    try {
      await until(async () => (await lines('svc-dir')).length === 2 && (await lines('svc-obj')).length === 3, 60_000, 'directory and object store records');
      await until(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${httpPort}/ingest/svc-http`, { method: 'POST', body: '{"h":0}', headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status === 403;
        } catch {
          return false;
        }
      }, 30_000, 'the HTTP listener');
      const post = (source: string) => fetch(`http://127.0.0.1:${httpPort}/ingest/${source}`, { method: 'POST', body: '{"h":1}\n{"h":2}', headers: { authorization: `Bearer ${TOKEN}` } });
      expect((await post('svc-http')).status).toBe(202);
      expect((await post('svc-edr')).status).toBe(202);
      const udp = createSocket('udp4');
      await new Promise<void>((r, j) => udp.send('<13>Nov 22 10:00:00 host app: over udp', udpPort, '127.0.0.1', (e) => (e ? j(e) : r())));
      udp.close();
      const tcp = tcpConnect(tcpPort, '127.0.0.1');
      const m = '<13>Nov 22 10:00:01 h a: tcp';
      tcp.end(`${Buffer.byteLength(m)} ${m}`);
      await until(async () => (await lines('svc-syslog')).length === 2, 30_000, 'syslog records');
      expect((await lines('svc-syslog')).sort()).toEqual(['<13>Nov 22 10:00:00 host app: over udp', '<13>Nov 22 10:00:01 h a: tcp']);
      expect(await lines('svc-dir')).toEqual(['{"d":1}', '{"d":2}']);
      expect(await lines('svc-obj')).toEqual(['{"o":1}', '{"o":2}', '{"o":3}']);
      expect(await lines('svc-http')).toEqual(['{"h":1}', '{"h":2}']);
      const fam = async (s: string) => (await envelopes(s)).map((e) => e.headers[H.family]);
      expect(await fam('svc-syslog')).toEqual(expect.arrayContaining(['defender']));
      expect(await fam('svc-edr')).toEqual(['defender']);
      expect(await fam('svc-http')).toEqual([undefined]);
      // Each object's batches go to the raw partition its lineage hashes to.
      const objects = (await envelopes('svc-obj')).map((e) => [e.subject, e.headers[H.object]]);
      expect(objects).toEqual([[subjects.raw('svc-obj', rawPartitionOf('2026/11/22/x.json', RAW_PARTITIONS)), '2026/11/22/x.json']]);
      for (const e of await envelopes('svc-syslog')) expect(e.subject).toBe(subjects.raw('svc-syslog', rawPartitionOf(e.headers[H.object]!, RAW_PARTITIONS)));
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      expect(metrics).toMatch(/sluice_collector_records_total\{source="svc-obj",stage="collector"\} 3/);
      expect(metrics).toMatch(/sluice_collector_dropped_total/);
    } finally {
      svc.child.kill('SIGTERM');
    }
    expect(await svc.exited).toBe(0);
    expect(svc.output()).not.toContain(TOKEN);
  });

  it('refuses to start with exit code 2 and a clear message on bad configuration', async () => {
    const cases: [string, RegExp][] = [
      [`collector: { http: { enabled: true, host: 0.0.0.0, port: 0 } }`, /collector\.http\.host is 0\.0\.0\.0, beyond loopback: a bearer token is required/],
      [`collector: { directories: [{ source: a, path: /tmp, family: nosuchfamily }] }`, /collector\.directories\[0\]\.family: unknown source family "nosuchfamily"/],
      [`collector: { syslog: [{ source: s }] }`, /collector\.syslog\[0\]: set udp and\/or tcp/],
      [`collector: { objectStores: [{ source: o, url: "s3://b", pollSecs: 3 }] }`, /collector\.objectStores\.0\.pollSecs: unknown key/],
      [`collector: { directories: [{ source: same, path: /tmp }], objectStores: [{ source: same, url: "file:///tmp" }] }`, /source "same" is already used by collector\.directories\[0\]/],
    ];
    for (const [yaml, want] of cases) {
      const svc = run(`nats: { url: ${server.url} }\nhttp: { host: 127.0.0.1, port: 0 }\n${yaml}\n`);
      expect(await svc.exited, svc.output()).toBe(2);
      expect(svc.output()).toMatch(want);
    }
  });
});
