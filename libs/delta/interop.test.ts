// Interop: tables written here must be readable by delta-rs (Python `deltalake`) and DuckDB.
// Skips only when `python3 -c "import deltalake"` fails (install: pip install deltalake duckdb pyarrow).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeltaTable, optimize, readTable, vacuum, type DeltaColumn } from './index.ts';
import { ALL_TYPES, arrowOf, buildHundredCommits, byId, seedSmallFiles, tempDir, type TestRow } from './testSupport.ts';

const SCRIPT = resolve(import.meta.dirname, '../../test/interop/read_with_deltalake.py');

const probe = spawnSync('python3', ['-c', 'import deltalake'], { encoding: 'utf8' });
const skipReason = probe.error ? `python3 not runnable: ${probe.error.message}` : probe.status !== 0 ? `python3 -c "import deltalake" failed: ${probe.stderr.trim().split('\n').pop()}` : '';
if (skipReason && process.env.SLUICE_REQUIRE_INTEROP === '1') throw new Error(`interop required but unavailable: ${skipReason}`);
if (skipReason) console.warn(`[interop] skipping delta-rs/DuckDB interop tests: ${skipReason}`);

interface ExternalView {
  reader: string;
  version: number;
  rows: number;
  columns: string[];
  arrow_types: Record<string, string>;
  partitions: string[];
  files: number;
  data: Record<string, unknown>[];
  txns: Record<string, number | null>;
  stats: Record<string, unknown>[];
  filtered: Record<string, number>;
  parquet?: { created_by: string; columns: Record<string, { physical: string; logical: string; codec: string | null }> };
  duckdb?: { error?: string; reader?: string; rows?: number; types?: Record<string, string>; data?: Record<string, string | null>[] };
}

function readExternally(root: string, args: string[] = []): ExternalView {
  const r = spawnSync('python3', [SCRIPT, root, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`read_with_deltalake.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ExternalView;
}

const TS = Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000 + 901;
const ROWS: TestRow[] = [
  { id: 1, s: 'héllo', l: 2 ** 40, i: 7, d: 1.5, b: true, t: TS, day: 19_724, p: 'a b' },
  { id: 2, s: null, l: null, i: null, d: null, b: null, t: null, day: null, p: null },
  { id: 3, s: '', l: -1, i: -2_147_483_648, d: -0.25, b: false, t: -1, day: -1, p: 'a/b' },
  { id: 4, s: 'z'.repeat(40), l: Number.MAX_SAFE_INTEGER, i: 2_147_483_647, d: 1e300, b: false, t: 0, day: 0, p: '100%' },
  { id: 5, s: 'ünïcode ✓', l: 0, i: 0, d: 0, b: true, t: 1, day: 19_724, p: 'é' },
  { id: 6, s: 'x', l: 6, i: 6, d: 6, b: true, t: TS + 1, day: 19_724, p: 'a b' },
];

describe.skipIf(skipReason !== '')('interop with delta-rs and DuckDB', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-interop-')));
  afterEach(async () => cleanup());

  it('delta-rs reads every type, escaped partitions, txns and stats as written', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p', 'day'] });
    await t.append(arrowOf(ALL_TYPES, ROWS), { txn: { appId: 'sink', version: 1 } });
    await t.append(arrowOf(ALL_TYPES, []), { txn: { appId: 'sink', version: 2 } });
    const ext = readExternally(dir, ['--txn', 'sink', '--filter', 'p=a b', '--filter', 'p=100%', '--duckdb']);
    console.info(`[interop] ${ext.reader}: version ${ext.version}, ${ext.rows} rows, ${ext.files} files; ${ext.duckdb?.reader ?? 'duckdb'}: ${ext.duckdb?.rows ?? ext.duckdb?.error} rows`);

    expect(ext.version).toBe(2);
    expect(ext.rows).toBe(ROWS.length);
    expect(ext.partitions).toEqual(['p', 'day']);
    expect(ext.txns).toEqual({ sink: 2 });
    expect(ext.arrow_types).toMatchObject({ id: 'int64', s: 'string', l: 'int64', i: 'int32', d: 'double', b: 'bool', t: 'timestamp[us, tz=UTC]', day: 'date32[day]', p: 'string' });
    // delta-rs returns exactly the rows we wrote (timestamps µs, dates days, partition values decoded).
    expect(byId(ext.data)).toEqual(ROWS);
    // The Parquet footer: zstd, TIMESTAMP(MICROS, isAdjustedToUTC=true), DATE, STRING — what PROTOCOL.md maps.
    const cols = ext.parquet!.columns;
    expect(Object.keys(cols)).not.toContain('p'); // partition columns are not stored in data files
    expect(Object.keys(cols)).not.toContain('day');
    expect(cols.t).toMatchObject({ physical: 'INT64' });
    expect(cols.t!.logical).toMatch(/^Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    expect(cols.s).toMatchObject({ physical: 'BYTE_ARRAY', logical: 'String' });
    expect(cols.l).toMatchObject({ physical: 'INT64' });
    for (const c of Object.values(cols)) expect(c.codec).toBe('ZSTD');
    // Partition pruning on escaped values works in delta-rs.
    expect(ext.filtered).toEqual({ 'p=a b': 2, 'p=100%': 1 });
    // delta-rs parses our stats: the µs max was rounded up to the next ms, the 40-char string max omitted.
    const aB = ext.stats.find((s) => s['partition.p'] === 'a b')!;
    expect(aB).toMatchObject({ num_records: 2, 'min.t': Math.floor(TS / 1000) * 1000, 'max.t': Math.ceil((TS + 1) / 1000) * 1000, 'min.s': 'héllo', 'max.s': 'x', 'null_count.s': 0 });
    const pct = ext.stats.find((s) => s['partition.p'] === '100%')!;
    expect(pct).toMatchObject({ 'min.s': 'z'.repeat(32), 'max.s': null });
    expect(ext.stats.find((s) => s['partition.p'] === null)).toMatchObject({ 'null_count.s': 1, 'partition.day': null });

    // DuckDB reads the same Parquet files and derives the same partition values from our Hive directories.
    const duck = ext.duckdb!;
    expect(duck.error).toBeUndefined();
    expect(duck.rows).toBe(ROWS.length);
    expect(duck.types).toMatchObject({ t: 'TIMESTAMP WITH TIME ZONE', l: 'BIGINT', day: 'DATE' });
    const duckById = [...duck.data!].sort((a, b) => Number(a.id) - Number(b.id));
    expect(duckById.map((r) => r.p)).toEqual(ROWS.map((r) => r.p));
    expect(duckById[0]).toMatchObject({ s: 'héllo', l: String(2 ** 40), t: '2024-01-02 03:04:05.678901+00', day: '2024-01-02' });
  });

  it('delta-rs reads timestamp partition values as the UTC instants written', async () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'ts', type: 'timestamp', nullable: true }];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['ts'] });
    await t.append(arrowOf(cols, [{ id: 1, ts: TS }, { id: 2, ts: null }, { id: 3, ts: -1 }]));
    const ext = readExternally(dir);
    expect(byId(ext.data)).toEqual([{ id: 1, ts: TS }, { id: 2, ts: null }, { id: 3, ts: -1 }]);
  });

  it('we read a checkpoint delta-rs wrote for our table, then keep appending', async () => {
    const src = join(dir, 'src');
    const t = await DeltaTable.openOrCreate(src, { columns: ALL_TYPES, partitionBy: ['p'] });
    for (const [k, row] of ROWS.entries()) await t.append(arrowOf(ALL_TYPES, [row]), { txn: { appId: 'sink', version: k } });
    // delta-rs writes into the copy only, so the original stays ours alone.
    const copy = join(dir, 'copy');
    await cp(src, copy, { recursive: true });
    const ext = readExternally(copy, ['--checkpoint', '--txn', 'sink']);
    expect(ext.version).toBe(ROWS.length);
    // Drop the commits the checkpoint covers (as log cleanup would): only the checkpoint can rebuild the state.
    const logDir = join(copy, '_delta_log');
    expect(readdirSync(logDir)).toContain(`${String(ROWS.length).padStart(20, '0')}.checkpoint.parquet`);
    for (let v = 0; v < ROWS.length; v++) await rm(join(logDir, `${String(v).padStart(20, '0')}.json`));
    const fresh = await DeltaTable.open(copy);
    const snap = await fresh.snapshot();
    expect(snap.txns.get('sink')).toBe(ROWS.length - 1);
    expect(byId((await readTable(copy)).rows)).toEqual(ROWS);
    // Appending on top of delta-rs's checkpoint: both readers agree.
    const more = { ...ROWS[0]!, id: 7 };
    await fresh.append(arrowOf(ALL_TYPES, [more]), { txn: { appId: 'sink', version: ROWS.length } });
    const after = readExternally(copy, ['--txn', 'sink']);
    expect(after.txns).toEqual({ sink: ROWS.length });
    expect(byId(after.data)).toEqual([...ROWS, more]);
    expect(byId((await readTable(copy)).rows)).toEqual([...ROWS, more]);
  });

  it('delta-rs and DuckDB read our own checkpoint after the commits it covers are deleted', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: ALL_TYPES, partitionBy: ['p'], checkpointInterval: 4 });
    for (const [k, row] of ROWS.entries()) await t.append(arrowOf(ALL_TYPES, [row]), { txn: { appId: 'sink', version: k } });
    expect(t.lastCheckpointError).toBeUndefined();
    const logDir = join(dir, '_delta_log');
    expect(readdirSync(logDir)).toContain('00000000000000000004.checkpoint.parquet');
    for (let v = 0; v <= 4; v++) await rm(join(logDir, `${String(v).padStart(20, '0')}.json`));
    const ext = readExternally(dir, ['--txn', 'sink', '--duckdb']);
    expect(ext.version).toBe(ROWS.length);
    expect(ext.txns).toEqual({ sink: ROWS.length - 1 });
    expect(byId(ext.data)).toEqual(ROWS);
    expect(ext.duckdb?.rows).toBe(ROWS.length);
    // delta-rs still sees the stats we wrote, now coming from the checkpoint for the first files.
    expect(ext.stats.find((s) => s['min.l'] === 2 ** 40)).toMatchObject({ num_records: 1, 'max.l': 2 ** 40 });
  });

  it('delta-rs reads an optimized table with identical rows, and again after VACUUM', async () => {
    const t = await seedSmallFiles(dir);
    const ours = byId((await readTable(dir)).rows);
    expect(readExternally(dir).files).toBe(11);
    const res = await optimize(t);
    const ext = readExternally(dir);
    expect(ext.version).toBe(res.version);
    expect(ext.files).toBe(3);
    expect(byId(ext.data)).toEqual(ours);
    const a = ext.stats.find((s) => s['partition.p'] === 'a')!;
    expect(a).toMatchObject({ num_records: 10, 'min.id': 0, 'max.id': 41, 'null_count.s': 5 });
    const deleted = await vacuum(dir, { now: Date.now() + 8 * 86_400_000 });
    expect(deleted).toHaveLength(10);
    const after = readExternally(dir);
    expect(after.files).toBe(3);
    expect(byId(after.data)).toEqual(ours);
  });

  it('delta-rs reads a table whose schema gained a column: old rows null, new rows set', async () => {
    const v1: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 'p', type: 'string', nullable: true }];
    const v2: DeltaColumn[] = [...v1, { name: 'country', type: 'string', nullable: true }];
    await (await DeltaTable.openOrCreate(dir, { columns: v1, partitionBy: ['p'] })).append(arrowOf(v1, [{ id: 1, p: 'x' }]));
    const t2 = await DeltaTable.openOrCreate(dir, { columns: v2, partitionBy: ['p'], schemaEvolution: 'addNewColumns' });
    await t2.append(arrowOf(v2, [{ id: 2, p: 'x', country: 'FR' }]));
    const ext = readExternally(dir);
    expect(ext.columns).toEqual(['id', 'p', 'country']);
    expect(byId(ext.data)).toEqual([{ id: 1, p: 'x', country: null }, { id: 2, p: 'x', country: 'FR' }]);
  });

  it('delta-rs and DuckDB read map<string,string> columns with the key/value pairs written', async () => {
    const cols: DeltaColumn[] = [
      { name: 'id', type: 'long', nullable: false },
      { name: 'params', type: 'map', nullable: true },
      { name: 'p', type: 'string', nullable: true },
    ];
    const rows: TestRow[] = [
      { id: 1, params: { bucketName: 'logs', key: 'a/b.json' }, p: 'x' },
      { id: 2, params: null, p: 'y' },
      { id: 3, params: {}, p: 'x' },
      { id: 4, params: { 'ключ ✓': 'värde', empty: '', nothing: null }, p: 'x' },
      { id: 5, params: { nested: '{"a":[1,2]}' }, p: 'y' },
    ];
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: ['p'] });
    await t.append(arrowOf(cols, rows.slice(0, 2)));
    await t.append(arrowOf(cols, rows.slice(2)));
    const ext = readExternally(dir, ['--duckdb']);
    console.info(`[interop] ${ext.reader} map column: ${ext.arrow_types.params}; parquet ${JSON.stringify(ext.parquet?.columns)}; duckdb ${JSON.stringify(ext.duckdb?.types)}`);
    expect(ext.arrow_types.params).toMatch(/^map<string, string( ?\(keys_sorted\))?>$/);
    expect(byId(ext.data)).toEqual(rows);
    // The Parquet footer holds a MAP group: key (required) and value leaves, both UTF-8 strings.
    const leaves = Object.entries(ext.parquet!.columns).filter(([name]) => !['id'].includes(name));
    expect(leaves.map(([, c]) => c)).toEqual([
      { physical: 'BYTE_ARRAY', logical: 'String', codec: 'ZSTD' },
      { physical: 'BYTE_ARRAY', logical: 'String', codec: 'ZSTD' },
    ]);
    // We write no stats for the map column: delta-rs has no min/max for it, and its null_count column is null.
    for (const s of ext.stats) {
      expect(Object.keys(s).filter((k) => k.includes('params') && k !== 'null_count.params')).toEqual([]);
      expect(s['null_count.params'] ?? null).toBeNull();
    }
    // DuckDB reads the Parquet MAP as MAP(VARCHAR, VARCHAR); the script renders it as JSON object text.
    const duck = ext.duckdb!;
    expect(duck.error).toBeUndefined();
    expect(duck.types).toMatchObject({ params: 'MAP(VARCHAR, VARCHAR)' });
    const duckById = [...duck.data!].sort((a, b) => Number(a.id) - Number(b.id));
    expect(duckById.map((r) => (r.params === null ? null : JSON.parse(r.params!)))).toEqual(rows.map((r) => r.params));
  });

  it('delta-rs reads a 100-commit table from our checkpoint (with tombstones) alone', async () => {
    const { rows } = await buildHundredCommits(dir);
    const logDir = join(dir, '_delta_log');
    for (let v = 0; v < 100; v++) await rm(join(logDir, `${String(v).padStart(20, '0')}.json`));
    const ext = readExternally(dir, ['--txn', 'sink']);
    expect(ext.version).toBe(100);
    expect(ext.txns).toEqual({ sink: 100 });
    expect(ext.columns).toEqual(['id', 's', 'p', 'extra']);
    expect(byId(ext.data)).toEqual(byId(rows));
  });
});
