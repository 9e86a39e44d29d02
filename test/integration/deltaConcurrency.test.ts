// Four writer processes append to one Delta table at once (optimistic concurrency by put-if-absent): the table holds
// exactly the sum of their rows, each row once, versions contiguous, one commit per append. Runs on a local folder,
// and on MinIO (s3://) and Azurite (az://) when installed (skipped with a printed reason otherwise, unless
// SLUICE_REQUIRE_OBJECT_STORES=1). The writers reach the store through the SDKs' own environment variables
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION, AZURE_STORAGE_CONNECTION_STRING) plus SLUICE_TEST_STORE_OPTIONS.
// Duration: SLUICE_DELTA_CONCURRENCY_SECONDS (default 10; CI's interop run uses 60).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '@sluice/delta';
import { openStore, type OpenStoreOptions } from '@sluice/storage';
import { REPO_ROOT } from '../../cli/pipeline.ts';
import { findAzurite, startAzurite, type AzuriteHandle } from '../support/azurite.ts';
import { findMinio, startS3Server, type S3ServerHandle } from '../support/s3Server.ts';

const SECONDS = Number(process.env.SLUICE_DELTA_CONCURRENCY_SECONDS ?? 10);
const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const hasMinio = findMinio() !== null;
const hasAzurite = findAzurite() !== null;
if (!hasMinio && !required) console.warn('skipping Delta concurrency on S3: minio is not installed (run scripts/install-s3-server.sh, or set SLUICE_MINIO_BIN)');
if (!hasAzurite && !required) console.warn('skipping Delta concurrency on Azure: azurite is not installed (npm install at the repository root)');

interface Target {
  /** Table root: a local path or a store URL. */
  root: string;
  /** Options for opening the table in this (test) process. */
  storeOptions: OpenStoreOptions;
  /** Extra environment for the writer processes. */
  env: Record<string, string>;
}

function runWriter(t: Target, writer: string, seconds: number): Promise<{ writer: string; rows: number; commits: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/support/deltaWriterProcess.ts', t.root, writer, String(seconds)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...t.env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`writer ${writer} exited ${code}: ${err}`))));
  });
}

async function concurrency(label: string, t: Target): Promise<void> {
  // Create the table first so the four writers race on appends, not on version 0.
  await runWriter(t, 'init', 0);
  const results = await Promise.all([0, 1, 2, 3].map((w) => runWriter(t, `w${w}`, SECONDS)));
  const { rows } = await readTable(t.root, { storeOptions: t.storeOptions });
  const expected = results.reduce((n, r) => n + r.rows, 0);
  expect(rows.length).toBe(expected);
  expect(new Set(rows.map((r) => `${r.writer}#${r.seq}`)).size).toBe(expected);
  for (const r of results) expect(rows.filter((x) => x.writer === r.writer).length).toBe(r.rows);
  const store = openStore(t.root, t.storeOptions);
  const commits = (await store.list('_delta_log/')).map((o) => o.key.slice('_delta_log/'.length)).filter((f) => /^\d{20}\.json$/.test(f)).sort();
  const totalCommits = results.reduce((n, r) => n + r.commits, 0);
  expect(commits.length).toBe(totalCommits + 1); // + version 0
  commits.forEach((f, i) => expect(Number(f.slice(0, 20))).toBe(i));
  const ids = await Promise.all(
    commits.slice(1).map(async (f) => {
      const text = new TextDecoder().decode((await store.get(`_delta_log/${f}`))!);
      return (JSON.parse(text.split('\n')[0]!) as { commitInfo: { txnId: string } }).commitInfo.txnId;
    }),
  );
  expect(new Set(ids).size).toBe(totalCommits);
  console.log(`delta concurrency (${label}): 4 writers × ${SECONDS} s → ${totalCommits} commits, ${expected} rows`);
}

const TIMEOUT = (SECONDS + 120) * 1000;

it(`4 processes appending for ${SECONDS} s lose and double nothing (local folder)`, { timeout: TIMEOUT }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-delta-conc-'));
  try {
    await concurrency('local', { root: join(dir, 't'), storeOptions: {}, env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.skipIf(!hasMinio && !required)('on S3 (MinIO)', () => {
  let server: S3ServerHandle;
  const bucket = 'lake';
  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket(bucket);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });
  it(`4 processes appending for ${SECONDS} s lose and double nothing (s3://)`, { timeout: TIMEOUT }, async () => {
    // Credentials and region through the SDK's standard env chain; the endpoint as a store option (it also turns
    // on path-style addressing and checksums only when required, which S3-compatible servers need).
    await concurrency('s3', {
      root: `s3://${bucket}/conc/t-${randomUUID()}`,
      storeOptions: { s3: { endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } } },
      env: {
        AWS_ACCESS_KEY_ID: server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
        AWS_REGION: server.region,
        SLUICE_TEST_STORE_OPTIONS: JSON.stringify({ s3: { endpoint: server.endpoint } } satisfies OpenStoreOptions),
      },
    });
  });
});

describe.skipIf(!hasAzurite && !required)('on Azure Blob (Azurite)', () => {
  let azurite: AzuriteHandle;
  const container = 'lake';
  beforeAll(async () => {
    azurite = await startAzurite({ container });
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
  });
  it(`4 processes appending for ${SECONDS} s lose and double nothing (az://)`, { timeout: TIMEOUT }, async () => {
    // The writers get nothing but AZURE_STORAGE_CONNECTION_STRING, which AzureBlobStore reads by default.
    await concurrency('azure', {
      root: `az://${container}/conc/t-${randomUUID()}`,
      storeOptions: { azure: { connectionString: azurite.connectionString } },
      env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    });
  });
});
