// DeltaTable end to end on temp dirs: create, append/read round trips, escaping, stats, txn,
// concurrent writers, checkpoints, and the refusals (protocol, schema, input types).
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Dictionary, Field, Int32, Int64, LargeUtf8, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommitText } from './actions.ts';
import { commitWithRetry, putIfAbsent } from './commit.ts';
import { DeltaConflictError, DeltaError, DeltaProtocolError, DeltaTable, DeltaTxnConflictError, readTable, type DeltaColumn } from './index.ts';
import { decodeParquet } from './parquetFile.ts';
import { loadState } from './logReplay.ts';
import { ALL_TYPES, arrowOf, byId, GOLDEN, KERNEL, rowsFor, tempDir, type TestRow, itRef } from './testSupport.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const logLines = async (root: string, version: number) =>
  parseCommitText(await readFile(join(root, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8'), `v${version}`);

const ROWS: TestRow[] = [
  { id: 1, s: 'héllo', l: 2 ** 40, i: 7, d: 1.5, b: true, t: 1_700_000_000_123_456, day: 19_700, p: 'x' },
  { id: 2, s: null, l: null, i: null, d: null, b: null, t: null, day: null, p: null },
  { id: 3, s: '', l: -1, i: -2_147_483_648, d: -0.25, b: false, t: -1, day: -1, p: 'x' },
  { id: 4, s: 'z', l: Number.MAX_SAFE_INTEGER, i: 2_147_483_647, d: 1e300, b: false, t: 0, day: 0, p: 'y' },
];

describe('DeltaTable create + append + read', () => {
  it('creates version 0 with protocol 1/2, metaData and commitInfo', async () => {
    const t = await DeltaTable.openOrCreate(dir, { name: 'events', description: 'd', columns: ALL_TYPES, partitionBy: ['day', 'p'] });
    const snap = await t.snapshot();
    expect(snap.version).toBe(0);
    expect(snap.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(snap.metadata.partitionColumns).toEqual(['day', 'p']);
    expect(snap.metadata.configuration).toEqual({ 'delta.checkpointInterval': '10' });
    expect(snap.metadata.format).toEqual({ provider: 'parquet', options: {} });
    expect(snap.metadata.name).toBe('events');
    expect(snap.metadata.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(snap.metadata.schemaString)).toEqual({
      type: 'struct',
      fields: ALL_TYPES.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, metadata: {} })),
    });
    expect(snap.files).toEqual([]);
    const v0 = await logLines(dir, 0);
    expect(v0.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'protocol', 'metaData']);
    // Re-opening finds the table instead of creating it again.
    await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['day', 'p'] });
    expect(readdirSync(join(dir, '_delta_log')).filter((f) => f.endsWith('.json'))).toEqual(['00000000000000000000.json']);
  });

  it.each([[[]], [['p']], [['day', 'p']]])('round-trips every type with nulls (partitionBy %j)', async (partitionBy) => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy });
    const res = await t.append(arrowOf(ALL_TYPES, ROWS));
    expect(res.version).toBe(1);
    const read = await readTable(dir);
    expect(read.version).toBe(1);
    expect(read.columns).toEqual(ALL_TYPES.map((c) => c.name));
    expect(byId(read.rows)).toEqual(ROWS);
    const snap = await t.snapshot();
    expect(snap.files.map((f) => f.path).sort()).toEqual([...res.files].sort());
    const expectedFiles = partitionBy.length === 0 ? 1 : partitionBy.length === 1 ? 3 : 4;
    expect(res.files).toHaveLength(expectedFiles);
    for (const f of snap.files) {
      expect(f.dataChange).toBe(true);
      expect(f.path).toMatch(/part-\d{5}-[0-9a-f-]{36}\.c000\.zstd\.parquet$/);
      // Partition columns are not stored in the data files.
      const file = decodeParquet(await readFile(join(dir, decodeURIComponent(f.path))));
      expect(file.schema.fields.map((x) => x.name)).toEqual(ALL_TYPES.map((c) => c.name).filter((n) => !partitionBy.includes(n)));
      expect(f.size).toBe((await readFile(join(dir, decodeURIComponent(f.path)))).length);
    }
  });

  it('accepts columns in any order, spread over several record batches', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    const reversed = [...ALL_TYPES].reverse();
    const data = arrowOf(reversed, ROWS.slice(0, 2)).concat(arrowOf(reversed, ROWS.slice(2)));
    expect(data.batches.length).toBe(2);
    await t.append(data);
    expect(byId((await readTable(dir)).rows)).toEqual(ROWS);
  });

  it('accepts sliced input and LargeUtf8 / dictionary-encoded strings', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    await t.append(arrowOf(ALL_TYPES, ROWS).slice(1, 3)); // offset buffers, bit-packed booleans mid-byte
    await t.append(
      new ArrowTable({
        id: vectorFromArray([10n, 11n], new Int64()),
        s: vectorFromArray(['large', null], new LargeUtf8()),
        p: vectorFromArray(['dict', 'dict'], new Dictionary(new Utf8(), new Int32())),
      }),
    );
    const rows = byId((await readTable(dir)).rows);
    expect(rows.slice(0, 2)).toEqual(ROWS.slice(1, 3));
    expect(rows.slice(2).map((r) => [r.id, r.s, r.p, r.l])).toEqual([[10, 'large', 'dict', null], [11, null, 'dict', null]]);
  });

  it('splits a partition into files of at most maxRowsPerFile rows, with exact stats per file, in one commit', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    // Rows of two partitions interleaved over three record batches, one of them sliced.
    const rows: TestRow[] = Array.from({ length: 23 }, (_, k) => ({ ...rowsFor(k, k % 3 ? 'a' : 'b')[k % 2]!, id: k }));
    const all = arrowOf(ALL_TYPES, rows);
    const data = arrowOf(ALL_TYPES, rows.slice(0, 5)).concat(all.slice(5, 16), arrowOf(ALL_TYPES, rows.slice(16)));
    const res = await t.append(data, { maxRowsPerFile: 4 });
    expect(res.version).toBe(1);
    const files = (await t.snapshot()).files;
    const count = (p: string) => files.filter((f) => f.partitionValues.p === p).map((f) => JSON.parse(f.stats!).numRecords as number).sort();
    expect(count('a')).toEqual([3, 4, 4, 4]); // 15 rows
    expect(count('b')).toEqual([4, 4]); // 8 rows
    expect(byId((await readTable(dir)).rows)).toEqual(rows);
    // Every file's stats are its own rows' bounds: the first "a" file holds the first four "a" rows.
    const firstA = rows.filter((r) => r.p === 'a').slice(0, 4);
    const firstAPath = res.files.find((f) => f.startsWith('p=a/'))!;
    const stats = JSON.parse(files.find((f) => f.path === firstAPath)!.stats!);
    expect(stats.minValues.id).toBe(Math.min(...firstA.map((r) => Number(r.id))));
    expect(stats.maxValues.id).toBe(Math.max(...firstA.map((r) => Number(r.id))));
    expect(stats.nullCount.s).toBe(firstA.filter((r) => r.s === null).length);
  });

  it('writes Hive partition directories with escaped values and URI-encoded add paths', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'p', type: 'string', nullable: true }];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['p'] });
    const values = ['a b', 'a/b', '100%', 'é', null, ''];
    await t.append(arrowOf(cols, values.map((p, i) => ({ id: i, p }))));
    const snap = await t.snapshot();
    const byValue = new Map(snap.files.map((f) => [f.partitionValues.p, f.path]));
    expect(byValue.get('a b')).toMatch(/^p=a%2520b\/part-/);
    expect(byValue.get('a/b')).toMatch(/^p=a%252Fb\/part-/);
    expect(byValue.get('100%')).toMatch(/^p=100%2525\/part-/);
    expect(byValue.get('é')).toMatch(/^p=%C3%A9\/part-/);
    expect(byValue.get(null)).toMatch(/^p=__HIVE_DEFAULT_PARTITION__\/part-/);
    expect(snap.files).toHaveLength(5); // '' is null per the protocol: same partition as null
    expect(new Set(readdirSync(dir))).toEqual(new Set(['_delta_log', 'p=a%20b', 'p=a%2Fb', 'p=100%25', 'p=é', 'p=__HIVE_DEFAULT_PARTITION__']));
    for (const f of snap.files) expect(existsSync(join(dir, decodeURIComponent(f.path)))).toBe(true);
    const rows = byId((await readTable(dir)).rows);
    expect(rows.map((r) => r.p)).toEqual(['a b', 'a/b', '100%', 'é', null, null]);
  });

  it('stores timestamp and date partition values in the protocol formats', async () => {
    const cols: DeltaColumn[] = [
      { name: 'id', type: 'long', nullable: false },
      { name: 'ts', type: 'timestamp', nullable: true },
      { name: 'day', type: 'date', nullable: true },
    ];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['ts', 'day'] });
    const ts = Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000 + 901;
    await t.append(arrowOf(cols, [{ id: 1, ts, day: 19_724 }]));
    const [f] = (await t.snapshot()).files;
    expect(f!.partitionValues).toEqual({ ts: '2024-01-02 03:04:05.678901', day: '2024-01-02' });
    expect(f!.path).toMatch(/^ts=2024-01-02%252003%253A04%253A05.678901\/day=2024-01-02\/part-/);
    expect((await readTable(dir)).rows).toEqual([{ id: 1, ts, day: 19_724 }]);
  });

  it('commits exact stats for non-partition columns only', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    await t.append(arrowOf(ALL_TYPES, ROWS));
    const x = (await t.snapshot()).files.find((f) => f.partitionValues.p === 'x')!;
    expect(JSON.parse(x.stats!)).toEqual({
      numRecords: 2,
      minValues: { id: 1, s: '', l: -1, i: -2_147_483_648, d: -0.25, t: '1969-12-31T23:59:59.999Z', day: '1969-12-31' },
      maxValues: { id: 3, s: 'héllo', l: 2 ** 40, i: 7, d: 1.5, t: '2023-11-14T22:13:20.124Z', day: '2023-12-09' },
      nullCount: { id: 0, s: 0, l: 0, i: 0, d: 0, b: 0, t: 0, day: 0 },
    });
  });

  it('writes commitInfo first, with operation, engineInfo and a unique txnId', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: [] });
    await t.append(arrowOf(ALL_TYPES, ROWS), { operation: 'STREAMING UPDATE' });
    await t.append(arrowOf(ALL_TYPES, ROWS));
    const c1 = await logLines(dir, 1);
    const c2 = await logLines(dir, 2);
    const info1 = 'commitInfo' in c1[0]! ? c1[0].commitInfo : {};
    const info2 = 'commitInfo' in c2[0]! ? c2[0].commitInfo : {};
    expect(info1).toMatchObject({ operation: 'STREAMING UPDATE', engineInfo: 'sluice', readVersion: 0, isBlindAppend: true, operationParameters: { mode: 'Append', partitionBy: '[]' } });
    expect(info1.operationMetrics).toMatchObject({ numFiles: '1', numOutputRows: '4' });
    expect(info2.operation).toBe('WRITE');
    expect(info1.txnId).toMatch(/^[0-9a-f-]{36}$/);
    expect(info1.txnId).not.toBe(info2.txnId);
  });

  it('does not commit an empty append without txn', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    expect(await t.append(arrowOf(ALL_TYPES, []))).toEqual({ version: 0, files: [], fileSizes: [], checkpointed: false });
    expect((await t.snapshot()).version).toBe(0);
  });
});

describe('txn (exactly-once)', () => {
  it('records the latest version per appId in the same commit as the data', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    const r1 = await t.append(arrowOf(ALL_TYPES, ROWS.slice(0, 2)), { txn: { appId: 'sink-a', version: 10 } });
    await t.append(arrowOf(ALL_TYPES, ROWS.slice(2)), { txn: { appId: 'sink-b', version: 1 } });
    await t.append(arrowOf(ALL_TYPES, []), { txn: { appId: 'sink-a', version: 11 } });
    const snap = await t.snapshot();
    expect(snap.version).toBe(3);
    expect(snap.txns).toEqual(new Map([['sink-a', 11], ['sink-b', 1]]));
    const c1 = await logLines(dir, r1.version);
    expect(c1.filter((a) => 'txn' in a)).toEqual([{ txn: expect.objectContaining({ appId: 'sink-a', version: 10 }) }]);
    expect(c1.filter((a) => 'add' in a)).toHaveLength(r1.files.length);
    // An empty batch with a txn still commits: only commitInfo + txn.
    expect((await logLines(dir, 3)).map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'txn']);
    // Another instance sees the same txn state.
    expect((await (await DeltaTable.open(dir)).snapshot()).txns.get('sink-a')).toBe(11);
  });

  it('refuses a txn version that is already committed, leaving no commit and no data files behind', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    await t.append(arrowOf(ALL_TYPES, ROWS), { txn: { appId: 'app', version: 5 } });
    const before = readdirSync(dir, { recursive: true }).length;
    for (const v of [5, 4]) {
      const err = await t.append(arrowOf(ALL_TYPES, ROWS), { txn: { appId: 'app', version: v } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeltaTxnConflictError);
      expect(err).toMatchObject({ appId: 'app', requestedVersion: v, committedVersion: 5 });
    }
    expect((await t.snapshot()).version).toBe(1);
    expect(readdirSync(dir, { recursive: true }).length).toBe(before);
  });

  it('lets exactly one of two racing writers commit the same appId/version', async () => {
    await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: [] });
    const [a, b] = await Promise.all([DeltaTable.open(dir), DeltaTable.open(dir)]);
    const results = await Promise.allSettled([
      a.append(arrowOf(ALL_TYPES, ROWS.slice(0, 1)), { txn: { appId: 'same', version: 1 } }),
      b.append(arrowOf(ALL_TYPES, ROWS.slice(1, 2)), { txn: { appId: 'same', version: 1 } }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected && rejected.status === 'rejected' && rejected.reason).toBeInstanceOf(DeltaTxnConflictError);
    const read = await readTable(dir);
    expect(read.version).toBe(1);
    expect(read.rows).toHaveLength(1);
    // The loser removed the data file it had written.
    expect(readdirSync(dir).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
  });
});

describe('concurrent appends', () => {
  it('many parallel appends from two instances get contiguous versions and lose no file', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'w', type: 'string', nullable: false }];
    await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['w'] });
    const a = await DeltaTable.open(dir);
    const b = await DeltaTable.open(dir);
    const n = 20;
    const jobs: Promise<{ version: number; files: string[] }>[] = [];
    for (let k = 0; k < n; k++) {
      jobs.push(a.append(arrowOf(cols, [{ id: k, w: 'a' }])));
      jobs.push(b.append(arrowOf(cols, [{ id: 100 + k, w: 'b' }, { id: 200 + k, w: 'c' }])));
    }
    const results = await Promise.all(jobs);
    expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    const snap = await a.snapshot();
    expect(snap.version).toBe(2 * n);
    expect(snap.files).toHaveLength(3 * n);
    expect(snap.files.map((f) => f.path).sort()).toEqual(results.flatMap((r) => r.files).sort());
    const ids = (await readTable(dir)).rows.map((r) => r.id as number).sort((x, y) => x - y);
    const range = (from: number) => Array.from({ length: n }, (_, k) => from + k);
    expect(ids).toEqual([...range(0), ...range(100), ...range(200)]);
    // Every commit holds exactly one commitInfo, and no temp file is left in the log.
    for (let v = 1; v <= 2 * n; v++) expect((await logLines(dir, v)).filter((x) => 'commitInfo' in x)).toHaveLength(1);
    expect(readdirSync(join(dir, '_delta_log')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('two sink-like writers (sequential txn appends each) interleave without losing batches', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: [] });
    const run = async (appId: string, base: number) => {
      const t = await DeltaTable.open(dir);
      for (let seq = 0; seq < 12; seq++) await t.append(arrowOf(cols, [{ id: base + seq }]), { txn: { appId, version: seq } });
    };
    await Promise.all([run('writer-a', 0), run('writer-b', 100)]);
    const snap = await (await DeltaTable.open(dir)).snapshot();
    expect(snap.version).toBe(24);
    expect(snap.txns).toEqual(new Map([['writer-a', 11], ['writer-b', 11]]));
    expect((await readTable(dir)).rows).toHaveLength(24);
  });

  it('throws a conflict when a concurrent commit changed metaData, and retries past plain appends', async () => {
    await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: [] });
    const logDir = join(dir, '_delta_log');
    const other = JSON.stringify({ commitInfo: { txnId: 'someone-else' } }) + '\n' + JSON.stringify({ add: { path: 'x.parquet', partitionValues: {}, size: 1, modificationTime: 1, dataChange: true } }) + '\n';
    await writeFile(join(logDir, '00000000000000000001.json'), other);
    // A plain append by someone else at v1: we land at v2.
    expect(await commitWithRetry({ root: dir, logDir, readVersion: 0, content: '{"commitInfo":{"txnId":"me-1"}}\n', commitId: 'me-1' })).toBe(2);
    const md = (await readFile(join(logDir, '00000000000000000000.json'), 'utf8')).split('\n').find((l) => l.startsWith('{"metaData"'))!;
    await writeFile(join(logDir, '00000000000000000003.json'), md + '\n');
    await expect(commitWithRetry({ root: dir, logDir, readVersion: 2, content: '{"commitInfo":{"txnId":"me-2"}}\n', commitId: 'me-2' })).rejects.toBeInstanceOf(DeltaConflictError);
    expect(existsSync(join(logDir, '00000000000000000004.json'))).toBe(false);
  });

  it('treats an existing commit carrying our commit id as our success (ambiguous earlier attempt)', async () => {
    const logDir = join(dir, '_delta_log');
    await mkdir(logDir, { recursive: true });
    const content = '{"commitInfo":{"txnId":"mine"}}\n';
    expect(await putIfAbsent(logDir, 0, content, 'mine')).toBe(true);
    expect(await putIfAbsent(logDir, 0, content, 'mine')).toBe(true); // e.g. retried after the link landed but errored
    expect(await putIfAbsent(logDir, 0, '{"commitInfo":{"txnId":"other"}}\n', 'other')).toBe(false);
    expect(await commitWithRetry({ root: dir, logDir, readVersion: -1, content, commitId: 'mine' })).toBe(0);
    expect(readdirSync(logDir)).toEqual(['00000000000000000000.json']);
  });
});

describe('refusals', () => {
  itRef('refuses tables whose protocol needs unsupported reader or writer features', async () => {
    const bad = join(dir, 'invalid');
    await cp(join(GOLDEN, 'deltalog-invalid-protocol-version'), bad, { recursive: true });
    await expect(DeltaTable.open(bad)).rejects.toBeInstanceOf(DeltaProtocolError);
    await expect(DeltaTable.openOrCreate(bad, { columns: [{ name: 'id', type: 'integer', nullable: true }], partitionBy: [] })).rejects.toThrow(/requires reader version 99/);
    // Column mapping + timestampNtz (reader 3 / writer 7 with features).
    await expect(DeltaTable.open(join(KERNEL, 'stats-writing-all-types/delta'))).rejects.toThrow(/reader version 3 with features \[timestampNtz, columnMapping\]/);
    await expect(readTable(join(GOLDEN, 'dv-partitioned-with-checkpoint'))).rejects.toBeInstanceOf(DeltaProtocolError);
  });

  it('reads but does not write a table needing writer version 3+ or writer features', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: true }];
    for (const protocol of [{ minReaderVersion: 1, minWriterVersion: 3 }, { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['appendOnly'] }]) {
      const root = join(dir, String(protocol.minWriterVersion));
      const t = await DeltaTable.openOrCreate(root, { columns: cols, partitionBy: [] });
      await writeFile(join(root, '_delta_log', '00000000000000000001.json'), JSON.stringify({ protocol }) + '\n');
      await expect(DeltaTable.openOrCreate(root, { columns: cols, partitionBy: [] })).rejects.toBeInstanceOf(DeltaProtocolError);
      // An already-open writer notices the upgrade on its next append.
      await expect(t.append(arrowOf(cols, [{ id: 1 }]))).rejects.toBeInstanceOf(DeltaProtocolError);
      expect((await (await DeltaTable.open(root)).snapshot()).version).toBe(1);
      expect(readdirSync(root)).toEqual(['_delta_log']); // the refused append left no data file
    }
  });

  it('refuses a definition that does not match the existing table', async () => {
    await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'] });
    await expect(DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: [] })).rejects.toThrow(/partitioned by \[p\]/);
    const changed = ALL_TYPES.map((c) => (c.name === 'i' ? { ...c, type: 'long' as const } : c));
    await expect(DeltaTable.openOrCreate(dir, { columns: changed, partitionBy: ['p'] })).rejects.toThrow(/column "i" is "integer" in the table, long/);
  });

  it('refuses input with wrong types, unknown columns or nulls in a non-nullable column', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'name', type: 'string', nullable: true }];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: [] });
    const strId = new ArrowTable({ id: vectorFromArray(['1'], new Utf8()) });
    await expect(t.append(strId)).rejects.toThrow(/column "id": Arrow type Utf8 cannot be written as Delta long/);
    const extra = new ArrowTable({ id: vectorFromArray([1], new Int32()), other: vectorFromArray([1], new Int32()) });
    await expect(t.append(extra)).rejects.toThrow(/input column "other" is not in the table schema/);
    await expect(t.append(arrowOf([{ name: 'id', type: 'long', nullable: true }], [{ id: null }]))).rejects.toThrow(/non-nullable column "id" has null values/);
    await expect(t.append(arrowOf([{ name: 'name', type: 'string', nullable: true }], [{ name: 'x' }]))).rejects.toThrow(/non-nullable column "id" is missing/);
    expect((await t.snapshot()).version).toBe(0);
    // Int32 widens to long; a missing nullable column is written as nulls.
    const fields = [new Field('id', new Int32(), false)];
    const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [vectorFromArray([42], new Int32()).data[0]!] }));
    await t.append(new ArrowTable([batch]));
    expect((await readTable(dir)).rows).toEqual([{ id: 42, name: null }]);
  });

  itRef('says clearly when a directory is not a Delta table', async () => {
    await expect(DeltaTable.open(join(GOLDEN, 'no-delta-log-folder'))).rejects.toThrow(DeltaError);
    await expect(DeltaTable.open(join(GOLDEN, 'no-delta-log-folder'))).rejects.toThrow(/is not a Delta table/);
  });
});

describe('checkpoints', () => {
  it('writes a classic checkpoint every delta.checkpointInterval commits that replays to the same state', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'p', type: 'string', nullable: true }];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['p'], checkpointInterval: 3 });
    expect((await t.snapshot()).metadata.configuration).toEqual({ 'delta.checkpointInterval': '3' });
    for (let k = 0; k < 7; k++) await t.append(arrowOf(cols, [{ id: k, p: k % 2 ? 'a b' : null }]), { txn: { appId: 'app', version: k } });
    // A foreign commit removing a file: its tombstone must be carried into the next checkpoint.
    const victim = (await t.snapshot()).files[0]!;
    await writeFile(join(dir, '_delta_log/00000000000000000008.json'), JSON.stringify({ remove: { path: victim.path, deletionTimestamp: Date.now(), dataChange: true } }) + '\n');
    await t.append(arrowOf(cols, [{ id: 7, p: 'x' }]), { txn: { appId: 'app', version: 7 } });
    expect(t.lastCheckpointError).toBeUndefined();
    const logDir = join(dir, '_delta_log');
    expect(readdirSync(logDir).filter((f) => f.includes('checkpoint'))).toEqual([
      '00000000000000000003.checkpoint.parquet',
      '00000000000000000006.checkpoint.parquet',
      '00000000000000000009.checkpoint.parquet',
      '_last_checkpoint',
    ]);
    expect(JSON.parse(await readFile(join(logDir, '_last_checkpoint'), 'utf8'))).toMatchObject({ version: 9, numOfAddFiles: 7 });
    const cpRows = decodeParquet(await readFile(join(logDir, '00000000000000000009.checkpoint.parquet')));
    expect(cpRows.getChild('remove')!.toArray().filter((r: unknown) => r !== null)).toHaveLength(1);

    const viaCheckpoint = (await loadState(dir))!.snapshot();
    const jsonOnly = (await loadState(dir, { ignoreCheckpoints: true }))!.snapshot();
    expect(viaCheckpoint.version).toBe(9);
    expect(viaCheckpoint.files.map((f) => f.path).sort()).toEqual(jsonOnly.files.map((f) => f.path).sort());
    expect(viaCheckpoint.files.map((f) => f.stats).sort()).toEqual(jsonOnly.files.map((f) => f.stats).sort());
    expect(viaCheckpoint.txns).toEqual(new Map([['app', 7]]));
    expect(viaCheckpoint.metadata).toEqual(jsonOnly.metadata);

    // With the commits the checkpoint covers deleted, the table still reads completely.
    for (let v = 0; v <= 9; v++) await rm(join(logDir, `${String(v).padStart(20, '0')}.json`), { force: true });
    const read = await readTable(dir);
    expect(read.version).toBe(9);
    const removedId = (JSON.parse(victim.stats!) as { minValues: { id: number } }).minValues.id;
    expect(byId(read.rows).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].filter((id) => id !== removedId));
  });
});
