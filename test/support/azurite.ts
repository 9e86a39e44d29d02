// Starts a real Azurite Blob service (npm dev dependency `azurite`) on a free loopback port with a temporary
// store, for tests. Uses Azurite's well-known development account.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { freePort, stopChild } from '../../cli/natsProcess.ts';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's public, documented development key (not a secret). */
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** Blob service endpoint including the account, e.g. http://127.0.0.1:12345/devstoreaccount1 */
  endpoint: string;
  connectionString: string;
  accountName: string;
  accountKey: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The azurite-blob launcher, or null when the npm package is not installed. */
export function findAzurite(): string | null {
  const bin = join(repoRoot, 'node_modules', '.bin', 'azurite-blob');
  return existsSync(bin) ? bin : null;
}

/** A self-signed certificate for 127.0.0.1 (openssl), for HTTPS test servers; files live in `dir`. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/**
 * Starts Azurite; `container`, when given, is created so tests can use it at once (not with `oauth`, where the
 * caller creates it with its token). `oauth` serves HTTPS with a self-signed certificate and accepts bearer tokens
 * (`--oauth basic`: issuer, audience and lifetime checked, signature not).
 */
export async function startAzurite(opts: { container?: string; oauth?: boolean } = {}): Promise<AzuriteHandle & { cert?: string }> {
  const bin = findAzurite();
  if (!bin) throw new Error('azurite not found: run `npm install` at the repository root (dev dependency "azurite")');
  const location = mkdtempSync(join(tmpdir(), 'sluice-azurite-'));
  const port = await freePort();
  const args = ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', location, '--skipApiVersionCheck', '--loose', '--disableTelemetry'];
  const tls = opts.oauth ? selfSignedCert(location) : undefined;
  if (tls) args.push('--oauth', 'basic', '--cert', tls.cert, '--key', tls.key);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const deadline = Date.now() + 30_000;
  while (!/successfully listens/.test(log)) {
    if (child.exitCode !== null) throw new Error(`azurite exited (${child.exitCode}): ${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`azurite not ready after 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=${tls ? 'https' : 'http'};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`;
  if (opts.container && !tls) await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(opts.container).create();
  return {
    endpoint,
    connectionString,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    cert: tls?.cert,
    process: child,
    async stop() {
      await stopChild(child, 'SIGTERM', 10_000);
      rmSync(location, { recursive: true, force: true });
    },
  };
}
