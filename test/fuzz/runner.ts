// Runs one fuzz input through a target and judges it (crash = exception or broken property, hang = over the time
// budget, in CPU time); saves failing inputs under test/fuzz/corpus/<target>/ and reads them back for the regression test.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FuzzCase, Outcome, Target } from './target.ts';

export const CORPUS = join(import.meta.dirname, 'corpus');

export interface Verdict {
  outcome?: Outcome;
  /** CPU milliseconds (user + system) the input took: on a shared, loaded machine wall time says little. */
  ms: number;
  wallMs: number;
  /** Exception message or the broken properties. */
  crash?: string;
  hang: boolean;
}

export async function runCase(target: Target, c: FuzzCase, budgetMs: number): Promise<Verdict> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let outcome: Outcome | undefined;
  let crash: string | undefined;
  try {
    outcome = await target.run(c);
    if (outcome.problems.length > 0) crash = outcome.problems.slice(0, 5).join('\n');
  } catch (e) {
    crash = `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
  const cpu = process.cpuUsage(c0);
  const ms = (cpu.user + cpu.system) / 1000;
  return { outcome, ms, wallMs: performance.now() - t0, crash, hang: ms > budgetMs };
}

export interface SavedCase {
  target: string;
  name: string;
  kind: 'crash' | 'hang';
  problem: string;
  seed: number;
  index: number;
  case: FuzzCase;
}

/** Inputs larger than this are stored gzip-compressed (`.bin.gz`): hostile inputs are mostly repetition. */
const COMPRESS_OVER = 16 * 1024;

/** Writes `<name>.bin[.gz]` (the input bytes) and `<name>.json` (how to replay it and what went wrong). */
export function saveCase(target: string, kind: 'crash' | 'hang', seed: number, index: number, c: FuzzCase, problem: string): string {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  const name = `${kind}-s${seed}-i${index}`;
  if (c.data.length > COMPRESS_OVER) writeFileSync(join(dir, `${name}.bin.gz`), gzipSync(c.data, { level: 9 }));
  else writeFileSync(join(dir, `${name}.bin`), c.data);
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ target, kind, seed, index, meta: c.meta, problem: problem.slice(0, 2000) }, null, 2) + '\n');
  return join(dir, name);
}

/** Every saved input of `target` (none when its folder does not exist). */
export function loadCorpus(target: string): SavedCase[] {
  const dir = join(CORPUS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.json'.length);
      const j = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { kind: 'crash' | 'hang'; seed: number; index: number; meta: FuzzCase['meta']; problem: string };
      const bin = join(dir, `${name}.bin`);
      const data = existsSync(bin) ? readFileSync(bin) : gunzipSync(readFileSync(`${bin}.gz`));
      return { target, name, kind: j.kind, problem: j.problem, seed: j.seed, index: j.index, case: { data: new Uint8Array(data), meta: j.meta } };
    });
}
