// One fuzz target per source family: a hostile "file" goes the way the collector, splitter and parser take it —
// frameRecords + preamble segmentation + ≤512 KiB envelopes (collector), the real splitBatch (family.route), the real
// parseBatch (family.decode + the table's compiled coercion + expectations + Arrow IPC) — and every record is
// accounted for: routed units = rows + unrouted + dropped + skipped + splitter quarantine + parser quarantine.
import { frameRecords } from '@sluice/formats';
import { H, encodePreamble, packLines, splitLines, type InputMessage, type OutputMessage, type QuarantineRecord } from '@sluice/runtime';
import { EMPTY_PREAMBLE, RecordError, UNKNOWN_CATEGORY, families, segmentByPreamble, type RecordContext, type SourceFamily } from '@sluice/sources';
import { compileValidator, type Validator } from '@sluice/tables';
import { parseBatch, parserContext, type ParserContext } from '../../../services/parser/handler.ts';
import { splitBatch, type SplitStats } from '../../../services/splitter/handler.ts';
import { SPECS, loadTemplates, type Template } from '../../bench/parsers/families.ts';
import { bytes, mutateLine, randomBytes, rngFor } from '../hostile.ts';
import { checkBooks, emptyOutcome, type FuzzCase, type Outcome, type Target } from '../target.ts';

const dec = new TextDecoder();
const MAX_BATCH = 512 * 1024;
/** Truncation at every byte position is swept over the first line of this many templates (distinct files first). */
const SWEEP_TEMPLATES = 3;

/** How route() maps input lines to units: 1:1, containers exploded (≥ 1 each), multi-part messages merged (ISE). */
const MODE: Record<string, 'one' | 'expand' | 'merge'> = {
  defender: 'expand',
  cloudtrail: 'expand',
  threatintel: 'expand',
  ise: 'merge',
  // A Sysmon event also goes to its process / network table.
  winlog: 'expand',
};

const categoryOf = (subject: string) => subject.slice(subject.lastIndexOf('.') + 1);
const isQuarantine = (o: OutputMessage) => Boolean(o.headers?.[H.stage]);

/** Quarantine records of quarantine outputs; each must name its rule and reason. */
function quarantineRecords(outs: OutputMessage[], problems: string[], stage: string): number {
  let n = 0;
  for (const o of outs) {
    for (const line of splitLines(o.data)) {
      n++;
      let q: QuarantineRecord;
      try {
        q = JSON.parse(dec.decode(line)) as QuarantineRecord;
      } catch (e) {
        problems.push(`${stage}: quarantine record is not JSON: ${(e as Error).message}`);
        continue;
      }
      if (!q.reason || !q.rule) problems.push(`${stage}: quarantine record without rule/reason: ${JSON.stringify({ rule: q.rule, reason: q.reason })}`);
    }
    if (o.records !== undefined && Number(o.headers?.[H.count] ?? o.records) !== o.records) problems.push(`${stage}: quarantine envelope count header differs from records`);
  }
  return n;
}

interface Expected {
  keep: number;
  drop: number;
  quarantine: number;
}

export function familyTarget(name: string): Target {
  const family: SourceFamily = families[name]!;
  const spec = SPECS[name];
  if (!spec) throw new Error(`no fixture spec for family ${name}`);
  let templates: Template[] | undefined;
  let sweep: { t: Template; at: number }[] | undefined;
  const load = () => {
    if (!templates) {
      templates = loadTemplates(family, spec).templates;
      if (templates.length === 0) throw new Error(`${name}: no valid fixture records to mutate`);
      const picked: Template[] = [];
      for (const t of templates) if (picked.length < SWEEP_TEMPLATES && !picked.some((p) => p.file === t.file)) picked.push(t);
      for (const t of templates) if (picked.length < SWEEP_TEMPLATES && !picked.includes(t)) picked.push(t);
      sweep = picked.flatMap((t) => Array.from({ length: bytes(t.lines[0]!).length + 1 }, (_, at) => ({ t, at })));
    }
    return { templates, sweep: sweep! };
  };

  const contexts = new Map<string, ParserContext>();
  const validators = new Map<string, Validator>();
  const contextOf = (category: string) => {
    let c = contexts.get(category);
    if (!c) contexts.set(category, (c = parserContext(family.tables[category]!, 'fuzz', undefined, family, category)));
    return c;
  };
  const validatorOf = (category: string) => {
    let v = validators.get(category);
    if (!v) validators.set(category, (v = compileValidator(family.tables[category]!)));
    return v;
  };

  /** What parseBatch must do with each line, worked out independently with the same decode and coercion. */
  const expect = (body: Uint8Array, category: string, ctx: RecordContext, problems: string[]): Expected => {
    const e: Expected = { keep: 0, drop: 0, quarantine: 0 };
    for (const line of splitLines(body)) {
      let record: unknown;
      try {
        record = family.decode ? family.decode(line, category, ctx) : JSON.parse(dec.decode(line));
      } catch (err) {
        if (family.decode && !(err instanceof RecordError)) problems.push(`decode(${category}) threw ${(err as Error).name}: ${(err as Error).message} (must throw RecordError)`);
        e.quarantine++;
        continue;
      }
      const d = validatorOf(category)(record).disposition;
      if (d === 'fail') problems.push(`table ${category}: a record fails an expectation with action "fail": hostile input stops the stage`);
      else e[d === 'keep' ? 'keep' : d]++;
    }
    return e;
  };

  function generate(seed: number, i: number): FuzzCase {
    const { templates, sweep } = load();
    const rng = rngFor(seed, `family:${name}`, i);
    // Even inputs sweep truncation positions until the sweep is done; the others (and all after it) are random.
    if (i % 2 === 0 && i / 2 < sweep.length) {
      const { t, at } = sweep[i / 2]!;
      return fileCase('truncate-sweep', t, [...t.preamble, bytes(t.lines[0]!).subarray(0, at)], { at });
    }
    const t = rng.pick(templates);
    const r = rng.next();
    if (r < 0.08) return fileCase('random-bytes', t, [randomBytes(rng, rng.chance(0.9) ? 4096 : 200_000)]);
    if (r < 0.1) return fileCase('blank', t, [bytes(rng.pick(['', ' ', '\n', '\n\n\n', ' \t \r\n \n', '\r\n', '\u0000']))]);
    // A few records of one file (same object and preamble), one or two of them mutated, sometimes the header too.
    const siblings = templates.filter((x) => x.object === t.object && x.preamble === t.preamble);
    const lines: (string | Uint8Array)[] = [];
    for (let k = rng.int(1, 4); k > 0; k--) lines.push(...rng.pick(siblings).lines);
    const how: string[] = [];
    for (let k = rng.int(1, 2); k > 0; k--) {
      const at = rng.int(0, lines.length - 1);
      const m = mutateLine(rng, typeof lines[at] === 'string' ? lines[at] : dec.decode(lines[at]), MAX_BATCH);
      lines[at] = m.data;
      how.push(m.how);
    }
    const preamble: (string | Uint8Array)[] = [...t.preamble];
    if (preamble.length > 0 && rng.chance(0.15)) {
      const at = rng.int(0, preamble.length - 1);
      const m = mutateLine(rng, preamble[at] as string, 64 * 1024, rng.pick(['field', 'truncate', 'flip', 'utf8', 'huge', 'blank'] as const));
      preamble[at] = m.data;
      how.push(`preamble-${m.how}`);
    }
    return fileCase(how.join('+'), t, [...preamble, ...lines]);
  }

  function fileCase(gen: string, t: Template, lines: (string | Uint8Array)[], extra: Record<string, unknown> = {}): FuzzCase {
    const parts = lines.map((l) => (typeof l === 'string' ? bytes(l) : l));
    const data = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
      data[o++] = 0x0a;
    }
    return { data, meta: { gen, object: t.object, ...extra } };
  }

  function run(c: FuzzCase): Outcome {
    const out = emptyOutcome();
    const object = String(c.meta.object ?? 'fuzz');
    const ingestTime = '2024-03-11T12:00:00.000Z';
    // Collector: framing, preamble segments, envelopes; records over the envelope cap are refused and counted.
    const framed = frameRecords(c.data, 0, true);
    const segments = framed.framing === 'ndjson' ? segmentByPreamble(framed.records, EMPTY_PREAMBLE, family).segments : framed.records.length ? [{ preamble: [], records: framed.records }] : [];
    let seq = 0;
    for (const seg of segments) {
      const { bodies, oversized } = packLines(seg.records, MAX_BATCH);
      out.records += oversized.length;
      out.rejected += oversized.length;
      const headers: Record<string, string> = { [H.encoding]: 'ndjson', [H.source]: name, [H.object]: object, [H.ingestTime]: ingestTime, [H.family]: name };
      if (seg.preamble.length > 0) headers[H.preamble] = encodePreamble(seg.preamble);
      for (const b of bodies) {
        // What the collector counts must be what the splitter will find: a record must not vanish in between.
        if (splitLines(b.body).length !== b.count) out.problems.push(`collector envelope declares ${b.count} records but splits into ${splitLines(b.body).length} lines`);
        const msg: InputMessage = { subject: `raw.${name}`, data: b.body, headers: { ...headers, [H.count]: String(b.count) }, stream: 'RAW', seq: ++seq, deliveryCount: 1 };
        splitAndParse(msg, seg.preamble, out);
      }
    }
    checkBooks(out, 'routed units');
    return out;
  }

  function splitAndParse(msg: InputMessage, preamble: readonly string[], out: Outcome): void {
    const p = out.problems;
    const ctx: RecordContext = { source: name, object: msg.headers[H.object]!, preamble, ingestTime: msg.headers[H.ingestTime] };
    const lines = splitLines(msg.data);
    // Every line leaves a trace on its own: a row, a rejection or a counted skip.
    for (const line of lines) {
      const r = family.route([line], ctx);
      if (r.routed.length + r.rejected.length + (r.skipped ?? 0) === 0) p.push(`route() of one line yields nothing (no row, no rejection, no skip): ${dec.decode(line.subarray(0, 120))}`);
      for (const rej of r.rejected) if (!rej.reason || !rej.rule) p.push('route() rejected a record without rule/reason');
    }
    const routed = family.route(lines, ctx);
    const units = routed.routed.length + routed.rejected.length + (routed.skipped ?? 0);
    const mode = MODE[name] ?? 'one';
    if (mode === 'one' && units !== lines.length) p.push(`route(): ${lines.length} lines in, ${units} routed/rejected/skipped out`);
    if (mode === 'merge' && (units > lines.length || (lines.length > 0 && units === 0))) p.push(`route(): ${lines.length} lines in, ${units} out`);
    out.records += units;

    const stats: SplitStats = { byCategory: new Map(), skipped: 0 };
    let outs: OutputMessage[];
    try {
      outs = splitBatch(msg, family, stats);
    } catch (e) {
      throw new Error(`splitBatch threw: ${(e as Error).stack ?? String(e)}`);
    }
    const splitQ = quarantineRecords(outs.filter(isQuarantine), p, 'splitter');
    const categorized = outs.filter((o) => !isQuarantine(o));
    const catRecords = categorized.reduce((n, o) => n + (o.records ?? 0), 0);
    if (catRecords + splitQ + stats.skipped !== units) p.push(`splitBatch: route() gave ${units} units, splitter put out ${catRecords} categorized + ${splitQ} quarantined + ${stats.skipped} skipped`);
    out.rejected += splitQ;
    out.skipped += stats.skipped;

    let s = 0;
    for (const o of categorized) {
      const category = categoryOf(o.subject);
      const count = o.records ?? 0;
      if (splitLines(o.data).length !== count) p.push(`splitter envelope for ${category}: ${splitLines(o.data).length} lines but records = ${count}`);
      if (category === UNKNOWN_CATEGORY || !Object.hasOwn(family.tables, category)) {
        if (category !== UNKNOWN_CATEGORY) p.push(`routed to category "${category}" that has no table and is not ${UNKNOWN_CATEGORY}`);
        out.rows += count; // the unrouted table keeps them
        continue;
      }
      const input: InputMessage = { subject: o.subject, data: o.data, headers: o.headers ?? {}, stream: 'CATEGORIZED', seq: ++s, deliveryCount: 1 };
      const expected = expect(o.data, category, { ...ctx, preamble: preamble }, p);
      let parsed: OutputMessage[];
      try {
        parsed = parseBatch(input, contextOf(category));
      } catch (e) {
        throw new Error(`parseBatch(${category}) threw: ${(e as Error).stack ?? String(e)}`);
      }
      const q = quarantineRecords(parsed.filter(isQuarantine), p, 'parser');
      const rows = parsed.filter((x) => !isQuarantine(x)).reduce((n, x) => n + (x.records ?? 0), 0);
      if (rows !== expected.keep || q !== expected.quarantine) {
        p.push(`parseBatch(${category}): ${rows} rows + ${q} quarantined, expected ${expected.keep} + ${expected.quarantine} (and ${expected.drop} dropped) of ${count}`);
      }
      if (rows + q + expected.drop !== count) p.push(`parseBatch(${category}): ${count} records in, ${rows} rows + ${q} quarantined + ${expected.drop} dropped out`);
      out.rows += rows;
      out.quarantined += q;
      out.dropped += count - rows - q;
    }
  }

  const setup = () => {
    load();
    return Promise.resolve();
  };
  return { name, title: `family ${name}: collector framing → splitBatch (route) → parseBatch (decode + coercion)`, setup, generate, run };
}
