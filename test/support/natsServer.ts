// Starts a real nats-server with JetStream on a free loopback port and a temporary store, for tests.
// The same launcher as `sluice dev` (cli/natsProcess.ts), plus clean-up of the temporary store.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from '../../cli/natsBinary.ts';
import { freePort, startLocalNats, stopChild } from '../../cli/natsProcess.ts';

export { freePort } from '../../cli/natsProcess.ts';

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
  /** Restart on the same port and store (a broker restart mid-test). */
  restart(): Promise<void>;
}

export async function startNatsServer(opts: { storeDir?: string; port?: number } = {}): Promise<NatsServerHandle> {
  const workDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const nats = await startLocalNats(workDir, opts.port);
  return {
    url: nats.url,
    port: nats.port,
    storeDir: join(workDir, 'nats'),
    get process() {
      return nats.process;
    },
    async stop() {
      await nats.stop();
      if (!opts.storeDir) rmSync(workDir, { recursive: true, force: true });
    },
    restart: () => nats.restart(),
  };
}

export interface ConfiguredNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** nats-server's version line, e.g. `2.15.2`. */
  version: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts nats-server from a config file: `config` is the body (auth, tls, jetstream options…); `port`, `host`
 * (127.0.0.1) and `jetstream { store_dir }` (plus the `jetstream` option's fields, e.g. `sync_interval: always`) are
 * added unless `config` has its own `jetstream` block. For auth, TLS and durability tests. `bin` defaults to the same binary as startNatsServer.
 */
export async function startConfiguredNatsServer(opts: { config: string; bin?: string; port?: number; readyTimeoutMs?: number; jetstream?: string }): Promise<ConfiguredNatsServer> {
  const bin = opts.bin ?? findNatsServer();
  if (!bin) throw new Error('nats-server not found (set NATS_SERVER_BIN)');
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-natsconf-'));
  const storeDir = join(workDir, 'store');
  const port = opts.port ?? (await freePort());
  const conf = join(workDir, 'nats-server.conf');
  const js = /^\s*jetstream\s*[{:]/m.test(opts.config) ? '' : `jetstream { store_dir: ${JSON.stringify(storeDir)}${opts.jetstream ? `, ${opts.jetstream}` : ''} }\n`;
  writeFileSync(conf, `host: 127.0.0.1\nport: ${port}\n${js}${opts.config}\n`);
  const version = natsServerVersion(bin);
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-16000)));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  while (!/Server is ready/.test(log)) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server not ready: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    version,
    process: child,
    async stop() {
      await stopChild(child);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** The version of `bin` (default: the binary tests use), e.g. `2.9.10`. */
export function natsServerVersion(bin = findNatsServer()): string {
  if (!bin) throw new Error('nats-server not found (set NATS_SERVER_BIN)');
  return execFileSync(bin, ['--version']).toString().trim().replace(/^nats-server: v?/, '');
}

/** True when `version` (e.g. `2.10.4`) is at least major.minor.patch. */
export function versionAtLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const [a = 0, b = 0, c = 0] = version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}
