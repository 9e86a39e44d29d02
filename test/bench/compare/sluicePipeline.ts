// The whole-pipeline engine of the comparison: nats-server and every service as its own process (cli/pipeline.ts
// startPipeline, Defender source only), the NDJSON files hard-linked into the collector's inbox, timed until the
// silver table holds all N rows. CPU seconds are utime+stime from /proc of every service process and nats-server
// (after minus before the feed); peak RSS is the largest VmHWM of them.
// Then, optionally, a latency phase: new files at half the measured saturation rate, one per second, and the
// ingest→committed latency of exactly those rows (row _ingest_time vs the commitInfo timestamp of its commit).
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, linkSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DeltaTable } from '@sluice/delta';
import { startPipeline, waitReady } from '../../../cli/pipeline.ts';
import { startNatsServer } from '../../support/natsServer.ts';
import { TABLE } from './input.ts';
import { sample, type ProcSample } from './procStats.ts';
import { hasDeltaRs } from './tableStats.ts';

export interface PipelineRunOptions {
  files: string[];
  events: number;
  /** The sink's flush.maxLatencySeconds (latency-tuned flushing); maxRows stays the default 200 000. */
  flushLatencySeconds: number;
  /** Seconds of the latency phase at half of saturation; 0 skips it. */
  latencySeconds: number;
  timeoutSeconds: number;
  /** Give up when the silver row count has not moved for this long (a stall, or rows lost on the way). */
  stallSeconds?: number;
  /** Every service log line (level warn and above) is appended here when set. */
  logFile?: string;
  log?: (line: string) => void;
}

export interface Latency {
  rateEventsPerSecond: number;
  rows: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** `delta-log` (exact: rows' _ingest_time vs commitInfo.timestamp) or `histogram` (sink's sluice_ingest_lag_seconds). */
  method: 'delta-log' | 'histogram';
}

export interface PipelineResult {
  engine: 'sluice pipeline';
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  tableRoot: string;
  workDir: string;
  processes: (ProcSample & { cpuSecondsDuringRun: number })[];
  latency?: Latency;
}

const HERE = import.meta.dirname;
const SILVER = TABLE.name;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows committed so far, from the snapshot's per-file stats (numRecords), without reading any Parquet. */
async function committedRows(root: string): Promise<number> {
  const t = await DeltaTable.open(root).catch(() => undefined);
  if (!t) return 0;
  let n = 0;
  for (const f of (await t.snapshot()).files) n += f.stats ? Number((JSON.parse(f.stats) as { numRecords?: number }).numRecords ?? 0) : 0;
  return n;
}

async function waitRows(root: string, want: number, timeoutMs: number, stallMs: number, log?: (l: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const n = await committedRows(root);
    if (n !== last) {
      log?.(`  silver rows ${n.toLocaleString('en-US')} / ${want.toLocaleString('en-US')}`);
      movedAt = Date.now();
    }
    last = n;
    if (n >= want) return;
    if (Date.now() > deadline) throw new Error(`silver table holds ${n} of ${want} rows after ${timeoutMs / 1000} s`);
    if (Date.now() - movedAt > stallMs) throw new Error(`silver table stuck at ${n} of ${want} rows for ${stallMs / 1000} s`);
    await sleep(250);
  }
}

function place(file: string, inbox: string, name = basename(file)): void {
  const to = join(inbox, name);
  try {
    linkSync(file, to);
  } catch {
    copyFileSync(file, `${to}.tmp`);
    renameSync(`${to}.tmp`, to);
  }
}

/** Cumulative buckets of sluice_ingest_lag_seconds for the silver table, from the sink's /metrics. */
async function lagBuckets(port: number): Promise<Map<number, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<number, number>();
  const re = new RegExp(`^sluice_ingest_lag_seconds_bucket\\{[^}]*le="([^"]+)"[^}]*table="${SILVER}"[^}]*\\} (\\S+)$|^sluice_ingest_lag_seconds_bucket\\{[^}]*table="${SILVER}"[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const le = m[1] ?? m[3]!;
    out.set(le === '+Inf' ? Infinity : Number(le), Number(m[2] ?? m[4]));
  }
  return out;
}

/** A quantile from the difference of two cumulative histograms, linearly interpolated inside its bucket. */
export function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number | null {
  const les = [...after.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i]! >= rank) {
      const lo = i === 0 ? 0 : les[i - 1]!;
      const hi = les[i]!;
      if (!Number.isFinite(hi)) return lo;
      const below = i === 0 ? 0 : counts[i - 1]!;
      return lo + ((hi - lo) * (rank - below)) / Math.max(1, counts[i]! - below);
    }
  }
  return null;
}

export async function runSluicePipeline(o: PipelineRunOptions): Promise<PipelineResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-bench-pipeline-'));
  const nats = await startNatsServer();
  const logs: string[] = [];
  const pipeline = await startPipeline({
    workDir,
    natsUrl: nats.url,
    sources: [{ source: 'defender', family: 'defender' }],
    logLevel: 'warn',
    onLog: (s, l) => {
      if (o.logFile) appendFileSync(o.logFile, `${s} ${l}\n`);
      logs.push(`${s} ${l}`);
      if (logs.length > 2000) logs.splice(0, 1000);
    },
    overrides: { sink: { flush: { maxLatencySeconds: o.flushLatencySeconds } } },
  });
  const tableRoot = join(pipeline.lakePath, 'silver', SILVER);
  let ok = false;
  try {
    // A loaded shared machine can take minutes to start eight processes (the enricher loads GeoIP databases).
    await waitReady(pipeline, 600_000);
    const procs = [...[...pipeline.services.values()].map((s) => ({ name: s.name, pid: s.child.pid! })), { name: 'nats-server', pid: nats.process.pid! }];
    const before = sample(procs);
    const t0 = performance.now();
    for (const f of o.files) place(f, pipeline.inbox);
    await waitRows(tableRoot, o.events, o.timeoutSeconds * 1000, (o.stallSeconds ?? 180) * 1000, o.log);
    const wallSeconds = (performance.now() - t0) / 1000;
    const after = sample(procs);
    const processes = after.map((a, i) => ({ ...a, cpuSecondsDuringRun: a.cpuSeconds - before[i]!.cpuSeconds }));
    const result: PipelineResult = {
      engine: 'sluice pipeline',
      events: o.events,
      wallSeconds,
      cpuSeconds: processes.reduce((n, p) => n + p.cpuSecondsDuringRun, 0),
      peakRssBytes: Math.max(...processes.map((p) => p.peakRssBytes)),
      tableRoot,
      workDir,
      processes,
    };
    if (o.latencySeconds > 0) result.latency = await latencyPhase(o, pipeline.inbox, tableRoot, o.events / wallSeconds / 2, pipeline.services.get('sink')!.port);
    ok = true;
    return result;
  } catch (e) {
    o.log?.(`pipeline logs (last 40):\n${logs.slice(-40).join('\n')}`);
    throw e;
  } finally {
    await pipeline.stop();
    await nats.stop();
    // On success the caller reads the table first, then removes the work dir (cleanupPipeline).
    if (!ok) rmSync(workDir, { recursive: true, force: true });
  }
}

/** One file of `rate` records per second for `seconds`, then the latency of exactly those rows. */
async function latencyPhase(o: PipelineRunOptions, inbox: string, tableRoot: string, rate: number, sinkPort: number): Promise<Latency> {
  const perFile = Math.max(1, Math.round(rate));
  const pool = readFileSync(o.files[0]!, 'utf8').split('\n').filter((l) => l.length > 0);
  const lines = (k: number) => Array.from({ length: perFile }, (_, i) => pool[(k * perFile + i) % pool.length]).join('\n') + '\n';
  o.log?.(`latency phase: ${perFile.toLocaleString('en-US')} events/s (half of saturation) for ${o.latencySeconds} s`);
  const hist0 = await lagBuckets(sinkPort);
  const sinceUs = Date.now() * 1000;
  const start = performance.now();
  for (let k = 0; k < o.latencySeconds; k++) {
    const tmp = join(inbox, `.latency-${k}.ndjson`);
    writeFileSync(tmp, lines(k));
    renameSync(tmp, join(inbox, `latency-${String(k).padStart(4, '0')}.ndjson`));
    const next = start + (k + 1) * 1000;
    await sleep(Math.max(0, next - performance.now()));
  }
  await waitRows(tableRoot, o.events + perFile * o.latencySeconds, o.timeoutSeconds * 1000, (o.stallSeconds ?? 180) * 1000, o.log);
  if (hasDeltaRs()) {
    const r = spawnSync('python3', [join(HERE, 'commit_latency.py'), tableRoot, '--since-us', String(sinceUs)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`commit_latency.py: ${r.stderr.trim().split('\n').pop()}`);
    const l = JSON.parse(r.stdout) as { rows: number; p50: number | null; p99: number | null; max: number | null };
    return { rateEventsPerSecond: perFile, rows: l.rows, p50: l.p50, p99: l.p99, max: l.max, method: 'delta-log' };
  }
  const hist1 = await lagBuckets(sinkPort);
  return {
    rateEventsPerSecond: perFile,
    rows: perFile * o.latencySeconds,
    p50: histogramQuantile(hist0, hist1, 0.5),
    p99: histogramQuantile(hist0, hist1, 0.99),
    max: null,
    method: 'histogram',
  };
}

/** Removes what a pipeline run left (its work dir holds the lake). */
export function cleanupPipeline(r: PipelineResult): void {
  rmSync(r.workDir, { recursive: true, force: true });
}
