import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMinio, startS3Server, type S3ServerHandle } from '../../test/support/s3Server.ts';
import { objectStoreContract } from './objectStore.contract.ts';
import { openStore } from './objectStore.ts';
import { S3Store } from './s3Store.ts';
import { StorageError } from './storeUtil.ts';

const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const available = findMinio() !== null;
if (!available && !required) console.warn('skipping S3 store tests: minio is not installed (run scripts/install-s3-server.sh, or set SLUICE_MINIO_BIN)');

describe('S3Store URLs', () => {
  it('parses s3:// roots', () => {
    const s = new S3Store('s3://bucket/some/prefix/', { region: 'eu-west-1' });
    expect([s.bucket, s.prefix, s.url]).toEqual(['bucket', 'some/prefix/', 's3://bucket/some/prefix']);
    expect(new S3Store('s3://bucket', { region: 'eu-west-1' }).prefix).toBe('');
    expect(() => new S3Store('s3:///x')).toThrow(StorageError);
    expect(() => new S3Store('s3://b/a//b')).toThrow(StorageError);
  });
});

describe.skipIf(!available && !required)('S3Store on MinIO', () => {
  let server: S3ServerHandle;
  const bucket = 'lake';
  const options = () => ({
    s3: { endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } },
  });

  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket(bucket);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  objectStoreContract(() => openStore(`s3://${bucket}/t-${randomUUID()}`, options()), { manyKeys: 1100 });

  it('the server honours If-None-Match: * (second putIfAbsent is refused)', async () => {
    const s = openStore(`s3://${bucket}/inm-${randomUUID()}`, options());
    expect(await s.putIfAbsent('00.json', new Uint8Array([1]))).toBe(true);
    expect(await s.putIfAbsent('00.json', new Uint8Array([2]))).toBe(false);
    expect(await s.get('00.json')).toEqual(new Uint8Array([1]));
  });

  it('a bad secret key fails without the secret in the error', async () => {
    const secret = `bad-secret-${randomUUID()}`;
    const s = openStore(`s3://${bucket}/bad`, { s3: { ...options().s3, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: secret } } });
    for (const op of [() => s.put('x', new Uint8Array([1])), () => s.get('x'), () => s.list('')]) {
      const err = await op().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      const e = err as StorageError;
      expect(e.statusCode).toBe(403);
      for (const text of [e.message, String(e.stack), inspect(e, { depth: 10 }), JSON.stringify(e)]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(server.secretAccessKey);
      }
    }
  });

  it('a missing bucket is an error, not "absent"', async () => {
    const s = openStore(`s3://no-such-bucket-${randomUUID().slice(0, 8)}/x`, options());
    await expect(s.get('k')).rejects.toThrow(StorageError);
    await expect(s.head('k')).rejects.toThrow(StorageError);
  });
});
