// The collector's listeners bind exactly the configured address: by default the HTTP source and both syslog
// listeners are on 127.0.0.1 (unreachable from another interface); configured on a non-loopback address they bind
// that address only (not 0.0.0.0). The sockets are read from `ss` for the process, and checked by connecting.
// The service's health/metrics endpoint binds http.host (default 0.0.0.0 for Kubernetes probes; set here).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cli/pipeline.ts';
import { freePort, startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

let server: NatsServerHandle;
const work = mkdtempSync(join(tmpdir(), 'sluice-listen-'));
const children: ChildProcess[] = [];
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The machine's first non-loopback IPv4 address (the test needs one to prove loopback-only binding). */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Local addresses (host:port) of the process's listening TCP and bound UDP sockets, from `ss`. */
function sockets(pid: number): string[] {
  const r = spawnSync('ss', ['-H', '-l', '-n', '-t', '-u', '-p'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[4]!)
    .sort();
}

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });

async function collector(yaml: string, env: Record<string, string> = {}): Promise<ChildProcess & { ready: Promise<void> }> {
  const file = join(work, `c${children.length}.yaml`);
  writeFileSync(file, yaml);
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services/collector/main.ts'), '--config', file], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const on = (d: Buffer) => {
      out += d.toString();
      if (/health and metrics listening/.test(out)) resolve();
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => reject(new Error(`collector exited ${code}: ${out}`)));
  });
  return Object.assign(child, { ready });
}

describe.skipIf(!external || spawnSync('ss', ['-V']).status !== 0)('collector listeners', () => {
  it('bind 127.0.0.1 by default: HTTP source and syslog UDP/TCP are not reachable on another interface', async () => {
    const [health, http, udp, tcp] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const c = await collector(`nats: { url: ${server.url} }
http: { host: 127.0.0.1, port: ${health} }
collector:
  syslog: [{ source: lb-syslog, udp: { port: ${udp} }, tcp: { port: ${tcp} } }]
  http: { enabled: true, port: ${http} }
`);
    await c.ready;
    expect(sockets(c.pid!)).toEqual([`127.0.0.1:${health}`, `127.0.0.1:${http}`, `127.0.0.1:${tcp}`, `127.0.0.1:${udp}`].sort());
    expect(await reachable('127.0.0.1', http)).toBe(true);
    expect(await reachable(external!, http)).toBe(false);
    expect(await reachable(external!, tcp)).toBe(false);
    c.kill('SIGTERM');
  });

  it('bind only the configured non-loopback address (not 0.0.0.0), and the HTTP source there needs its token', async () => {
    const [health, http, tcp] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(work, 'token'), 'listener-test-token-0123456789\n');
    const c = await collector(`nats: { url: ${server.url} }
http: { host: ${external}, port: ${health} }
collector:
  syslog: [{ source: lb-syslog2, tcp: { host: ${external}, port: ${tcp} } }]
  http: { enabled: true, host: ${external}, port: ${http}, tokenFile: ${join(work, 'token')} }
`);
    await c.ready;
    expect(sockets(c.pid!)).toEqual([`${external}:${health}`, `${external}:${http}`, `${external}:${tcp}`].sort());
    expect(await reachable('127.0.0.1', http)).toBe(false);
    expect((await fetch(`http://${external}:${http}/ingest/lb-http`, { method: 'POST', body: '{}' })).status).toBe(401);
    c.kill('SIGTERM');
  });
});
