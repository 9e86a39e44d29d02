// Delta write benchmark: N Defender-like rows (the silver DeviceNetworkEvents layout) into a table partitioned by
// eventDate, in flushes of --flush rows; then 100 small commits to time checkpoints and snapshot loads.
// Prints rows/s per core, MB/s, files and sizes. Run: npx tsx test/bench/deltaWrite.ts [--rows 1000000]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ColumnBuilder } from '@sluice/columnar';
import { DeltaTable } from '@sluice/delta';
import { compileValidator, defenderTables, fullColumnsOf } from '@sluice/tables';
import { deltaColumns } from '../../services/sink/main.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, flush: { type: 'string', default: '100000' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: npx tsx test/bench/deltaWrite.ts [--rows N] [--flush ROWS]');
  process.exit(0);
}
const N = Number(values.rows);
const FLUSH = Number(values.flush);
const def = defenderTables.DeviceNetworkEvents!;
const columns = fullColumnsOf(def);
const validate = compileValidator(def);

// Rows are prepared once (10 k distinct records reused) so the timing is the writer's, not the generator's.
const sample = generateDefenderRecords({ seed: 5, counts: { DeviceNetworkEvents: 10_000 }, spanHours: 72 }).records;
const rows = sample.map((r) => {
  const row: Record<string, unknown> = { ...validate(r).row!, _source: 'bench', _object: 'bench', _raw_seq: 1, _input_seq: 1, _ingest_time: Date.now() * 1000, _parser_version: 'bench', _raw: JSON.stringify(r) };
  return row as Record<string, string | number | boolean | null>;
});

const dir = mkdtempSync(join(tmpdir(), 'sluice-delta-bench-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
try {
  const table = await DeltaTable.openOrCreate(join(dir, 'big'), { name: def.name, columns: deltaColumns(def), partitionBy: def.partitionBy, checkpointInterval: 10 });
  let cpuWrite = 0;
  let wall = 0;
  let built = 0;
  for (let done = 0, v = 1; done < N; v++) {
    const n = Math.min(FLUSH, N - done);
    const b = new ColumnBuilder(columns);
    for (let i = 0; i < n; i++) b.append(rows[(done + i) % rows.length]!);
    const t = b.build();
    built += t.numRows;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await table.append(t, { txn: { appId: 'bench', version: v } });
    wall += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuWrite += (c.user + c.system) / 1e6;
    done += n;
    process.stderr.write(`\r${fmt(done)} / ${fmt(N)} rows`);
  }
  process.stderr.write('\n');
  const files: number[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== '_delta_log') walk(join(d, e.name));
      else if (e.isFile() && e.name.endsWith('.parquet')) files.push(statSync(join(d, e.name)).size);
    }
  };
  walk(join(dir, 'big'));
  const bytes = files.reduce((a, b) => a + b, 0);
  const rawBytes = rows.reduce((a, r) => a + String(r._raw).length, 0) * (N / rows.length);
  console.log(`\nDelta write: ${fmt(built)} rows (~${Math.round(rawBytes / N)} B raw JSON each), flushes of ${fmt(FLUSH)}, partitioned by eventDate`);
  console.log(`  rows/s per core     ${fmt(N / cpuWrite)}   (CPU ${cpuWrite.toFixed(1)} s; wall ${fmt(N / (wall / 1000))} rows/s)`);
  console.log(`  input MB/s per core ${(rawBytes / 1e6 / cpuWrite).toFixed(1)}   (raw JSON equivalent)`);
  console.log(`  files ${files.length}, ${(bytes / 1e6).toFixed(1)} MB total, min ${(Math.min(...files) / 1e6).toFixed(2)} MB, max ${(Math.max(...files) / 1e6).toFixed(2)} MB, compression ${(rawBytes / bytes).toFixed(1)}x vs raw JSON`);

  // 100 small commits: checkpoint cost and snapshot load with and without checkpoints.
  const small = await DeltaTable.openOrCreate(join(dir, 'commits'), { columns: deltaColumns(def), partitionBy: def.partitionBy, checkpointInterval: 10 });
  const one = new ColumnBuilder(columns);
  one.append(rows[0]!);
  const tOne = one.build();
  const times: number[] = [];
  for (let v = 1; v <= 100; v++) {
    const t0 = performance.now();
    await small.append(tOne, { txn: { appId: 'c', version: v } });
    times.push(performance.now() - t0);
  }
  const ckpt = times.filter((_, i) => (i + 1) % 10 === 0);
  const plain = times.filter((_, i) => (i + 1) % 10 !== 0);
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const t0 = performance.now();
  const snap = await (await DeltaTable.open(join(dir, 'commits'))).snapshot();
  console.log(`\n100 commits of 1 row: avg commit ${avg(plain).toFixed(1)} ms, with checkpoint ${avg(ckpt).toFixed(1)} ms (checkpoint ≈ ${(avg(ckpt) - avg(plain)).toFixed(1)} ms); snapshot load at v${snap.version} ${(performance.now() - t0).toFixed(1)} ms, ${snap.files.length} files`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
