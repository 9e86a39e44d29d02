// Starts a real S3-compatible server for tests: MinIO (`minio server`), which implements conditional writes
// (PutObject with If-None-Match: *). Install it with scripts/install-s3-server.sh.
// The binary is found from $SLUICE_MINIO_BIN, then $(go env GOPATH)/bin/minio (~/go/bin/minio), then PATH.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, stopChild } from '../../cli/natsProcess.ts';

export interface S3ServerHandle {
  kind: 'minio';
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  readonly process: ChildProcess;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goBinDir(): string {
  try {
    const gobin = execFileSync('go', ['env', 'GOBIN'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (gobin) return gobin;
    return join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), 'bin');
  } catch {
    return join(homedir(), 'go', 'bin');
  }
}

/** Path of the minio binary, or null when it is not installed. */
export function findMinio(): string | null {
  const env = process.env.SLUICE_MINIO_BIN;
  if (env) return executable(env) ? env : null;
  const candidates = [join(goBinDir(), 'minio'), join(homedir(), 'go', 'bin', 'minio'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'minio'))];
  return candidates.find(executable) ?? null;
}

export async function startS3Server(): Promise<S3ServerHandle> {
  const bin = findMinio();
  if (!bin) throw new Error('minio not found: run scripts/install-s3-server.sh (go install of github.com/minio/minio) or set SLUICE_MINIO_BIN');
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-minio-'));
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = 'sluicetest';
  const secretAccessKey = `sluice-secret-${Math.random().toString(36).slice(2)}`;
  const child = spawn(bin, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', CI: 'true' },
  });
  let log = '';
  const onData = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`minio exited (${child.exitCode}): ${log}`);
    try {
      const res = await fetch(`${endpoint}/minio/health/ready`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`minio not ready after 60 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const region = 'us-east-1';
  return {
    kind: 'minio',
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    process: child,
    async createBucket(name: string) {
      const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    async stop() {
      await stopChild(child, 'SIGTERM', 10_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
