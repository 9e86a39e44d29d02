// Conformance core: runs sample files of a source family through the path a record takes in production (collector
// framing and preamble → splitter `route` → parser `decode` + table validation) and counts what happens to them.
// No I/O: callers hand in file names and bytes (scripts/conformance.ts reads a samples folder; the unit test reads
// test/fixtures). Test-case wrappers of other projects (Sekoia intake tests, Elastic `*-expected.json`) are unwrapped
// to the raw records they describe.
import { gunzipSync } from 'node:zlib';
import { frameRecords, type Framing } from '@sluice/formats';
import { compileValidator, type Validator } from '@sluice/tables';
import type { ExpectationAction, TableDefinition } from '@sluice/tables';
import { EMPTY_PREAMBLE, segmentByPreamble, type Segment } from './preamble.ts';
import { families } from './registry.ts';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext, type SourceFamily } from './sourceFamily.ts';

/** Sample folder names that are not the family name (the rest map by name). */
export const FOLDER_FAMILIES: Readonly<Record<string, string>> = {
  cisco_ise: 'ise',
  crowdstrike_fdr: 'crowdstrike',
  defender_xdr: 'defender',
  sysmon: 'winlog',
};

/** The family name for a sample folder, or undefined when no family reads it. */
export function familyOfFolder(folder: string): string | undefined {
  const name = Object.hasOwn(FOLDER_FAMILIES, folder) ? FOLDER_FAMILIES[folder]! : folder;
  return Object.hasOwn(families, name) ? name : undefined;
}

/** How the raw records were found in a file: the file itself, or a test-case wrapper around them. */
export type Wrapper = 'none' | 'sekoia-test' | 'elastic-expected';

export interface Unwrapped {
  wrapper: Wrapper;
  framing: Framing;
  records: Uint8Array[];
  /** Wrapper entries that hold no raw record (an Elastic expected document without event.original/message). */
  missing: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON object spanning the whole file, or undefined (NDJSON and raw text fail fast at their first line). */
function wholeObject(content: Uint8Array): Record<string, unknown> | undefined {
  let i = content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  while (i < content.length && (content[i] === 0x20 || content[i] === 0x09 || content[i] === 0x0a || content[i] === 0x0d)) i++;
  if (content[i] !== 0x7b) return undefined;
  try {
    const v = JSON.parse(dec.decode(content)) as unknown;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The raw records of a (decompressed) file, as the collector would cut them. A Sekoia intake test case
 * (`{"input":{"message":"<raw>"},"expected":…}`) holds its raw event in input.message; an Elastic pipeline test's
 * `*-expected.json` (`{"expected":[{…"event":{"original":"<raw>"}}]}`) one raw line per document in event.original
 * (or message). The unwrapped text is framed like a file body: lines, or a JSON document's elements.
 */
export function unwrapSample(content: Uint8Array): Unwrapped {
  const doc = wholeObject(content);
  if (doc && isObject(doc.input) && typeof doc.input.message === 'string') {
    const framed = frameRecords(enc.encode(doc.input.message), 0, true);
    return { wrapper: 'sekoia-test', framing: framed.framing, records: framed.records, missing: 0 };
  }
  if (doc && Array.isArray(doc.expected) && Object.keys(doc).length === 1) {
    const lines: string[] = [];
    let missing = 0;
    for (const e of doc.expected) {
      const event = isObject(e) && isObject(e.event) ? e.event : undefined;
      const raw = typeof event?.original === 'string' ? event.original : isObject(e) && typeof e.message === 'string' ? e.message : undefined;
      if (raw === undefined) missing++;
      else lines.push(raw);
    }
    const framed = frameRecords(enc.encode(lines.join('\n')), 0, true);
    return { wrapper: 'elastic-expected', framing: framed.framing, records: framed.records, missing };
  }
  const framed = frameRecords(content, 0, true);
  return { wrapper: 'none', framing: framed.framing, records: framed.records, missing: 0 };
}

/** A run of records that share one preamble (a file's header lines before them). */
export type PreambleSegment = Segment;

/** Splits a whole file's records like the collector does (libs/sources/preamble.ts): preamble lines removed. */
export function segmentLines(records: readonly Uint8Array[], family: SourceFamily): PreambleSegment[] {
  return segmentByPreamble([...records], EMPTY_PREAMBLE, family).segments;
}

/** What happened to the records of a file, a family or the whole run. */
export interface Counts {
  files: number;
  /** Raw records handed to route (preamble lines not included). */
  records: number;
  preambleLines: number;
  /** Records route produced (containers exploded: may exceed `records`). */
  routed: number;
  /** Rows the parser keeps (disposition keep, warnings included). */
  kept: number;
  dropped: number;
  /** Quarantined by the splitter (newline, size) or the parser (decode, coercion, expectation). */
  quarantined: number;
  /** Records whose table says `fail`: the parser would stop on them. */
  failed: number;
  /** Kept rows that failed at least one warn expectation. */
  warned: number;
  /** Routed to `_unknown` or to a category the family has no table for. */
  unrouted: number;
  /** Rejected by route. */
  rejected: number;
  /** Skipped by route on purpose (no data), plus wrapper entries without a raw record. */
  skipped: number;
}

export const COUNT_KEYS = ['files', 'records', 'preambleLines', 'routed', 'kept', 'dropped', 'quarantined', 'failed', 'warned', 'unrouted', 'rejected', 'skipped'] as const satisfies readonly (keyof Counts)[];

export function emptyCounts(): Counts {
  return { files: 0, records: 0, preambleLines: 0, routed: 0, kept: 0, dropped: 0, quarantined: 0, failed: 0, warned: 0, unrouted: 0, rejected: 0, skipped: 0 };
}

function addCounts(into: Counts, from: Counts): void {
  for (const k of COUNT_KEYS) into[k] += from[k];
}

export interface FileReport {
  /** Path relative to the samples folder (the `object` of the record context). */
  path: string;
  wrapper: Wrapper;
  framing: Framing;
  counts: Counts;
  /** Why the file could not be read (bad gzip); its records are not counted. */
  error?: string;
}

/** Reason text (`rule: reason`, cut to REASON_CHARS) → how many records. */
export type ReasonCounts = Record<string, number>;

export interface FamilyReport {
  family: string;
  counts: Counts;
  quarantineReasons: ReasonCounts;
  rejectReasons: ReasonCounts;
  dropReasons: ReasonCounts;
  failReasons: ReasonCounts;
  warnReasons: ReasonCounts;
  /** Unrouted records by category. */
  unroutedCategories: Record<string, number>;
  /** Rows kept by table name. */
  tables: Record<string, number>;
  files: FileReport[];
}

export interface ConformanceReport {
  families: FamilyReport[];
  totals: Counts;
}

export const REASON_CHARS = 100;
/** Records per route call, like a collector envelope. */
export const DEFAULT_BATCH = 500;
/** The splitter's envelope cap (DEFAULT_MAX_BATCH_BYTES of @sluice/runtime): a longer record is quarantined `size`. */
const MAX_RECORD_BYTES = 512 * 1024 - 1;
/** A .gz sample inflating beyond this is refused, as the collector refuses gzip bombs. */
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
const NL = 0x0a;
const CATEGORY_TOKEN = /^[A-Za-z0-9_-]+$/;

function bump(m: Record<string, number>, key: string, n = 1): void {
  m[key] = (m[key] ?? 0) + n;
}

function reasonKey(rule: string, reason: string): string {
  const text = `${rule}: ${reason}`.replace(/\s+/g, ' ');
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS - 1)}…` : text;
}

/** The most frequent reasons, most frequent first (ties by text). */
export function topReasons(m: ReasonCounts, n = 5): [string, number][] {
  return Object.entries(m)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, n);
}

interface TableState {
  def: TableDefinition;
  validate: Validator;
  actions: Map<string, ExpectationAction>;
}

/** Accumulates the outcome of sample files, one file at a time (so a large folder is never held in memory). */
export class ConformanceRun {
  private readonly byFamily = new Map<string, FamilyReport>();
  private readonly tableStates = new Map<string, Map<string, TableState>>();

  constructor(private readonly batchSize = DEFAULT_BATCH) {}

  /** Runs one file (`.gz` inflated) of `familyName` through framing, route, decode and validation. */
  addFile(familyName: string, path: string, content: Uint8Array): FileReport {
    const family = families[familyName];
    if (!family) throw new Error(`unknown source family "${familyName}"`);
    const report = this.familyReport(family.name);
    const counts = emptyCounts();
    counts.files = 1;
    const file: FileReport = { path, wrapper: 'none', framing: 'ndjson', counts };
    report.files.push(file);
    let bytes = content;
    if (path.endsWith('.gz')) {
      try {
        bytes = gunzipSync(content, { maxOutputLength: MAX_INFLATED_BYTES });
      } catch (e) {
        file.error = `gunzip failed: ${(e as Error).message}`;
        addCounts(report.counts, counts);
        return file;
      }
    }
    const raw = unwrapSample(bytes);
    file.wrapper = raw.wrapper;
    file.framing = raw.framing;
    counts.skipped += raw.missing;
    // A JSON document's elements carry no preamble; lines are cut into runs that share one (collector behaviour).
    const segments = raw.framing === 'ndjson' ? segmentLines(raw.records, family) : raw.records.length ? [{ preamble: [], records: raw.records }] : [];
    let inSegments = 0;
    for (const seg of segments) {
      inSegments += seg.records.length;
      const ctx: RecordContext = { source: family.name, object: path, preamble: seg.preamble };
      for (let i = 0; i < seg.records.length; i += this.batchSize) this.routeBatch(family, seg.records.slice(i, i + this.batchSize), ctx, counts, report);
    }
    counts.preambleLines = raw.records.length - inSegments;
    addCounts(report.counts, counts);
    return file;
  }

  /** The report so far: families in registry order, then totals. */
  report(): ConformanceReport {
    const order = Object.keys(families);
    const list = [...this.byFamily.values()].sort((a, b) => order.indexOf(a.family) - order.indexOf(b.family));
    const totals = emptyCounts();
    for (const f of list) addCounts(totals, f.counts);
    return { families: list, totals };
  }

  private familyReport(name: string): FamilyReport {
    let r = this.byFamily.get(name);
    if (!r) {
      r = { family: name, counts: emptyCounts(), quarantineReasons: {}, rejectReasons: {}, dropReasons: {}, failReasons: {}, warnReasons: {}, unroutedCategories: {}, tables: {}, files: [] };
      this.byFamily.set(name, r);
    }
    return r;
  }

  private table(family: SourceFamily, category: string): TableState | undefined {
    let states = this.tableStates.get(family.name);
    if (!states) {
      states = new Map();
      this.tableStates.set(family.name, states);
    }
    let s = states.get(category);
    if (!s) {
      const def = Object.hasOwn(family.tables, category) ? family.tables[category] : undefined;
      if (!def) return undefined;
      s = { def, validate: compileValidator(def), actions: new Map(def.expectations.map((e) => [e.name, e.action])) };
      states.set(category, s);
    }
    return s;
  }

  /** One envelope: the splitter's route and checks, then the parser's decode and validation per routed record. */
  private routeBatch(family: SourceFamily, records: Uint8Array[], ctx: RecordContext, counts: Counts, report: FamilyReport): void {
    counts.records += records.length;
    let result;
    try {
      result = family.route(records, ctx);
    } catch (e) {
      // route must not throw; if it does, every record of the envelope is lost — count them as rejected.
      counts.rejected += records.length;
      bump(report.rejectReasons, reasonKey('route-threw', (e as Error).message), records.length);
      return;
    }
    counts.skipped += result.skipped ?? 0;
    counts.rejected += result.rejected.length;
    for (const r of result.rejected) bump(report.rejectReasons, reasonKey(r.rule, r.reason));
    counts.routed += result.routed.length;
    const quarantine = (rule: string, reason: string) => {
      counts.quarantined++;
      bump(report.quarantineReasons, reasonKey(rule, reason));
    };
    for (const { category: routedCategory, record } of result.routed) {
      // The splitter's checks: one record per envelope line, under the envelope cap, a subject-safe category.
      if (record.includes(NL)) {
        quarantine('parse', 'routed record contains a newline');
        continue;
      }
      if (record.length > MAX_RECORD_BYTES) {
        quarantine('size', `record of ${record.length} bytes exceeds the envelope cap`);
        continue;
      }
      const category = CATEGORY_TOKEN.test(routedCategory) ? routedCategory : UNKNOWN_CATEGORY;
      const table = category === UNKNOWN_CATEGORY ? undefined : this.table(family, category);
      if (!table) {
        counts.unrouted++;
        bump(report.unroutedCategories, category);
        continue;
      }
      this.parseRecord(family, category, table, record, ctx, counts, report, quarantine);
    }
  }

  /** The parser's dispositions (services/parser/handler.ts parseBatch), record by record. */
  private parseRecord(
    family: SourceFamily,
    category: string,
    table: TableState,
    record: Uint8Array,
    ctx: RecordContext,
    counts: Counts,
    report: FamilyReport,
    quarantine: (rule: string, reason: string) => void,
  ): void {
    let value: unknown;
    try {
      value = family.decode ? family.decode(record, category, ctx) : JSON.parse(dec.decode(record));
    } catch (e) {
      if (e instanceof RecordError) quarantine(e.rule, e.message);
      else if (!family.decode) quarantine('parse', `invalid JSON: ${(e as Error).message}`);
      else quarantine('parse', `decoder failed: ${(e as Error).message}`);
      return;
    }
    const v = table.validate(value);
    if (v.warnings.length) {
      if (v.disposition === 'keep') counts.warned++;
      for (const w of v.warnings) bump(report.warnReasons, reasonKey('warn', w));
    }
    switch (v.disposition) {
      case 'fail':
        counts.failed++;
        bump(report.failReasons, reasonKey(v.failed.find((r) => table.actions.get(r) === 'fail') ?? 'fail', v.reasons.join('; ')));
        return;
      case 'drop':
        counts.dropped++;
        bump(report.dropReasons, reasonKey(v.failed.find((r) => table.actions.get(r) === 'drop') ?? 'drop', v.reasons.join('; ')));
        return;
      case 'quarantine':
        quarantine(v.failed[0] === 'coercion' ? 'parse' : (v.failed.find((r) => table.actions.get(r) === 'quarantine') ?? v.failed[0] ?? 'parse'), v.reasons.join('; '));
        return;
      case 'keep':
        counts.kept++;
        bump(report.tables, table.def.name);
    }
  }
}

/** Convenience: a whole set of files (family, path, bytes) → report. */
export function runConformance(files: Iterable<{ family: string; path: string; content: Uint8Array }>, batchSize = DEFAULT_BATCH): ConformanceReport {
  const run = new ConformanceRun(batchSize);
  for (const f of files) run.addFile(f.family, f.path, f.content);
  return run.report();
}

const COLUMN_TITLES: Record<keyof Counts, string> = {
  files: 'files',
  records: 'records',
  preambleLines: 'preamble',
  routed: 'routed',
  kept: 'kept',
  dropped: 'dropped',
  quarantined: 'quarantined',
  failed: 'failed',
  warned: 'warned',
  unrouted: 'unrouted',
  rejected: 'rejected',
  skipped: 'skipped',
};

function countsTable(rows: [string, Counts][]): string[] {
  const header = ['', ...COUNT_KEYS.map((k) => COLUMN_TITLES[k])];
  const body = rows.map(([label, c]) => [label, ...COUNT_KEYS.map((k) => String(c[k]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), ...body.map(fmt)];
}

function reasonLines(title: string, m: ReasonCounts): string[] {
  const top = topReasons(m);
  if (!top.length) return [];
  const total = Object.values(m).reduce((a, b) => a + b, 0);
  const shown = top.reduce((a, [, n]) => a + n, 0);
  const lines = [`  ${title}:`, ...top.map(([r, n]) => `    ${String(n).padStart(6)}  ${r}`)];
  if (shown < total) lines.push(`    ${String(total - shown).padStart(6)}  (${Object.keys(m).length - top.length} other reasons)`);
  return lines;
}

/** The human-readable report: per family its counts, top reasons, rows per table and files; totals at the end. */
export function formatReport(report: ConformanceReport, opts: { files?: boolean } = {}): string {
  const out: string[] = [];
  for (const f of report.families) {
    out.push(`== ${f.family}`);
    out.push(...countsTable([[f.family, f.counts]]).map((l) => `  ${l}`));
    out.push(...reasonLines('top quarantine reasons', f.quarantineReasons));
    out.push(...reasonLines('top reject reasons (route)', f.rejectReasons));
    out.push(...reasonLines('top drop reasons', f.dropReasons));
    out.push(...reasonLines('fail (the parser would stop)', f.failReasons));
    out.push(...reasonLines('top warnings (rows kept)', f.warnReasons));
    const unrouted = Object.entries(f.unroutedCategories);
    if (unrouted.length) out.push(`  unrouted by category: ${unrouted.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    const tables = Object.entries(f.tables).sort(([a], [b]) => a.localeCompare(b));
    if (tables.length) {
      out.push('  rows kept by table:');
      const w = Math.max(...tables.map(([t]) => t.length));
      for (const [t, n] of tables) out.push(`    ${t.padEnd(w)}  ${String(n).padStart(6)}`);
    }
    if (opts.files !== false) {
      out.push('  files (wrapper, framing: records → kept / quarantined / rejected):');
      for (const file of f.files) {
        const c = file.counts;
        const what = file.error ? `ERROR ${file.error}` : `${c.records} → ${c.kept} / ${c.quarantined} / ${c.rejected}${c.unrouted ? `, unrouted ${c.unrouted}` : ''}${c.dropped ? `, dropped ${c.dropped}` : ''}`;
        out.push(`    ${file.path}  [${file.wrapper}, ${file.framing}]  ${what}`);
      }
    }
    out.push('');
  }
  out.push('== totals');
  out.push(...countsTable([...report.families.map((f): [string, Counts] => [f.family, f.counts]), ['total', report.totals]]).map((l) => `  ${l}`));
  return out.join('\n');
}
