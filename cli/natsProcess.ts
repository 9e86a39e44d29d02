// Runs a local nats-server with JetStream for `sluice dev` / `sluice demo` (store in the work folder).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findNatsServer } from './natsBinary.ts';

export interface LocalNats {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** kill -9 (no flush, like a power cut of the process) and start again on the same store folder. */
  crash(): Promise<void>;
}

export interface LocalNatsOptions {
  /**
   * JetStream `sync_interval: always`: fsync every write before acknowledging it (nats-server ≥ 2.10; the default
   * syncs every 2 min, so acknowledged writes can be lost on an OS crash or power cut).
   */
  syncAlways?: boolean;
}

/** Ports handed out by this process: a port is given once, since its child may not have bound it yet. */
const given = new Set<number>();

/** The lowest port of the kernel's ephemeral range (Linux default 32768). */
function ephemeralLow(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) && lo > 11000 ? lo : 32768;
  } catch {
    return 32768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a process started next. Drawn below the kernel's ephemeral range: `listen(0)`
 * returns a port from that range, which every outgoing connection (health checks, NATS clients) also draws from,
 * so one of them could take the port before the child binds it (seen as EADDRINUSE on a busy machine).
 */
export async function freePort(): Promise<number> {
  const lo = 10_000;
  const hi = Math.min(ephemeralLow(), 32_768);
  for (let i = 0; i < 100; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (given.has(port) || !(await canBind(port))) continue;
    given.add(port);
    return port;
  }
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startLocalNats(workDir: string, port?: number, opts: LocalNatsOptions = {}): Promise<LocalNats> {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server not found. Install it (Debian: apt-get install nats-server; or go install github.com/nats-io/nats-server/v2@latest) or set NATS_SERVER_BIN.');
  const p = port ?? (await freePort());
  const storeDir = join(workDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const args = ['-js', '-a', '127.0.0.1', '-p', String(p), '-sd', storeDir];
  if (opts.syncAlways) {
    const conf = join(workDir, 'nats-server.conf');
    // The store folder stays on the command line (-sd): nats-server refuses it in both places.
    writeFileSync(conf, 'jetstream {\n  sync_interval: always\n}\n');
    args.push('-c', conf);
  }
  // A restart recovers the JetStream store first, which takes longer than a fresh start when it holds gigabytes.
  const launch = async (readyWithinMs = 15_000) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    const deadline = Date.now() + readyWithinMs;
    while (!/Server is ready/.test(log)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited (${child.exitCode ?? child.signalCode}): ${log}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nats-server not ready after ${readyWithinMs / 1000} s: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return child;
  };
  const handle: LocalNats = {
    url: `nats://127.0.0.1:${p}`,
    port: p,
    process: await launch(),
    stop: () => stopChild(handle.process),
    async restart() {
      await stopChild(handle.process);
      handle.process = await launch(120_000);
    },
    async crash() {
      await stopChild(handle.process, 'SIGKILL');
      handle.process = await launch(120_000);
    },
  };
  return handle;
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}
