// Interop with Apache Spark + delta-spark (the reference Delta engine, what Databricks runs): Spark reads the tables
// we write (every type, escaped partitions, µs timestamps, our checkpoints and stats), and we append to tables Spark
// and delta-rs created, which Spark (and delta-rs) then read back.
//
// A Spark session takes 15-30 s to start, so the whole file runs two Spark sessions (test/interop/spark_delta.py
// `check`): the first creates Spark's table and reads everything we wrote; the second reads what we appended to
// Spark's and delta-rs's tables. The `it`s below assert on those results.
//
// Skips unless `python3 -c "import pyspark, delta"` works and java is on PATH; SLUICE_REQUIRE_SPARK=1 fails instead.
// Install: make test-spark (pip install pyspark==3.5.* delta-spark==3.2.*; Ivy fetches io.delta jars at first start).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ColumnBuilder, type CellValue } from '@sluice/columnar';
import { DeltaTable, DeltaTxnConflictError, optimize, readTable, vacuum, type DeltaColumn, type DeltaType, type OptimizeResult } from '@sluice/delta';
import { compileValidator, defenderTables, eventDateOf, fullColumnsOf, type Row } from '@sluice/tables';
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';

const HERE = import.meta.dirname;
const SPARK_SCRIPT = resolve(HERE, 'spark_delta.py');
const RS_READ = resolve(HERE, 'read_with_deltalake.py');
const RS_WRITE = resolve(HERE, 'write_with_deltalake.py');

function probeSpark(): string {
  const py = spawnSync('python3', ['-c', 'import pyspark, delta, deltalake'], { encoding: 'utf8' });
  if (py.error) return `python3 not runnable: ${py.error.message}`;
  if (py.status !== 0) return `python3 -c "import pyspark, delta, deltalake" failed: ${py.stderr.trim().split('\n').pop()}`;
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) return `java not runnable: ${java.error?.message ?? `java -version exited ${java.status}`}`;
  return '';
}
const skipReason = probeSpark();
if (skipReason && process.env.SLUICE_REQUIRE_SPARK === '1') throw new Error(`Spark interop required but unavailable: ${skipReason}`);
if (skipReason) console.warn(`[spark] skipping Spark/delta-spark interop tests: ${skipReason} (install: make test-spark)`);

// ---------------------------------------------------------------- row representations

type Cell = string | number | boolean | null | Record<string, string | null>;
type Rec = Record<string, Cell>;

/** Epoch µs → "2024-01-02T03:04:05.678901Z" (what spark_delta.py prints for timestamps). */
function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace('Z', String(us - ms * 1000).padStart(3, '0') + 'Z');
}
/** Epoch days → "YYYY-MM-DD". */
function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}
function microsOf(iso: string): number {
  const m = /^(.*)\.(\d{3})(\d{3})Z$/.exec(iso);
  if (!m) throw new Error(`not an ISO µs timestamp: ${iso}`);
  return Date.parse(`${m[1]}.${m[2]}Z`) * 1000 + Number(m[3]);
}
function daysOf(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
}

/** Our rows (µs, days) in Spark's printed representation (ISO strings). */
function toSpark(columns: DeltaColumn[], rows: Record<string, unknown>[]): Rec[] {
  return rows.map((r) => {
    const out: Rec = {};
    for (const c of columns) {
      const v = r[c.name] as Cell | undefined;
      out[c.name] = v === null || v === undefined ? null : c.type === 'timestamp' ? isoMicros(v as number) : c.type === 'date' ? isoDate(v as number) : v;
    }
    return out;
  });
}
/** Spark's printed rows back to ours (µs, days). */
function fromSpark(columns: DeltaColumn[], rows: Rec[]): Rec[] {
  return rows.map((r) => {
    const out: Rec = {};
    for (const c of columns) {
      const v = r[c.name] ?? null;
      out[c.name] = v === null ? null : c.type === 'timestamp' ? microsOf(v as string) : c.type === 'date' ? daysOf(v as string) : v;
    }
    return out;
  });
}

function arrowOf(columns: DeltaColumn[], rows: Record<string, CellValue>[]): Table {
  const b = new ColumnBuilder(columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })));
  for (const r of rows) b.append(r);
  return b.build();
}
function byKey<T extends Record<string, unknown>>(rows: T[], key = 'id'): T[] {
  return [...rows].sort((a, b) => Number(a[key]) - Number(b[key]));
}

// ---------------------------------------------------------------- the Python helpers

interface SparkRead {
  ok: boolean;
  error?: string;
  version: number;
  count: number;
  columns: [string, string][];
  rows: Rec[];
  detail: { partitionColumns: string[]; numFiles: number; minReaderVersion: number; minWriterVersion: number };
  where: Record<string, number>;
}
interface SparkResult extends Partial<Omit<SparkRead, 'ok'>> {
  ok: boolean;
  error?: string;
  seconds: number;
}
type SparkOp =
  | { op: 'read'; table: string; where?: string[]; limit?: number; conf?: Record<string, string> }
  | { op: 'write'; table: string; kind: 'partitioned' }
  | { op: 'append'; table: string; rows: Rec[] }
  | { op: 'sql'; views: Record<string, string>; query: string };

/** Runs `ops` in one Spark session; returns each op's result (keyed as given). */
async function sparkCheck<K extends string>(dir: string, ops: Record<K, SparkOp>): Promise<Record<K, SparkResult>> {
  const keys = Object.keys(ops) as K[];
  const spec = join(dir, `spark-spec-${Date.now()}.json`);
  await writeFile(spec, JSON.stringify({ ops: keys.map((k) => ops[k]) }));
  const t0 = Date.now();
  const r = spawnSync('python3', [SPARK_SCRIPT, 'check', spec], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  const lastLine = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !lastLine.startsWith('{')) throw new Error(`spark_delta.py check failed (${r.status ?? r.signal}): ${r.stderr?.slice(-4000)}`);
  // Ivy prints ":: loading settings ::" on stdout before our JSON line: take the last line.
  const out = JSON.parse(lastLine) as { spark: string; results: SparkResult[] };
  console.info(`[spark] Spark ${out.spark}: ${keys.length} ops in ${((Date.now() - t0) / 1000).toFixed(1)}s (${keys.map((k, i) => `${k} ${out.results[i]!.seconds}s`).join(', ')})`);
  return Object.fromEntries(keys.map((k, i) => [k, out.results[i]!])) as Record<K, SparkResult>;
}

/** The op's result, failing with Spark's own message when Spark could not do it. */
function ok(r: SparkResult | undefined, what: string): SparkRead {
  if (!r) throw new Error(`${what}: no Spark result (the Spark phase failed; see the beforeAll error)`);
  if (!r.ok) throw new Error(`Spark failed on ${what}: ${r.error}`);
  return r as SparkRead;
}

function deltaRsRead(root: string): { version: number; rows: number; data: Rec[] } {
  const r = spawnSync('python3', [RS_READ, root], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`read_with_deltalake.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { version: number; rows: number; data: Rec[] };
}

async function deltaRsWrite(dir: string, root: string, spec: { columns: DeltaColumn[]; partitionBy: string[]; rows: Rec[] }): Promise<void> {
  const file = join(dir, 'deltars-spec.json');
  await writeFile(file, JSON.stringify(spec));
  const r = spawnSync('python3', [RS_WRITE, root, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`write_with_deltalake.py failed (${r.status}): ${r.stderr}`);
}

// ---------------------------------------------------------------- the data

const TYPES: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 's', type: 'string', nullable: true },
  { name: 'l', type: 'long', nullable: true },
  { name: 'i', type: 'integer', nullable: true },
  { name: 'd', type: 'double', nullable: true },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 't', type: 'timestamp', nullable: true },
  { name: 'day', type: 'date', nullable: true },
  { name: 'p', type: 'string', nullable: true },
];
const NULLABLE_TYPES = TYPES.map((c) => ({ ...c, nullable: true }));

const TS = Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000 + 901;
const PARTS: (string | null)[] = ['a b', 'a/b', '100%', 'é ünï ✓', null, 'x=y:z#?&', '%20', 'tab\there', "quote'\"[]{}^|<>*\\"];
const DAYS: (number | null)[] = [19_724, -1, 0, null, 24_855];
const STRINGS: (string | null)[] = ['héllo', null, '', 'z'.repeat(40), 'ünïcode ✓', 'x', '\u{1F600} emoji', 'zzz'.repeat(20) + '\u{10FFFF}'];
// Down to 1900-01-01T00:00:00Z exactly: Spark refuses older values in Parquet files not written by Spark (see 'ancient').
const T_1900 = -2_208_988_800_000_000;
const SPECIAL_T: (number | null)[] = [TS, null, -1, 0, 1, TS + 1, 2_147_483_648_000_000, T_1900, 4_102_444_799_999_999 /* 2099-12-31T23:59:59.999999 */];
/** Values Defender and .NET really emit (DateTime.MinValue = 0001-01-01) and dates before the Gregorian switch. */
const T_0001 = -62_135_596_800_000_000;
const ANCIENT: Rec[] = [
  { id: 1, s: 'DateTime.MinValue', l: 1, i: 1, d: 1, b: true, t: T_0001, day: -719_162 /* 0001-01-01 */, p: 'old' },
  { id: 2, s: 'just before 1900', l: 2, i: 2, d: 2, b: false, t: T_1900 - 1, day: -141_438 /* 1582-10-14 */, p: 'old' },
  { id: 3, s: 'recent', l: 3, i: 3, d: 3, b: null, t: TS, day: 19_724, p: 'new' },
];
const REBASE = 'spark.sql.parquet.datetimeRebaseModeInRead';

/** Commit k's rows (ids k*10 .. k*10+3): special values round-robin, µs-distinct timestamps. */
function ourRows(k: number): Rec[] {
  const rows: Rec[] = [];
  for (let j = 0; j < 4; j++) {
    const n = k * 4 + j;
    const id = k * 10 + j;
    const nullRow = n % 11 === 10; // not one of the SPECIAL_T rows (n < 9)
    rows.push({
      id,
      s: nullRow ? null : STRINGS[n % STRINGS.length]!,
      l: nullRow ? null : [2 ** 40, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0, n * 1_000_003][n % 6]!,
      i: nullRow ? null : [7, -2_147_483_648, 2_147_483_647, 0, n][n % 5]!,
      d: nullRow ? null : [1.5, -0.25, 1e300, 0, -1e-300, n / 3][n % 6]!,
      b: nullRow ? null : n % 3 === 0,
      t: nullRow ? null : n < SPECIAL_T.length ? SPECIAL_T[n]! : TS + n * 1_000_001 + j,
      day: nullRow ? null : DAYS[n % DAYS.length]!,
      p: PARTS[(k + j) % PARTS.length]!,
    });
  }
  return rows;
}
const OUR_COMMITS = 27;
const OURS: Rec[] = Array.from({ length: OUR_COMMITS }, (_, k) => ourRows(k)).flat();

/** Predicates Spark evaluates with partition pruning and data skipping on our stats, with our own evaluation. */
const T_MID = TS + 40 * 1_000_001;
const PREDICATES: [string, (r: Rec) => boolean][] = [
  [`t = TIMESTAMP'${isoMicros(TS).replace('T', ' ').replace('Z', '')}'`, (r) => r.t === TS],
  [`t = TIMESTAMP'${isoMicros(TS + 1).replace('T', ' ').replace('Z', '')}'`, (r) => r.t === TS + 1],
  [`t > TIMESTAMP'${isoMicros(T_MID).replace('T', ' ').replace('Z', '')}'`, (r) => r.t !== null && (r.t as number) > T_MID],
  [`t <= TIMESTAMP'${isoMicros(T_MID).replace('T', ' ').replace('Z', '')}'`, (r) => r.t !== null && (r.t as number) <= T_MID],
  [`t < TIMESTAMP'1970-01-01 00:00:00'`, (r) => r.t !== null && (r.t as number) < 0],
  [`t IS NULL`, (r) => r.t === null],
  [`s = 'x'`, (r) => r.s === 'x'],
  [`s = '${'z'.repeat(40)}'`, (r) => r.s === 'z'.repeat(40)],
  [`s > 'zzzz'`, (r) => r.s !== null && (r.s as string) > 'zzzz'],
  [`s = '\u{1F600} emoji'`, (r) => r.s === '\u{1F600} emoji'],
  [`s IS NULL`, (r) => r.s === null],
  [`l = 9007199254740991`, (r) => r.l === Number.MAX_SAFE_INTEGER],
  [`l < -1`, (r) => r.l !== null && (r.l as number) < -1],
  [`i = -2147483648`, (r) => r.i === -2_147_483_648],
  [`d > 1e299`, (r) => r.d !== null && (r.d as number) > 1e299],
  [`d < 0`, (r) => r.d !== null && (r.d as number) < 0],
  [`b = false`, (r) => r.b === false],
  [`day = DATE'2024-01-02'`, (r) => r.day === 19_724],
  [`day IS NULL`, (r) => r.day === null],
  [`p = 'a/b'`, (r) => r.p === 'a/b'],
  [`p = '100%'`, (r) => r.p === '100%'],
  [`p = 'tab\\there'`, (r) => r.p === 'tab\there'],
  [`p IS NULL`, (r) => r.p === null],
  [`id BETWEEN 55 AND 131`, (r) => (r.id as number) >= 55 && (r.id as number) <= 131],
];

// The silver table: DeviceNetworkEvents columns (json stored as string), generator records coerced as the parser does.
const SILVER_DEF = defenderTables.DeviceNetworkEvents!;
const SILVER_COLS: DeltaColumn[] = fullColumnsOf(SILVER_DEF).map((c) => ({
  name: c.name,
  type: (c.type === 'json' ? 'string' : c.type) as DeltaType,
  nullable: c.nullable ?? true,
}));
function silverRows(): Row[] {
  const { records } = generateDefenderRecords({ seed: 4242, counts: { DeviceNetworkEvents: 400 }, malformed: 10, spanHours: 60 });
  const validate = compileValidator(SILVER_DEF);
  const rows: Row[] = [];
  for (const rec of records) {
    const v = validate(rec);
    if (v.disposition !== 'keep' || !v.row) continue;
    const n = rows.length;
    rows.push({
      ...v.row,
      RemoteIP_geo_country: n % 5 === 0 ? 'DE' : null,
      RemoteIP_geo_city: n % 7 === 0 ? 'Zürich' : null,
      _source: 'defender_xdr',
      _object: `eventhub/partition-0/${Math.floor(n / 50)}`,
      _raw_seq: 1000 + Math.floor(n / 50),
      _input_seq: n + 1,
      _ingest_time: (v.row.Timestamp as number) + 90_000_123,
      _parser_version: 'test',
      _raw: JSON.stringify(rec),
    });
  }
  return rows;
}

// OPTIMIZE + VACUUM: 12 small appends to a partitioned table (the escaped partition values), then compacted.
const OPT_COMMITS = 12;
const OPT_ROWS: Rec[] = Array.from({ length: OPT_COMMITS }, (_, k) => ourRows(k)).flat();
const MiB = 1024 * 1024;

// Schema evolution ('addNewColumns'): created with [a, b], then c (nullable timestamp) and d (map<string,string>,
// the type CloudTrail's requestParameters use) added by a later append.
const EVO_AB: DeltaColumn[] = [
  { name: 'a', type: 'long', nullable: false },
  { name: 'b', type: 'string', nullable: true },
];
const EVO_ABC: DeltaColumn[] = [...EVO_AB, { name: 'c', type: 'timestamp', nullable: true }, { name: 'd', type: 'map', nullable: true }];
const EVO_OLD: Rec[] = [1, 2, 3].map((a) => ({ a, b: `old ${a}` }));
const EVO_MAPS: (Record<string, string | null> | null)[] = [{ bucketName: 'logs', 'ключ ✓': 'värde', empty: '', none: null }, {}, null];
const EVO_NEW: Rec[] = [4, 5, 6].map((a, j) => ({ a, b: j === 1 ? null : `new ${a}`, c: j === 2 ? null : TS + a, d: EVO_MAPS[j]! }));

// ---------------------------------------------------------------- the suite

describe.skipIf(skipReason !== '')('interop with Spark (delta-spark)', () => {
  let dir: string;
  const t = {} as Record<'ours' | 'oursCkptOnly' | 'oursSparkAppend' | 'spark' | 'rs' | 'silver' | 'ancient' | 'ancientRs' | 'optimized' | 'evolved', string>;
  let silver: Row[] = [];
  const ourSparkAppend: Rec[] = [300, 301, 302].map((id, j) => ({ ...OURS[j + 1]!, id, p: j === 0 ? 'spark/appended %' : OURS[j + 1]!.p! }));
  const onSpark: Rec[] = [1001, 1002, 1003].map((id, j) => ({ ...OURS[j * 5]!, id }));
  const onRs: Rec[] = [2001, 2002].map((id, j) => ({ ...OURS[j * 7 + 2]!, id }));
  const RS_ROWS: Rec[] = OURS.slice(0, 12).map((r) => ({ ...r, id: (r.id as number) + 500 }));
  let phase1: Record<
    | 'readOurs'
    | 'readCkptOnly'
    | 'readSilver'
    | 'silverSql'
    | 'writeSpark'
    | 'appendOurs0'
    | 'appendOurs1'
    | 'appendOurs2'
    | 'readRs'
    | 'ancientDefault'
    | 'ancientCorrected'
    | 'ancientRsDefault'
    | 'readOptimized'
    | 'readEvolved',
    SparkResult
  >;
  let phase2: Record<'readSpark' | 'readRs' | 'readMixed', SparkResult>;
  // Our table after Spark's three appends (Spark wrote checkpoint 30), read from Spark's checkpoint alone; then our append on top.
  let fromSparkCkpt: Awaited<ReturnType<typeof readTable>> | undefined;
  let sparkCkptFiles: string[] = [];
  let staleTxnError: unknown;
  const ourAfterSpark: Rec[] = [{ ...OURS[3]!, id: 400 }];
  let sparkCreated: Awaited<ReturnType<typeof readTable>>;
  let started = 0;
  // The optimized table: our rows before OPTIMIZE, its result, VACUUM's deletions, and our active files after.
  let optBefore: Record<string, unknown>[] = [];
  let optFilesBefore = 0;
  let optResult: OptimizeResult;
  let optVacuumed: string[] = [];
  let optAfter: { version: number; files: string[] };
  let evoVersion = -1;

  beforeAll(async () => {
    started = Date.now();
    dir = await mkdtemp(join(tmpdir(), 'delta-spark-'));
    for (const k of Object.keys({ ours: 1, oursCkptOnly: 1, oursSparkAppend: 1, spark: 1, rs: 1, silver: 1, ancient: 1, ancientRs: 1, optimized: 1, evolved: 1 }) as (keyof typeof t)[]) t[k] = join(dir, k);

    // Our partitioned table: 27 appends with txns, checkpoints at versions 10 and 20.
    const ours = await DeltaTable.openOrCreate(t.ours, { columns: TYPES, partitionBy: ['p', 'day'], checkpointInterval: 10 });
    for (let k = 0; k < OUR_COMMITS; k++) await ours.append(arrowOf(TYPES, ourRows(k)), { txn: { appId: 'sink', version: k, expected: k - 1 }, commitInfo: { sluiceAppId: 'sink', sluiceInputSeqs: [k] } });
    expect(ours.lastCheckpointError).toBeUndefined();
    expect(readdirSync(join(t.ours, '_delta_log'))).toContain('00000000000000000020.checkpoint.parquet');
    // A copy whose commits up to the checkpoint are gone (log cleanup): Spark must rebuild the state from our checkpoint.
    await cp(t.ours, t.oursCkptOnly, { recursive: true });
    for (let v = 0; v <= 20; v++) await rm(join(t.oursCkptOnly, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    await cp(t.ours, t.oursSparkAppend, { recursive: true });

    // The silver table, appended in three batches.
    silver = silverRows();
    const st = await DeltaTable.openOrCreate(t.silver, { columns: SILVER_COLS, partitionBy: ['eventDate'] });
    for (let k = 0; k < 3; k++) await st.append(arrowOf(SILVER_COLS, silver.filter((_, n) => n % 3 === k)), { txn: { appId: 'parser', version: k } });

    // delta-rs creates its table; we append to it.
    await deltaRsWrite(dir, t.rs, { columns: TYPES, partitionBy: ['p'], rows: RS_ROWS });
    const rs = await DeltaTable.openOrCreate(t.rs, { columns: TYPES, partitionBy: ['p'] });
    await rs.append(arrowOf(TYPES, onRs));

    // Pre-1900 timestamps and pre-Gregorian dates, written by us and (for comparison) by delta-rs.
    await (await DeltaTable.openOrCreate(t.ancient, { columns: TYPES, partitionBy: ['p'] })).append(arrowOf(TYPES, ANCIENT));
    await deltaRsWrite(dir, t.ancientRs, { columns: TYPES, partitionBy: ['p'], rows: ANCIENT });

    // 12 small appends to a partitioned table, OPTIMIZE (everything fits one 64 MiB bin per partition), VACUUM at 0 h.
    const opt = await DeltaTable.openOrCreate(t.optimized, { columns: TYPES, partitionBy: ['p'] });
    for (let k = 0; k < OPT_COMMITS; k++) await opt.append(arrowOf(TYPES, ourRows(k)));
    optFilesBefore = (await opt.snapshot()).files.length;
    optBefore = (await readTable(t.optimized)).rows;
    optResult = await optimize(opt, { targetFileBytes: 64 * MiB });
    await new Promise((r) => setTimeout(r, 20)); // the removes' deletionTimestamp must be strictly older than vacuum's clock
    optVacuumed = await vacuum(t.optimized, { retentionHours: 0, force: true });
    const optSnap = await (await DeltaTable.open(t.optimized)).snapshot();
    optAfter = { version: optSnap.version, files: optSnap.files.map((f) => f.path) };

    // Schema evolution: created with [a, b] and appended; reopened with [a, b, c nullable] and appended with c set.
    await (await DeltaTable.openOrCreate(t.evolved, { columns: EVO_AB, partitionBy: [] })).append(arrowOf(EVO_AB, EVO_OLD));
    const evo = await DeltaTable.openOrCreate(t.evolved, { columns: EVO_ABC, partitionBy: [], schemaEvolution: 'addNewColumns' });
    evoVersion = (await evo.append(arrowOf(EVO_ABC, EVO_NEW))).version;

    // Spark session 1: create Spark's table, read ours, append to (a copy of) ours.
    phase1 = await sparkCheck(dir, {
      readOurs: { op: 'read', table: t.ours, where: PREDICATES.map(([p]) => p) },
      readCkptOnly: { op: 'read', table: t.oursCkptOnly },
      readSilver: { op: 'read', table: t.silver },
      silverSql: {
        op: 'sql',
        views: { silver: t.silver },
        query:
          "SELECT date_format(eventDate, 'yyyy-MM-dd') AS eventDate, count(*) AS n, min(`Timestamp`) AS mn, max(`Timestamp`) AS mx, " +
          'count(DISTINCT DeviceId) AS devices, sum(CAST(RemotePort AS BIGINT)) AS ports FROM silver GROUP BY eventDate ORDER BY eventDate',
      },
      writeSpark: { op: 'write', table: t.spark, kind: 'partitioned' },
      // Three commits (versions 28-30): Spark writes checkpoint 30 (our table's delta.checkpointInterval is 10).
      appendOurs0: { op: 'append', table: t.oursSparkAppend, rows: toSpark(TYPES, ourSparkAppend.slice(0, 1)) },
      appendOurs1: { op: 'append', table: t.oursSparkAppend, rows: toSpark(TYPES, ourSparkAppend.slice(1, 2)) },
      appendOurs2: { op: 'append', table: t.oursSparkAppend, rows: toSpark(TYPES, ourSparkAppend.slice(2)) },
      readRs: { op: 'read', table: t.rs },
      ancientDefault: { op: 'read', table: t.ancient },
      ancientCorrected: { op: 'read', table: t.ancient, conf: { [REBASE]: 'CORRECTED' } },
      ancientRsDefault: { op: 'read', table: t.ancientRs },
      readOptimized: { op: 'read', table: t.optimized, where: PREDICATES.map(([p]) => p) },
      readEvolved: { op: 'read', table: t.evolved, where: ['c IS NULL', 'c IS NOT NULL', `c > TIMESTAMP'${isoMicros(TS).replace('T', ' ').replace('Z', '')}'`] },
    });

    // We read Spark's table and append to it.
    if (phase1.writeSpark.ok) {
      sparkCreated = await readTable(t.spark);
      const sp = await DeltaTable.openOrCreate(t.spark, { columns: NULLABLE_TYPES, partitionBy: ['p', 'day'] });
      await sp.append(arrowOf(NULLABLE_TYPES, onSpark));
    }

    // Spark's checkpoint of our table: we rebuild the table from it alone, then append on top (txns survived it).
    sparkCkptFiles = readdirSync(join(t.oursSparkAppend, '_delta_log'));
    const sparkCkptOnly = join(dir, 'sparkCkptOnly');
    await cp(t.oursSparkAppend, sparkCkptOnly, { recursive: true });
    for (let v = 0; v <= OUR_COMMITS + 3; v++) await rm(join(sparkCkptOnly, '_delta_log', `${String(v).padStart(20, '0')}.json`), { force: true });
    fromSparkCkpt = await readTable(sparkCkptOnly);
    const mixed = await DeltaTable.openOrCreate(t.oursSparkAppend, { columns: TYPES, partitionBy: ['p', 'day'], checkpointInterval: 10 });
    staleTxnError = await mixed.append(arrowOf(TYPES, ourAfterSpark), { txn: { appId: 'sink', version: OUR_COMMITS - 1 } }).catch((e: unknown) => e);
    await mixed.append(arrowOf(TYPES, ourAfterSpark), { txn: { appId: 'sink', version: OUR_COMMITS } });

    // Spark session 2: what we appended to Spark's, delta-rs's and the mixed table.
    phase2 = await sparkCheck(dir, {
      readSpark: { op: 'read', table: t.spark },
      readRs: { op: 'read', table: t.rs },
      readMixed: { op: 'read', table: t.oursSparkAppend },
    });
  }, 900_000);

  afterAll(async () => {
    console.info(`[spark] suite data phase took ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Spark reads our 27-commit checkpointed table: every row and value, µs timestamps, types, partitions', () => {
    const r = ok(phase1.readOurs, 'reading our table');
    expect(r.version).toBe(OUR_COMMITS);
    expect(r.count).toBe(OURS.length);
    expect(r.columns).toEqual([
      ['id', 'bigint'], ['s', 'string'], ['l', 'bigint'], ['i', 'int'], ['d', 'double'], ['b', 'boolean'], ['t', 'timestamp'], ['day', 'date'], ['p', 'string'],
    ]);
    expect(r.detail).toMatchObject({ partitionColumns: ['p', 'day'], minReaderVersion: 1 });
    expect(r.rows).toEqual(toSpark(TYPES, byKey(OURS)));
    // And back: Spark's values parse to exactly the µs / days we wrote.
    expect(fromSpark(TYPES, r.rows)).toEqual(byKey(OURS));
  });

  it('Spark filters on our partition values and stats (pruning / data skipping) give the right counts', () => {
    const r = ok(phase1.readOurs, 'reading our table');
    const expected = Object.fromEntries(PREDICATES.map(([p, f]) => [p, OURS.filter(f).length]));
    expect(r.where).toEqual(expected);
    for (const [p, n] of Object.entries(expected)) if (!p.includes('zzzz')) expect(n, p).toBeGreaterThan(0); // each predicate selects something
  });

  it('Spark rebuilds our table from our checkpoint alone (commits 0..20 deleted)', () => {
    const r = ok(phase1.readCkptOnly, 'reading our table from its checkpoint');
    expect(r.version).toBe(OUR_COMMITS);
    expect(r.rows).toEqual(toSpark(TYPES, byKey(OURS)));
  });

  it("Spark appends to our table: we read its files (INT96, snappy) and its checkpoint, append on top, and Spark reads it all", () => {
    for (const k of ['appendOurs0', 'appendOurs1', 'appendOurs2'] as const) ok(phase1[k], `appending to our table (${k})`);
    expect(sparkCkptFiles).toContain(`${String(OUR_COMMITS + 3).padStart(20, '0')}.checkpoint.parquet`);
    // Rebuilt from Spark's checkpoint alone (commits 0..30 deleted).
    expect(fromSparkCkpt?.version).toBe(OUR_COMMITS + 3);
    expect(byKey(fromSparkCkpt!.rows)).toEqual(byKey([...OURS, ...ourSparkAppend]));
    // Our txn (sink at 26) survived Spark's commits and checkpoint: a stale batch is refused.
    expect(staleTxnError).toBeInstanceOf(DeltaTxnConflictError);
    const r = ok(phase2.readMixed, 'reading our table after Spark and we appended');
    expect(r.version).toBe(OUR_COMMITS + 4);
    expect(r.rows).toEqual(toSpark(TYPES, byKey([...OURS, ...ourSparkAppend, ...ourAfterSpark])));
  });

  it('a sluice silver table (DeviceNetworkEvents): Spark reads every row, and its GROUP BY eventDate matches ours', () => {
    const r = ok(phase1.readSilver, 'reading the silver table');
    expect(silver.length).toBeGreaterThan(300);
    expect(r.count).toBe(silver.length);
    expect(r.detail.partitionColumns).toEqual(['eventDate']);
    expect(byKey(r.rows, '_input_seq')).toEqual(toSpark(SILVER_COLS, byKey(silver, '_input_seq')));

    const q = ok(phase1.silverSql, 'the silver GROUP BY');
    const groups = new Map<number, Row[]>();
    for (const row of silver) {
      const d = row.eventDate as number;
      expect(d).toBe(eventDateOf(row.Timestamp as number));
      groups.set(d, [...(groups.get(d) ?? []), row]);
    }
    const mine = [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([d, rows]) => {
        const ts = rows.map((x) => x.Timestamp as number);
        return {
          eventDate: isoDate(d),
          n: rows.length,
          mn: isoMicros(Math.min(...ts)),
          mx: isoMicros(Math.max(...ts)),
          devices: new Set(rows.map((x) => x.DeviceId)).size,
          ports: rows.some((x) => x.RemotePort !== null) ? rows.reduce((s, x) => s + ((x.RemotePort as number | null) ?? 0), 0) : null,
        };
      });
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(q.rows).toEqual(mine);
  });

  it('Spark creates a table: we read identical rows, append, and Spark reads the combined rows', () => {
    const w = ok(phase1.writeSpark, 'creating its table');
    const written = w.rows;
    // Ours == what Spark wrote (as Spark itself printed it).
    expect(toSpark(NULLABLE_TYPES, byKey(sparkCreated.rows))).toEqual(written);
    const r = ok(phase2.readSpark, 'reading its table after our append');
    expect(r.version).toBe(1);
    expect(r.count).toBe(written.length + onSpark.length);
    expect(r.rows).toEqual(byKey([...written, ...toSpark(NULLABLE_TYPES, onSpark)]));
  });

  it('delta-rs creates a table, we append: Spark and delta-rs both read the combined rows', () => {
    const before = ok(phase1.readRs, 'reading the delta-rs table');
    expect(before.rows.length).toBe(RS_ROWS.length + onRs.length); // phase 1 ran after our append too
    const r = ok(phase2.readRs, 'reading the delta-rs table after our append');
    const all = byKey([...RS_ROWS, ...onRs]);
    expect(r.rows).toEqual(toSpark(TYPES, all));
    const ext = deltaRsRead(t.rs);
    expect(ext.version).toBe(1);
    expect(byKey(ext.data)).toEqual(all);
  });

  it('pre-1900 timestamps / pre-1582 dates: Spark reads them exactly with CORRECTED rebase; default config refuses non-Spark files', () => {
    const fixed = ok(phase1.ancientCorrected, `reading ancient values with ${REBASE}=CORRECTED`);
    expect(fixed.rows).toEqual(toSpark(TYPES, ANCIENT));
    // Spark 3.x decides the calendar of a Parquet file by its footer key org.apache.spark.version; files without it
    // (ours, delta-rs's) are read with datetimeRebaseModeInRead, whose default EXCEPTION refuses ancient values.
    const dflt = phase1.ancientDefault!;
    const rs = phase1.ancientRsDefault!;
    console.info(`[spark] ancient values, default Spark config: ours ${dflt.ok ? 'read' : 'refused'}, delta-rs's ${rs.ok ? 'read' : 'refused'}`);
    if (dflt.ok) expect(dflt.rows).toEqual(toSpark(TYPES, ANCIENT));
    else expect(dflt.error).toContain('READ_ANCIENT_DATETIME');
  });

  it('OPTIMIZE + VACUUM (retention 0) on our partitioned table: Spark reads the same rows, and DESCRIBE DETAIL numFiles is our active file count', () => {
    // What we compacted: 12 appends of 4 rows over the escaped partition values, one bin per partition.
    expect(optBefore.length).toBe(OPT_ROWS.length);
    expect(byKey(optBefore as Rec[])).toEqual(byKey(OPT_ROWS));
    expect(optResult.filesRemoved).toBeGreaterThan(optResult.filesAdded);
    expect(optResult.version).toBe(OPT_COMMITS + 1);
    expect(optAfter.version).toBe(optResult.version);
    expect(optAfter.files.length).toBe(optFilesBefore - optResult.filesRemoved + optResult.filesAdded);
    expect(optVacuumed.length).toBe(optResult.filesRemoved); // every compacted-away file is gone from storage
    for (const f of optAfter.files) expect(optVacuumed).not.toContain(f);

    const r = ok(phase1.readOptimized, 'reading our optimized + vacuumed table');
    expect(r.version).toBe(optResult.version);
    expect(r.count).toBe(optBefore.length);
    expect(r.detail).toMatchObject({ partitionColumns: ['p'], numFiles: optAfter.files.length });
    expect(r.rows).toEqual(toSpark(TYPES, byKey(optBefore as Rec[])));
    expect(fromSpark(TYPES, r.rows)).toEqual(byKey(optBefore as Rec[]));
    // Data skipping on the compacted files' stats still finds every row.
    expect(r.where).toEqual(Object.fromEntries(PREDICATES.map(([p, f]) => [p, OPT_ROWS.filter(f).length])));
  });

  it("schema evolution ('addNewColumns'): Spark reads old rows with c null, new rows with c set, and reports c as a timestamp", () => {
    const r = ok(phase1.readEvolved, 'reading our schema-evolved table');
    expect(r.version).toBe(evoVersion);
    expect(r.columns).toEqual([['a', 'bigint'], ['b', 'string'], ['c', 'timestamp'], ['d', 'map<string,string>']]);
    const expected = toSpark(EVO_ABC, [...EVO_OLD, ...EVO_NEW]);
    expect(expected.slice(0, EVO_OLD.length).every((x) => x.c === null && x.d === null)).toBe(true);
    expect(byKey(r.rows, 'a')).toEqual(byKey(expected, 'a'));
    expect(r.where).toEqual({
      'c IS NULL': EVO_OLD.length + 1,
      'c IS NOT NULL': EVO_NEW.length - 1,
      [`c > TIMESTAMP'${isoMicros(TS).replace('T', ' ').replace('Z', '')}'`]: EVO_NEW.length - 1,
    });
  });
});
