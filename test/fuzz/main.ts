// Fuzzing command: hostile generated inputs through every source family (route → decode → coercion) and the
// collector's framings, each target in a child process watched for hangs and memory. Prints one line per target
// (inputs, records and where they went, crashes, hangs, slowest input, max RSS) and exits non-zero on any crash,
// hang or unaccounted record; failing inputs are saved under test/fuzz/corpus/<target>/ as regression cases.
import { fork, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runCase, saveCase } from './runner.ts';
import { TARGETS, targetNames } from './targets/index.ts';
import type { Target } from './target.ts';

const USAGE = `Usage: npx tsx test/fuzz/main.ts [--target NAME|all] [--iterations N] [--seed S] [--seconds S] [--budget MS]
  --target NAME   one of: ${targetNames().join(', ')}; or all (default); a comma-separated list works too
  --iterations N  inputs per target (default: unlimited when --seconds is given, else 2000)
  --seconds S     time per target (default: none)
  --seed S        seed of the generators (default 1): (seed, target, input number) names an input exactly
  --budget MS     an input taking more CPU time than this is a hang and is saved (default 1000); one that has
                  not finished after max(30 × budget, 60 s) of wall time is killed and saved as a hang
  --max-heap MB   heap limit of each target's process: exceeding it is a crash (default 1536)`;

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    iterations: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string', default: '1' },
    budget: { type: 'string', default: '1000' },
    'max-heap': { type: 'string', default: '1536' },
    child: { type: 'string' },
    from: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});

const seed = Number(values.seed);
const budgetMs = Number(values.budget);

interface Done {
  type: 'done';
  i: number;
  gen: string;
  ms: number;
  records: number;
  rows: number;
  dropped: number;
  skipped: number;
  rejected: number;
  quarantined: number;
  crash?: string;
  hang: boolean;
  rss: number;
  heap: number;
}
type ChildMessage = { type: 'start'; i: number } | Done | { type: 'end'; next: number };

if (values.child) await child(values.child);
else await parent();

/** Child: runs inputs from --from for --seconds (after loading) or up to the iteration limit, reporting each. */
async function child(name: string): Promise<void> {
  const target = TARGETS[name]!();
  await target.setup?.();
  const limit = values.iterations === undefined ? Infinity : Number(values.iterations);
  // The clock starts once the target is loaded: start-up on a busy machine must not eat the fuzzing time.
  const until = values.seconds === undefined ? Infinity : Date.now() + Number(values.seconds) * 1000;
  let i = Number(values.from);
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  for (; i < limit && Date.now() < until; i++) {
    process.send!({ type: 'start', i } satisfies ChildMessage);
    const c = target.generate(seed, i);
    const v = await runCase(target, c, budgetMs);
    if (v.crash || v.hang) saveCase(name, v.crash ? 'crash' : 'hang', seed, i, c, v.crash ?? `took ${Math.round(v.ms)} ms of CPU (budget ${budgetMs} ms)`);
    const mem = process.memoryUsage();
    const o = v.outcome;
    await send({
      type: 'done',
      i,
      gen: c.meta.gen,
      ms: v.ms,
      records: o?.records ?? 0,
      rows: o?.rows ?? 0,
      dropped: o?.dropped ?? 0,
      skipped: o?.skipped ?? 0,
      rejected: o?.rejected ?? 0,
      quarantined: o?.quarantined ?? 0,
      crash: v.crash,
      hang: v.hang,
      rss: mem.rss,
      heap: mem.heapUsed,
    });
  }
  await target.teardown?.();
  await send({ type: 'end', next: i });
  process.disconnect();
}

interface Stats {
  target: string;
  inputs: number;
  records: number;
  rows: number;
  dropped: number;
  skipped: number;
  rejected: number;
  quarantined: number;
  crashes: number;
  hangs: number;
  slowestMs: number;
  slowestInput: number;
  slowestGen: string;
  maxRss: number;
  maxHeap: number;
  seconds: number;
  firstProblem?: string;
}

async function parent(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const names = values.target === 'all' ? targetNames() : values.target.split(',');
  for (const n of names) {
    if (!Object.hasOwn(TARGETS, n)) {
      console.error(`unknown target "${n}"\n${USAGE}`);
      process.exit(2);
    }
  }
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  const iterations = values.iterations === undefined ? (seconds === undefined ? 2000 : Infinity) : Number(values.iterations);
  if (!(budgetMs > 0) || !(iterations > 0) || (seconds !== undefined && !(seconds > 0)) || !Number.isFinite(seed)) {
    console.error(USAGE);
    process.exit(2);
  }
  const header = ['target', 'inputs', 'records', 'rows', 'dropped', 'skipped', 'rejected', 'quarantined', 'crashes', 'hangs', 'slowest cpu ms', 'max RSS MB', 'max heap MB'];
  const widths = [13, 8, 10, 10, 8, 8, 9, 12, 8, 6, 15, 11, 12];
  const row = (cells: (string | number)[]) => cells.map((c, k) => (k === 0 ? String(c).padEnd(widths[k]!) : String(c).padStart(widths[k]!))).join('');
  console.log(`sluice fuzz — seed ${seed}, ${seconds !== undefined ? `${seconds} s` : `${iterations} inputs`} per target, hang budget ${budgetMs} ms, Node ${process.version}`);
  console.log(row(header));
  const all: Stats[] = [];
  for (const name of names) {
    const s = await fuzzTarget(name, iterations, seconds);
    all.push(s);
    const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
    console.log(row([name, s.inputs, s.records, s.rows, s.dropped, s.skipped, s.rejected, s.quarantined, s.crashes, s.hangs, `${s.slowestMs.toFixed(0)}`, mb(s.maxRss), mb(s.maxHeap)]));
  }
  console.log(`\nslowest input per target (regenerate with --seed ${seed}): ${all.map((s) => `${s.target} #${s.slowestInput} ${s.slowestGen} ${s.slowestMs.toFixed(0)} ms`).join('; ')}`);
  const bad = all.filter((s) => s.crashes + s.hangs > 0);
  for (const s of bad) console.error(`\n${s.target}: ${s.crashes} crash(es), ${s.hangs} hang(s); inputs saved under test/fuzz/corpus/${s.target}/\n  first: ${s.firstProblem?.split('\n').slice(0, 6).join('\n  ')}`);
  const total = all.reduce((n, s) => n + s.inputs, 0);
  console.log(`\n${total} inputs, ${all.reduce((n, s) => n + s.crashes, 0)} crashes, ${all.reduce((n, s) => n + s.hangs, 0)} hangs`);
  process.exit(bad.length > 0 ? 1 : 0);
}

/** Runs one target in child processes; a child that stops answering is killed, its input saved as a hang. */
async function fuzzTarget(name: string, iterations: number, seconds: number | undefined): Promise<Stats> {
  const s: Stats = { target: name, inputs: 0, records: 0, rows: 0, dropped: 0, skipped: 0, rejected: 0, quarantined: 0, crashes: 0, hangs: 0, slowestMs: 0, slowestInput: -1, slowestGen: '', maxRss: 0, maxHeap: 0, seconds: 0 };
  const t0 = Date.now();
  let secondsLeft = seconds ?? Infinity;
  // A stuck input is killed after this long; slower-than-budget inputs that do finish are hangs too.
  const killAfterMs = Math.max(30 * budgetMs, 60_000);
  let from = 0;
  let target: Target | undefined;
  const regenerate = (i: number) => (target ??= TARGETS[name]!()).generate(seed, i);
  while (from < iterations && secondsLeft > 0) {
    const r = await runChild(name, from, iterations, secondsLeft, killAfterMs, s);
    secondsLeft -= r.activeMs / 1000;
    if (r.kind === 'end') break;
    // The child died or was killed on input r.i: save that input (the child could not) and go on after it.
    let gen = '?';
    try {
      const c = regenerate(r.i);
      gen = c.meta.gen;
      saveCase(name, r.kind, seed, r.i, c, r.reason);
    } catch (e) {
      r.reason += `\n(the input could not be regenerated to save it: ${(e as Error).message})`;
    }
    s.inputs++;
    if (r.kind === 'hang') s.hangs++;
    else s.crashes++;
    s.firstProblem ??= `input ${r.i} (${gen}): ${r.reason}`;
    from = r.i + 1;
  }
  s.seconds = (Date.now() - t0) / 1000;
  return s;
}

type ChildEnd = ({ kind: 'end' } | { kind: 'crash' | 'hang'; i: number; reason: string }) & { activeMs: number };

function runChild(name: string, from: number, iterations: number, secondsLeft: number, killAfterMs: number, s: Stats): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const args = ['--child', name, '--seed', String(seed), '--from', String(from), '--budget', String(budgetMs)];
    if (Number.isFinite(iterations)) args.push('--iterations', String(iterations));
    if (Number.isFinite(secondsLeft)) args.push('--seconds', String(secondsLeft));
    const cp: ChildProcess = fork(new URL(import.meta.url), args, { execArgv: ['--import', 'tsx', `--max-old-space-size=${values['max-heap']}`], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let stderr = '';
    cp.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let current = -1;
    let startedAt = Date.now();
    let firstAt = 0;
    let ended = false;
    let killed = false;
    const watchdog = setInterval(() => {
      if (current >= 0 && Date.now() - startedAt > killAfterMs) {
        killed = true;
        cp.kill('SIGKILL');
      }
    }, 250);
    cp.on('message', (m: ChildMessage) => {
      if (m.type === 'start') {
        firstAt ||= Date.now();
        current = m.i;
        startedAt = Date.now();
      } else if (m.type === 'done') {
        current = -1;
        s.inputs++;
        s.records += m.records;
        s.rows += m.rows;
        s.dropped += m.dropped;
        s.skipped += m.skipped;
        s.rejected += m.rejected;
        s.quarantined += m.quarantined;
        if (m.crash) {
          s.crashes++;
          s.firstProblem ??= `input ${m.i}: ${m.crash}`;
        } else if (m.hang) {
          s.hangs++;
          s.firstProblem ??= `input ${m.i}: took ${Math.round(m.ms)} ms`;
        }
        if (m.ms > s.slowestMs) {
          s.slowestMs = m.ms;
          s.slowestInput = m.i;
          s.slowestGen = m.gen;
        }
        s.maxRss = Math.max(s.maxRss, m.rss);
        s.maxHeap = Math.max(s.maxHeap, m.heap);
      } else if (m.type === 'end') ended = true;
    });
    cp.on('exit', (code, signal) => {
      clearInterval(watchdog);
      const activeMs = firstAt ? Date.now() - firstAt : 0;
      if (ended && code === 0) return resolve({ kind: 'end', activeMs });
      if (killed) return resolve({ kind: 'hang', i: current, reason: `no answer after ${killAfterMs} ms: killed`, activeMs });
      if (current < 0) {
        console.error(`${name}: the target process failed before its first input (exit ${code ?? signal}):\n${stderr.trim()}`);
        process.exit(3);
      }
      resolve({ kind: 'crash', i: current, reason: `process died (exit ${code ?? signal}): ${stderr.trim().split('\n').slice(-8).join('\n')}`, activeMs });
    });
  });
}
