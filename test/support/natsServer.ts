// Starts a real nats-server with JetStream on a free loopback port and a temporary store, for tests.
// The same launcher as `sluice dev` (cli/natsProcess.ts), plus clean-up of the temporary store.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalNats } from '../../cli/natsProcess.ts';

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
