// Per-family parser benchmark: for each source family, varied copies of its hand-written fixtures are delivered as
// the collector would (files with preambles, containers, ≤512 KiB envelopes), then the splitter (route) and the
// parser (decode + coercion + expectations + Arrow IPC) run in-process over all envelopes. Prints events/s and MB/s
// per core (CPU seconds of this process) and checks that the good records really became rows. Not a test: numbers.
import { parseArgs } from 'node:util';
import { H, type InputMessage, type QuarantineRecord } from '@sluice/runtime';
import { UNKNOWN_CATEGORY, families, type SourceFamily } from '@sluice/sources';
import { parseBatch, parserContext, type ParserContext } from '../../services/parser/handler.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { SPECS, generate, loadTemplates } from './parsers/families.ts';

const USAGE = `Usage: npm run bench:parsers -- [--records N] [--family NAME] [--seed S] [--warmup F] [--json]
  --records N   good records (events) generated per family, default 100000
  --family NAME run one family (${Object.keys(families).join(', ')}); default all
  --warmup F    fraction of the envelopes run through both stages before measuring, default 0.25
  --json        print the results as JSON instead of the table`;

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    family: { type: 'string' },
    seed: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0.25' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const N = Number(values.records);
const WARMUP = Number(values.warmup);
if (!(N > 0) || !(WARMUP >= 0 && WARMUP <= 1)) {
  console.error(USAGE);
  process.exit(2);
}
const names = values.family ? [values.family] : Object.keys(families);
for (const n of names) {
  if (!Object.hasOwn(families, n) || !Object.hasOwn(SPECS, n)) {
    console.error(`unknown family "${n}" (known: ${Object.keys(families).join(', ')})`);
    process.exit(2);
  }
}

/** Share of the generated good records that must come out as rows; below it the run measured the error path. */
const MIN_ROW_SHARE = 0.99;

export interface FamilyResult {
  family: string;
  templates: number;
  excludedTemplates: number;
  files: number;
  envelopes: number;
  rawRecords: number;
  /** Good records generated = rows expected. */
  events: number;
  /** Raw bytes per event (records as published, without preamble lines). */
  avgBytesPerRecord: number;
  splitter: { cpuSeconds: number; wallSeconds: number; eventsPerCoreSecond: number; mbPerCoreSecond: number };
  parser: { cpuSeconds: number; wallSeconds: number; eventsPerCoreSecond: number; mbPerCoreSecond: number; inputBytes: number };
  rows: number;
  quarantined: { splitter: number; parser: number };
  /** Bad elements the fixtures plant inside feed containers (threat-intel bundles): their quarantine is expected. */
  expectedQuarantine: number;
  unrouted: number;
  topQuarantineReasons: { reason: string; count: number }[];
  ok: boolean;
}

function cpuSeconds(fn: () => void): { cpu: number; wall: number } {
  if (typeof global.gc === 'function') global.gc();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall };
}

const categoryOf = (subject: string) => subject.slice(subject.lastIndexOf('.') + 1);
const asInput = (data: Uint8Array, headers: Record<string, string>, subject: string, seq: number): InputMessage => ({ subject, data, headers, stream: 'CATEGORIZED', seq, deliveryCount: 1 });

function benchFamily(name: string, seed: number): FamilyResult {
  const family: SourceFamily = families[name]!;
  const spec = SPECS[name]!;
  const { templates, excluded } = loadTemplates(family, spec);
  if (templates.length === 0) throw new Error(`${name}: no good fixture records (${excluded.map((e) => e.reason).join('; ')})`);
  for (const e of excluded) console.error(`  ${name}: fixture record not used (${e.file}: ${e.line.slice(0, 60)}…): ${e.reason.slice(0, 160)}`);
  const gen = generate(family, spec, templates, N, seed);
  console.error(`${name}: ${gen.expectedRows} events from ${templates.length} fixture records, ${gen.rawRecords} raw records in ${gen.files} files, ${gen.envelopes.length} envelopes, ${(gen.rawBytes / 1e6).toFixed(1)} MB`);

  const contexts = new Map<string, ParserContext>();
  const contextOf = (category: string): ParserContext | undefined => {
    if (category === UNKNOWN_CATEGORY || !Object.hasOwn(family.tables, category)) return undefined;
    let ctx = contexts.get(category);
    if (!ctx) contexts.set(category, (ctx = parserContext(family.tables[category]!, 'bench', undefined, family, category)));
    return ctx;
  };

  let categorized: InputMessage[] = [];
  let splitterQuarantined = 0;
  const quarantineBodies: Uint8Array[] = [];
  const split = (envelopes: InputMessage[]) => {
    const out: InputMessage[] = [];
    let q = 0;
    for (const env of envelopes) {
      for (const o of splitBatch(env, family)) {
        if (o.headers?.[H.stage]) {
          q += o.records ?? 0;
          quarantineBodies.push(o.data);
        } else out.push(asInput(o.data, o.headers ?? {}, o.subject, out.length + 1));
      }
    }
    return { out, q };
  };
  let rows = 0;
  let parserQuarantined = 0;
  let unrouted = 0;
  const parse = (messages: InputMessage[]) => {
    let r = 0;
    let q = 0;
    let u = 0;
    for (const m of messages) {
      const ctx = contextOf(categoryOf(m.subject));
      if (!ctx) {
        u += Number(m.headers[H.count] ?? 0);
        continue;
      }
      for (const o of parseBatch(m, ctx)) {
        if (o.headers?.[H.stage]) {
          q += o.records ?? 0;
          quarantineBodies.push(o.data);
        } else r += o.records ?? 0;
      }
    }
    return { r, q, u };
  };

  // Warm-up: the same code paths, JIT-compiled and table validators built before the clock starts.
  const warm = gen.envelopes.slice(0, Math.max(1, Math.ceil(gen.envelopes.length * WARMUP)));
  if (WARMUP > 0) parse(split(warm).out);
  quarantineBodies.length = 0;

  const s = cpuSeconds(() => {
    const res = split(gen.envelopes);
    categorized = res.out;
    splitterQuarantined = res.q;
  });
  const parserBytes = categorized.reduce((n, m) => n + m.data.length, 0);
  const p = cpuSeconds(() => {
    const res = parse(categorized);
    rows = res.r;
    parserQuarantined = res.q;
    unrouted = res.u;
  });

  const reasons = new Map<string, number>();
  for (const body of quarantineBodies) {
    for (const line of new TextDecoder().decode(body).split('\n')) {
      if (!line) continue;
      const q = JSON.parse(line) as QuarantineRecord;
      const key = `${q.stage}/${q.rule}: ${q.reason.slice(0, 140)}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  const events = gen.expectedRows;
  return {
    family: name,
    templates: templates.length,
    excludedTemplates: excluded.length,
    files: gen.files,
    envelopes: gen.envelopes.length,
    rawRecords: gen.rawRecords,
    events,
    avgBytesPerRecord: gen.rawBytes / events,
    splitter: { cpuSeconds: s.cpu, wallSeconds: s.wall, eventsPerCoreSecond: events / s.cpu, mbPerCoreSecond: gen.rawBytes / 1e6 / s.cpu },
    parser: { cpuSeconds: p.cpu, wallSeconds: p.wall, eventsPerCoreSecond: events / p.cpu, mbPerCoreSecond: parserBytes / 1e6 / p.cpu, inputBytes: parserBytes },
    rows,
    quarantined: { splitter: splitterQuarantined, parser: parserQuarantined },
    expectedQuarantine: gen.expectedQuarantine,
    unrouted,
    topQuarantineReasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, count]) => ({ reason, count })),
    ok: rows >= MIN_ROW_SHARE * events,
  };
}

const results: FamilyResult[] = [];
for (const name of names) results.push(benchFamily(name, Number(values.seed)));
const peakRssMb = process.resourceUsage().maxRSS / 1024;

if (values.json) {
  console.log(JSON.stringify({ node: process.version, records: N, warmup: WARMUP, peakRssMb: Math.round(peakRssMb), results }, null, 2));
} else {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const cols: [string, number][] = [
    ['family', 12],
    ['events', 9],
    ['B/record', 9],
    ['splitter ev/s/core', 20],
    ['parser ev/s/core', 18],
    ['parser MB/s/core', 18],
    ['rows out', 10],
    ['quarantined (planted)', 23],
  ];
  console.log(`\nsluice parser benchmark — ${fmt(N)} good records per family, Node ${process.version}, 1 process, CPU s = user + system\n`);
  console.log(cols.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(''));
  for (const r of results) {
    const cells = [
      r.family,
      fmt(r.events),
      fmt(r.avgBytesPerRecord),
      fmt(r.splitter.eventsPerCoreSecond),
      fmt(r.parser.eventsPerCoreSecond),
      r.parser.mbPerCoreSecond.toFixed(1),
      fmt(r.rows),
      `${fmt(r.quarantined.splitter + r.quarantined.parser)} (${fmt(r.expectedQuarantine)})`,
    ];
    console.log(cells.map((c, i) => (i === 0 ? c.padEnd(cols[i]![1]) : c.padStart(cols[i]![1]))).join(''));
  }
  console.log(`\npeak RSS ${fmt(peakRssMb)} MB; (planted) = bad elements the fixtures put inside feed containers, quarantined on purpose`);
}

const failed = results.filter((r) => !r.ok);
for (const r of failed) {
  console.error(`\n${r.family}: only ${r.rows} of ${r.events} good records became rows (< ${MIN_ROW_SHARE * 100} %): the benchmark measured the error path.`);
  for (const q of r.topQuarantineReasons) console.error(`  ${q.count} × ${q.reason}`);
  if (r.unrouted > 0) console.error(`  ${r.unrouted} records routed to ${UNKNOWN_CATEGORY}`);
}
if (failed.length > 0) process.exit(1);
