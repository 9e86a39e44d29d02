// The Delta core on real object stores: MinIO (S3) and Azurite (Azure Blob), plus a file:// URL. Create +
// partitioned append with special-character partition values + read, txns, concurrent writers, checkpoints and
// a fresh open from one, OPTIMIZE + VACUUM. A store whose server is not installed is skipped with a printed
// reason, unless SLUICE_REQUIRE_OBJECT_STORES=1.
import { randomUUID } from 'node:crypto';
import { openStore, type ObjectStore, type OpenStoreOptions } from '@sluice/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAzurite, startAzurite, type AzuriteHandle } from '../../test/support/azurite.ts';
import { findMinio, startS3Server, type S3ServerHandle } from '../../test/support/s3Server.ts';
import { DeltaTable, DeltaTxnConflictError, optimize, readTable, vacuum, type DeltaColumn } from './index.ts';
import { ALL_TYPES, arrowOf, byId, rowsFor, seedSmallFiles, tempDir, type TestRow } from './testSupport.ts';

const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const hasMinio = findMinio() !== null;
const hasAzurite = findAzurite() !== null;
if (!hasMinio && !required) console.warn('skipping Delta-on-S3 tests: minio is not installed (run scripts/install-s3-server.sh, or set SLUICE_MINIO_BIN)');
if (!hasAzurite && !required) console.warn('skipping Delta-on-Azure tests: azurite is not installed (npm install at the repository root)');

const DAY = 86_400_000;
const T = 180_000;

interface Target {
  /** A fresh table location URL (unique prefix) and the options to open it. */
  fresh(): { url: string; storeOptions: OpenStoreOptions };
}

const store = (t: Target): ObjectStore => {
  const { url, storeOptions } = t.fresh();
  return openStore(url, storeOptions);
};

// Partition values with characters the protocol escapes (space, %, /, =, #, ?, :) and non-ASCII.
const SPECIAL = ['a b', 'x/y=z%', 'ü#?:', null] as const;

function deltaCore(getTarget: () => Target): void {
  it('create + partitioned append with special-character partition values + readTable round trip (URL + storeOptions)', async () => {
    const { url, storeOptions } = getTarget().fresh();
    const t = await DeltaTable.openOrCreate(url, { columns: ALL_TYPES, partitionBy: ['p'], storeOptions });
    expect(t.root).toBe(url);
    const rows: TestRow[] = SPECIAL.flatMap((p, k) => rowsFor(k + 1, p));
    const res = await t.append(arrowOf(ALL_TYPES, rows));
    expect(res.version).toBe(1);
    expect(res.files).toHaveLength(SPECIAL.length);
    // Object keys are the URI-decoded add.path: partition directories escaped per the protocol.
    const keys = (await openStore(url, storeOptions).list('')).map((o) => o.key);
    for (const f of res.files) expect(keys).toContain(decodeURIComponent(f));
    const dirs = new Set(keys.filter((k) => !k.startsWith('_delta_log/')).map((k) => k.slice(0, k.lastIndexOf('/'))));
    expect([...dirs].sort()).toEqual(['p=__HIVE_DEFAULT_PARTITION__', 'p=a%20b', 'p=x%2Fy%3Dz%25', 'p=ü%23%3F%3A'].sort());
    expect(keys).toContain('_delta_log/00000000000000000000.json');
    expect(keys).toContain('_delta_log/00000000000000000001.json');

    const read = await readTable(url, { storeOptions });
    expect(read.version).toBe(1);
    expect(byId(read.rows)).toEqual(byId(rows));
    const snap = await (await DeltaTable.open(url, { storeOptions })).snapshot();
    expect(snap.files.map((f) => f.partitionValues.p ?? null).sort()).toEqual([...SPECIAL].sort());
  }, T);

  it('records txn versions and refuses a batch already committed', async () => {
    const s = store(getTarget());
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    const t = await DeltaTable.openOrCreate(s, { columns: cols, partitionBy: [] });
    expect((await t.append(arrowOf(cols, [{ id: 1 }]), { txn: { appId: 'sink', version: 5 } })).version).toBe(1);
    expect((await t.append(arrowOf(cols, [{ id: 2 }]), { txn: { appId: 'sink', version: 6 } })).version).toBe(2);
    await expect(t.append(arrowOf(cols, [{ id: 3 }]), { txn: { appId: 'sink', version: 6 } })).rejects.toBeInstanceOf(DeltaTxnConflictError);
    // Another instance (a restarted sink) sees the txn version too.
    const other = await DeltaTable.open(s);
    expect((await other.snapshot()).txns).toEqual(new Map([['sink', 6]]));
    await expect(other.append(arrowOf(cols, [{ id: 3 }]), { txn: { appId: 'sink', version: 6 } })).rejects.toBeInstanceOf(DeltaTxnConflictError);
    expect(byId((await readTable(s)).rows)).toEqual([{ id: 1 }, { id: 2 }]);
  }, T);

  it('4 concurrent DeltaTable instances x 10 appends: contiguous versions, exact rows', async () => {
    const s = store(getTarget());
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'w', type: 'string', nullable: true }];
    await DeltaTable.openOrCreate(s, { columns: cols, partitionBy: ['w'], checkpointInterval: 1000 });
    const versions: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        const t = await DeltaTable.open(s); // one instance per writer
        for (let k = 0; k < 10; k++) versions.push((await t.append(arrowOf(cols, [{ id: w * 100 + k, w: `w ${w}` }]))).version);
      }),
    );
    expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const read = await readTable(s);
    expect(read.version).toBe(40);
    const expected = [0, 1, 2, 3].flatMap((w) => Array.from({ length: 10 }, (_, k) => ({ id: w * 100 + k, w: `w ${w}` })));
    expect(byId(read.rows)).toEqual(byId(expected));
  }, T);

  it('writes a checkpoint after 10+ commits; a fresh open reads from it (older commits deleted)', async () => {
    const s = store(getTarget());
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'p', type: 'string', nullable: true }];
    const t = await DeltaTable.openOrCreate(s, { columns: cols, partitionBy: ['p'], checkpointInterval: 10 });
    const rows: TestRow[] = [];
    for (let v = 1; v <= 12; v++) {
      const row = { id: v, p: `p ${v % 3}` };
      rows.push(row);
      await t.append(arrowOf(cols, [row]), { txn: { appId: 'app', version: v } });
    }
    expect(t.lastCheckpointError).toBeUndefined();
    const log = (await s.list('_delta_log/')).map((o) => o.key);
    expect(log).toContain('_delta_log/00000000000000000010.checkpoint.parquet');
    const last = JSON.parse(new TextDecoder().decode((await s.get('_delta_log/_last_checkpoint'))!)) as { version: number };
    expect(last.version).toBe(10);
    // Without commits 0..10 only the checkpoint can reconstruct the table.
    for (let v = 0; v <= 10; v++) await s.delete(`_delta_log/${String(v).padStart(20, '0')}.json`);
    const fresh = await DeltaTable.open(s);
    const snap = await fresh.snapshot();
    expect(snap.version).toBe(12);
    expect(snap.txns.get('app')).toBe(12);
    expect(byId((await readTable(s)).rows)).toEqual(byId(rows));
    // And it keeps appending on top of it.
    expect((await fresh.append(arrowOf(cols, [{ id: 13, p: 'p 1' }]))).version).toBe(13);
  }, T);

  it('optimize + vacuum', async () => {
    const s = store(getTarget());
    const t = await seedSmallFiles(s);
    const before = byId((await readTable(s)).rows);
    const original = (await t.snapshot()).files;
    const orphan = 'p=a/part-00000-crashed.c000.zstd.parquet';
    await s.put(orphan, new Uint8Array([1, 2, 3]));
    const res = await optimize(t);
    expect(res.filesRemoved).toBe(10);
    expect(res.filesAdded).toBe(2);
    const active = (await t.snapshot()).files.map((f) => decodeURIComponent(f.path));
    const removed = original.filter((f) => f.partitionValues.p !== null).map((f) => decodeURIComponent(f.path));
    expect(byId((await readTable(s)).rows)).toEqual(before);

    expect(await vacuum(s)).toEqual([]); // nothing is past the default 7-day retention yet
    const now = Date.now() + 8 * DAY;
    const expected = [...removed, orphan].sort();
    expect(await vacuum(s, { now, dryRun: true })).toEqual(expected);
    expect(await vacuum(s, { now })).toEqual(expected);
    const keys = new Set((await s.list('')).map((o) => o.key));
    for (const k of expected) expect(keys.has(k)).toBe(false);
    for (const k of active) expect(keys.has(k)).toBe(true);
    expect(byId((await readTable(s)).rows)).toEqual(before);
    expect(await vacuum(s, { now })).toEqual([]);
  }, T);
}

describe('Delta on a file:// URL', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('delta-fileurl-')));
  afterAll(async () => cleanup?.());
  deltaCore(() => ({ fresh: () => ({ url: `file://${dir}/t-${randomUUID()}`, storeOptions: {} }) }));
});

describe.skipIf(!hasMinio && !required)('Delta on S3 (MinIO)', () => {
  let server: S3ServerHandle;
  const bucket = 'lake';
  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket(bucket);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });
  deltaCore(() => ({
    fresh: () => ({
      url: `s3://${bucket}/tables/t-${randomUUID()}`,
      storeOptions: { s3: { endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } } },
    }),
  }));
});

describe.skipIf(!hasAzurite && !required)('Delta on Azure Blob (Azurite)', () => {
  let azurite: AzuriteHandle;
  const container = 'lake';
  beforeAll(async () => {
    azurite = await startAzurite({ container });
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
  });
  deltaCore(() => ({ fresh: () => ({ url: `az://${container}/tables/t-${randomUUID()}`, storeOptions: { azure: { connectionString: azurite.connectionString } } }) }));
});
