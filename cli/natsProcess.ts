// Runs a local nats-server with JetStream for `sluice dev` / `sluice demo` (store in the work folder).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findNatsServer } from './natsBinary.ts';

export interface LocalNats {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
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

export async function startLocalNats(workDir: string, port?: number): Promise<LocalNats> {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server not found. Install it (Debian: apt-get install nats-server; or go install github.com/nats-io/nats-server/v2@latest) or set NATS_SERVER_BIN.');
  const p = port ?? (await freePort());
  const storeDir = join(workDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const launch = async () => {
    const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(p), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    const deadline = Date.now() + 15_000;
    while (!/Server is ready/.test(log)) {
      if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`nats-server not ready after 15 s: ${log}`);
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
      handle.process = await launch();
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
