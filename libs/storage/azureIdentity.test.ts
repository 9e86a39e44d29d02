// AzureBlobStore with no key, SAS or connection string: credentials come from @azure/identity's DefaultAzureCredential
// chain. Exercised end to end against Azurite over HTTPS with `--oauth basic`, the token issued by a local endpoint
// that implements the App Service managed-identity contract (IDENTITY_ENDPOINT / IDENTITY_HEADER).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAzurite, startAzurite, type AzuriteHandle } from '../../test/support/azurite.ts';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../test/support/managedIdentityEndpoint.ts';

const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const available = findAzurite() !== null;
const probe = fileURLToPath(new URL('../../test/support/azureIdentityProbe.ts', import.meta.url));

/** Runs the probe asynchronously: the token endpoint lives in this process and must keep answering. */
function runProbe(env: NodeJS.ProcessEnv, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', probe, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe.skipIf(!available && !required)('AzureBlobStore with DefaultAzureCredential (managed identity)', () => {
  let azurite: AzuriteHandle & { cert?: string };
  let msi: ManagedIdentityEndpoint;
  beforeAll(async () => {
    azurite = await startAzurite({ oauth: true });
    msi = await startManagedIdentityEndpoint();
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
    await msi?.close();
  });

  it('gets a storage token from the managed-identity endpoint and reads and writes blobs with it', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, IDENTITY_ENDPOINT: msi.url, IDENTITY_HEADER: msi.identityHeader, NODE_EXTRA_CA_CERTS: azurite.cert };
    const r = await runProbe(env, [azurite.endpoint, 'identity']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { first: boolean; second: boolean; body: string; keys: string[] };
    expect(out).toEqual({ first: true, second: false, body: '{"commitInfo":{}}\n', keys: ['_delta_log/00000000000000000000.json'] });
    // The chain reached the managed-identity source, with the header and the storage audience.
    expect(msi.requests.length).toBeGreaterThan(0);
    expect(msi.requests.every((q) => q.identityHeader === msi.identityHeader)).toBe(true);
    expect(msi.requests[0]!.resource).toBe('https://storage.azure.com');
  }, 90_000);

  it('fails with the credential error when the managed identity refuses: the bearer path is what authorised the writes', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, IDENTITY_ENDPOINT: msi.url, IDENTITY_HEADER: 'wrong', NODE_EXTRA_CA_CERTS: azurite.cert };
    const r = await runProbe(env, [azurite.endpoint, 'denied']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/CredentialUnavailableError|AuthenticationError|ManagedIdentityCredential|DefaultAzureCredential/);
  }, 90_000);
});
