// Starts a real nats-server with JetStream on a free loopback port and a temporary store, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from '../../cli/natsBinary.ts';

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Restart on the same port and store (a broker restart mid-test). */
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

export async function startNatsServer(opts: { storeDir?: string; port?: number } = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server not found: install it (apt-get install nats-server) or put it on PATH');
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const launch = async (): Promise<ChildProcess> => {
    const p = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port, p);
    return p;
  };
  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    process: await launch(),
    async stop() {
      await stopProcess(handle.process);
      if (!opts.storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await stopProcess(handle.process);
      handle.process = await launch();
    },
  };
  return handle;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

async function waitForPort(port: number, p: ChildProcess): Promise<void> {
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (p.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
    if (/Server is ready/.test(stderr)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not become ready on port ${port}: ${stderr}`);
}
