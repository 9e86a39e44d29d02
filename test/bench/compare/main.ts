// Side-by-side benchmark (issue 8): the same generated NDJSON security events turned into the same typed,
// eventDate-partitioned, zstd Delta table by DuckDB + delta-rs, Spark Structured Streaming + delta-spark
// (local[1], local[2]), sluice's parser + sink in-process, and the whole sluice pipeline. Prints one table
// (events/s per core = events / CPU seconds) and writes it as JSON. Not a test: numbers only. See docs/PERFORMANCE.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeInput, writeSpec } from './input.ts';
import { loadAverage } from './procStats.ts';
import { engineRow, formatTable, type CompareReport, type EngineRow } from './report.ts';
import { cleanupPipeline, runSluicePipeline } from './sluicePipeline.ts';
import { tableStats } from './tableStats.ts';

const ENGINES = ['duckdb', 'spark', 'spark2', 'sluice', 'pipeline'] as const;
type Engine = (typeof ENGINES)[number];

const USAGE = `Usage: npx tsx test/bench/compare/main.ts [options]     (npm run bench:compare -- [options])

  --events N            generated events (default 1000000); ~780-byte Defender DeviceNetworkEvents records
  --engines LIST        comma-separated, default ${ENGINES.join(',')}:
                          duckdb    DuckDB (1 thread) reads the NDJSON, delta-rs write_deltalake writes the table
                          spark     Spark Structured Streaming + delta-spark, local[1], trigger availableNow
                          spark2    the same on local[2]
                          sluice    sluice's parser + sink stage functions in one process (no NATS)
                          pipeline  the whole sluice pipeline (nats-server + every service process)
  --out DIR             where results.json goes (default .sluice/bench-compare)
  --latency-seconds S   pipeline: seconds fed at half of saturation to measure ingest→committed latency (default 30; 0 skips)
  --flush-latency S     pipeline: sink flush.maxLatencySeconds (default 1)
  --duckdb-threads N    DuckDB threads (default 1)
  --timeout S           per engine (default 3600)
  --stall S             pipeline: give up when the silver row count has not moved for S seconds (default 180)
  --pipeline-logs FILE  pipeline: append every service's log lines (warn and above) to FILE
  --keep                keep the work dir (input and every table) and print its path
  -h, --help            this text

Python engines need python3 with duckdb, deltalake, pyarrow (make test-interop) and pyspark 3.5 + delta-spark 3.2
with Java 17 (make test-spark); an engine whose requirements are missing is reported as skipped.`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    engines: { type: 'string', default: ENGINES.join(',') },
    out: { type: 'string', default: '.sluice/bench-compare' },
    'latency-seconds': { type: 'string', default: '30' },
    'flush-latency': { type: 'string', default: '1' },
    'duckdb-threads': { type: 'string', default: '1' },
    timeout: { type: 'string', default: '3600' },
    stall: { type: 'string', default: '180' },
    'pipeline-logs': { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const N = Number(values.events);
const engines = values.engines.split(',').map((e) => e.trim()).filter(Boolean) as Engine[];
const unknown = engines.filter((e) => !ENGINES.includes(e));
if (!Number.isSafeInteger(N) || N <= 0 || unknown.length > 0) {
  console.error(unknown.length ? `unknown engine(s): ${unknown.join(', ')}` : `--events must be a positive integer`);
  console.error(USAGE);
  process.exit(2);
}
const timeoutSeconds = Number(values.timeout);
const HERE = import.meta.dirname;
const log = (s: string) => console.error(s);

function pythonMissing(modules: string): string | undefined {
  const r = spawnSync('python3', ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (r.error) return `python3 not runnable: ${r.error.message}`;
  return r.status === 0 ? undefined : `python3 -c "import ${modules}" failed: ${r.stderr.trim().split('\n').pop()}`;
}

/** Runs an engine process; resolves with the JSON its last stdout line holds. */
function runJson(cmd: string, args: string[], name: string): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) return res(JSON.parse(last) as Record<string, unknown>);
      rej(new Error(`${name} exited ${code ?? signal}: ${err.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return n;
}

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-compare-'));
const outFile = join(values.out, 'results.json');
/** Written after every engine too, so a long run that is stopped keeps what it measured. */
const writeResults = () => {
  mkdirSync(values.out, { recursive: true });
  writeFileSync(outFile, JSON.stringify({ ...report, workDir: values.keep ? work : undefined }, null, 2) + '\n');
};
const report: CompareReport = {
  events: N,
  inputBytes: 0,
  inputFiles: 0,
  machine: {
    nproc: cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadBefore: loadAverage(),
    loadAfter: [],
    startedAt: new Date().toISOString(),
    finishedAt: '',
  },
  rows: [],
  skipped: [],
};

try {
  log(`generating ${N.toLocaleString('en-US')} events into ${work}/input …`);
  const input = writeInput(join(work, 'input'), N);
  const spec = join(work, 'spec.json');
  writeSpec(spec);
  report.inputBytes = input.bytes;
  report.inputFiles = input.files.length;
  log(`${input.files.length} NDJSON files, ${(input.bytes / 1e6).toFixed(1)} MB, ${Math.round(input.bytes / N)} bytes/event`);

  for (const engine of engines) {
    const table = join(work, 'tables', engine);
    mkdirSync(join(work, 'tables'), { recursive: true });
    log(`\n== ${engine}`);
    try {
      let row: EngineRow;
      if (engine === 'duckdb' || engine === 'spark' || engine === 'spark2') {
        const missing = engine === 'duckdb' ? pythonMissing('duckdb, deltalake, pyarrow') : pythonMissing('pyspark, delta, deltalake');
        if (missing) throw new Error(`${missing} (install: ${engine === 'duckdb' ? 'make test-interop' : 'make test-spark'})`);
        const m =
          engine === 'duckdb'
            ? await runJson('python3', [join(HERE, 'duckdb_delta.py'), spec, input.dir, table, '--threads', values['duckdb-threads']], engine)
            : await runJson('python3', [join(HERE, 'spark_stream.py'), spec, input.dir, table, '--master', engine === 'spark' ? 'local[1]' : 'local[2]'], engine);
        const { wallSeconds, cpuSeconds, peakRssBytes, engine: name, ...detail } = m as { wallSeconds: number; cpuSeconds: number; peakRssBytes: number; engine: string };
        row = engineRow({ engine: name, events: N, wallSeconds, cpuSeconds, peakRssBytes }, await tableStats(table), N, detail);
      } else if (engine === 'sluice') {
        const m = await runJson(process.execPath, ['--import', 'tsx', join(HERE, 'sluiceStages.ts'), '--table', table, ...input.files], engine);
        const { wallSeconds, cpuSeconds, peakRssBytes, engine: name, events, ...detail } = m as { wallSeconds: number; cpuSeconds: number; peakRssBytes: number; engine: string; events: number };
        row = engineRow({ engine: name, events: N, wallSeconds, cpuSeconds, peakRssBytes }, await tableStats(table), N, { ...detail, eventsParsed: events });
      } else {
        const latencySeconds = Number(values['latency-seconds']);
        const r = await runSluicePipeline({ files: input.files, events: N, flushLatencySeconds: Number(values['flush-latency']), latencySeconds, timeoutSeconds, stallSeconds: Number(values.stall), logFile: values['pipeline-logs'], log });
        const t = await tableStats(r.tableRoot);
        const lake = resolve(r.tableRoot, '../..');
        const lakeBytes = dirBytes(lake);
        const expected = N + (r.latency ? r.latency.rateEventsPerSecond * latencySeconds : 0);
        row = engineRow(r, t, expected, {
          processes: r.processes.map((p) => ({ name: p.name, cpuSeconds: +p.cpuSecondsDuringRun.toFixed(2), peakRssMiB: Math.round(p.peakRssBytes / 1048576) })),
          latency: r.latency,
          // The pipeline also writes bronze (raw) and its other tables; "output bytes" above is the silver table alone.
          lakeBytesAllTables: lakeBytes,
          note: r.latency ? 'output bytes, files and rows include the latency phase rows (rateEventsPerSecond × latency seconds)' : undefined,
        });
        cleanupPipeline(r);
      }
      report.rows.push(row);
      writeResults();
      log(`${row.engine}: ${row.eventsPerCoreSecond.toLocaleString('en-US')} events/s per core, ${row.cpuSeconds} CPU s, ${row.wallSeconds} s wall, rows ${row.rowsOk ? 'ok' : `${row.rows} != ${row.expectedRows}`}`);
    } catch (e) {
      report.skipped.push({ engine, error: (e as Error).message });
      writeResults();
      log(`${engine} failed: ${(e as Error).message}`);
    } finally {
      if (!values.keep) rmSync(table, { recursive: true, force: true });
    }
  }
} finally {
  report.machine.loadAfter = loadAverage();
  report.machine.finishedAt = new Date().toISOString();
  if (values.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

writeResults();
const m = report.machine;
console.log(`\nsluice vs DuckDB + delta-rs vs Spark — ${N.toLocaleString('en-US')} events (${(report.inputBytes / 1e6).toFixed(1)} MB NDJSON in ${report.inputFiles} files), JSON → typed eventDate-partitioned zstd Delta`);
console.log(`machine: ${m.nproc} × ${m.cpuModel}, Node ${m.node}; load average before ${m.loadBefore.join(' ')}, after ${m.loadAfter.join(' ')}\n`);
console.log(formatTable(report));
for (const r of report.rows) {
  const lat = r.detail.latency as { p50: number | null; p99: number | null; rateEventsPerSecond: number; method: string } | undefined;
  // Spark's detail.processes is a count (JVM + Python driver); the pipeline's is a list per service.
  const procs = Array.isArray(r.detail.processes) ? (r.detail.processes as { name: string; cpuSeconds: number; peakRssMiB: number }[]) : undefined;
  if (procs) console.log(`\n${r.engine} per process (CPU s, peak RSS MiB): ${procs.map((p) => `${p.name} ${p.cpuSeconds} s ${p.peakRssMiB} MiB`).join(', ')}`);
  if (lat) console.log(`\n${r.engine}: ingest→committed latency at ${lat.rateEventsPerSecond.toLocaleString('en-US')} events/s: p50 ${lat.p50 ?? '?'} s, p99 ${lat.p99 ?? '?'} s (${lat.method})`);
}
console.log(`\nevents/s per core = events / CPU seconds (user + system, every process and thread of the engine). Results: ${outFile}`);
if (report.rows.some((r) => !r.rowsOk) || report.skipped.length > 0) process.exitCode = 1;
