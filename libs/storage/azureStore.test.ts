import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAzurite, startAzurite, type AzuriteHandle } from '../../test/support/azurite.ts';
import { parseAzureUrl } from './azureStore.ts';
import { objectStoreContract } from './objectStore.contract.ts';
import { openStore } from './objectStore.ts';
import { StorageError } from './storeUtil.ts';

const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const available = findAzurite() !== null;
if (!available && !required) console.warn('skipping Azure Blob store tests: azurite is not installed (npm install at the repository root)');

describe('parseAzureUrl', () => {
  it('reads az:// and abfss:// forms', () => {
    expect(parseAzureUrl('az://lake/silver/t')).toMatchObject({ container: 'lake', account: undefined, prefix: 'silver/t/' });
    expect(parseAzureUrl('abfss://lake@acct.dfs.core.windows.net/silver/')).toMatchObject({ container: 'lake', account: 'acct', prefix: 'silver/' });
    expect(parseAzureUrl('abfss://lake@acct.dfs.core.windows.net')).toMatchObject({ container: 'lake', account: 'acct', prefix: '' });
    expect(() => parseAzureUrl('abfss://acct.dfs.core.windows.net/x')).toThrow(StorageError);
    expect(() => parseAzureUrl('az:///x')).toThrow(StorageError);
  });
});

describe.skipIf(!available && !required)('AzureBlobStore on Azurite', () => {
  let azurite: AzuriteHandle;
  const container = 'lake';

  beforeAll(async () => {
    azurite = await startAzurite({ container });
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
  });

  // Azurite stores blobs slowly (~50/s here): page at 100 so 250 keys cross pages.
  objectStoreContract(() => openStore(`az://${container}/t-${randomUUID()}`, { azure: { connectionString: azurite.connectionString, listPageSize: 100 } }), {
    manyKeys: 250,
  });

  it('works with account name + key and an explicit endpoint (abfss:// form)', async () => {
    const s = openStore(`abfss://${container}@${azurite.accountName}.dfs.core.windows.net/abfss-${randomUUID()}`, {
      azure: { accountKey: azurite.accountKey, endpoint: azurite.endpoint },
    });
    expect(s.url).toBe(`abfss://${container}@${azurite.accountName}.dfs.core.windows.net/${s.url.split('/').pop()!}`);
    expect(await s.putIfAbsent('x.json', new TextEncoder().encode('x'))).toBe(true);
    expect(await s.putIfAbsent('x.json', new TextEncoder().encode('y'))).toBe(false);
    expect((await s.list('')).map((o) => o.key)).toEqual(['x.json']);
  });

  it('a bad account key fails without the key in the error', async () => {
    const secret = Buffer.from(`not-the-key-${randomUUID()}`).toString('base64');
    const s = openStore(`az://${container}/bad`, { azure: { accountName: azurite.accountName, accountKey: secret, endpoint: azurite.endpoint } });
    const err = await s.put('x', new Uint8Array([1])).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    const e = err as StorageError;
    expect(e.statusCode).toBe(403);
    for (const text of [e.message, String(e.stack), inspect(e, { depth: 10 }), JSON.stringify(e)]) expect(text).not.toContain(secret);

    const cs = `DefaultEndpointsProtocol=http;AccountName=${azurite.accountName};AccountKey=${secret};BlobEndpoint=${azurite.endpoint};`;
    const e2 = await openStore(`az://${container}/bad`, { azure: { connectionString: cs } })
      .get('x')
      .then(
        () => null,
        (x: unknown) => x,
      );
    expect(e2).toBeInstanceOf(StorageError);
    for (const text of [(e2 as Error).message, inspect(e2, { depth: 10 })]) expect(text).not.toContain(secret);
  });

  it('a missing container is an error, not "absent"', async () => {
    const s = openStore(`az://nocontainer/x`, { azure: { connectionString: azurite.connectionString } });
    await expect(s.get('k')).rejects.toThrow(StorageError);
  });
});
