// Summarises a V8 .cpuprofile (node --cpu-prof, or sluiceStages.ts --profile): the top self-time functions,
// aggregated by name and location, and the share per file/package. Used for docs/PERFORMANCE.md:
//   npx tsx test/bench/compare/sluiceStages.ts --table /tmp/t --profile /tmp/job.cpuprofile FILE...
//   npx tsx test/bench/compare/profileTop.ts /tmp/job.cpuprofile [--top 10]
// Shares count samples, not the wall-time gaps between them: on a loaded machine a descheduled thread's next
// sample carries a long gap that is not CPU time.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function where(url: string, line: number): string {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return `${path.replace(/^node_modules\//, 'npm:')}:${line + 1}`;
}

type Entry = { name: string; at: string; ms: number; share: number };

export function topSelf(p: Profile, top: number): { total: number; functions: Entry[]; inclusive: Entry[]; files: { file: string; ms: number; share: number }[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Nominal interval × sample count (see the header); the mean delta is the interval the profiler ran at.
  const interval = p.timeDeltas.length ? Math.min(1000, p.timeDeltas.reduce((a, b) => a + b, 0) / p.timeDeltas.length) : 1000;
  for (const id of p.samples) self.set(id, (self.get(id) ?? 0) + interval);
  const fn = new Map<string, { name: string; at: string; us: number }>();
  const file = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    total += us;
    const at = where(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${name}@${at}`;
    const e = fn.get(key) ?? { name, at, us: 0 };
    e.us += us;
    fn.set(key, e);
    const f = at.replace(/:\d+$/, '').replace(/^(npm:(@[^/]+\/)?[^/]+)\/.*$/, '$1');
    file.set(f, (file.get(f) ?? 0) + us);
  }
  // Inclusive: every function on a sample's stack, once per sample (recursion counted once).
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, { name: string; at: string; us: number }>();
  for (const [id, us] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const name = cf.functionName || '(anonymous)';
      if (name === '(root)') continue;
      const at = where(cf.url, cf.lineNumber);
      const key = `${name}@${at}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = incl.get(key) ?? { name, at, us: 0 };
      e.us += us;
      incl.set(key, e);
    }
  }
  const ms = (us: number) => Math.round(us / 1000);
  return {
    total: ms(total),
    functions: [...fn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ name: e.name, at: e.at, ms: ms(e.us), share: e.us / total })),
    inclusive: [...incl.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ name: e.name, at: e.at, ms: ms(e.us), share: e.us / total })),
    files: [...file.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, us]) => ({ file: f, ms: ms(us), share: us / total })),
  };
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '10' } }, allowPositionals: true });
for (const f of positionals) {
  const r = topSelf(JSON.parse(readFileSync(f, 'utf8')) as Profile, Number(values.top));
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`${f}: ${r.total} ms sampled (idle excluded)\n\nTop self time by function:\n| # | function | where | self ms | share |\n|--:|:--|:--|--:|--:|`);
  r.functions.forEach((e, i) => console.log(`| ${i + 1} | \`${e.name}\` | ${e.at} | ${e.ms} | ${pct(e.share)} |`));
  console.log(`\nTop inclusive time (self + callees) by function:\n| # | function | where | total ms | share |\n|--:|:--|:--|--:|--:|`);
  r.inclusive.forEach((e, i) => console.log(`| ${i + 1} | \`${e.name}\` | ${e.at} | ${e.ms} | ${pct(e.share)} |`));
  console.log(`\nSelf time by file / package:\n| file | self ms | share |\n|:--|--:|--:|`);
  for (const e of r.files) console.log(`| ${e.file} | ${e.ms} | ${pct(e.share)} |`);
}
