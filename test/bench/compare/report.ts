// The comparison's result rows, derived figures and the printed table (shared by main.ts and its test).
export interface EngineRow {
  engine: string;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** events / CPU seconds: throughput per fully used core. */
  eventsPerCoreSecond: number;
  cpuSecondsPerMillion: number;
  peakRssBytes: number;
  outputBytes: number;
  files: number;
  /** Rows read back from the table, the rows expected, and who read them (delta-rs or sluice's reader). */
  rows: number;
  expectedRows: number;
  rowsOk: boolean;
  countedBy: string;
  /** Engine-specific extras: startup cost, per-process CPU, parse share, latency. */
  detail: Record<string, unknown>;
}

export interface SkippedEngine {
  engine: string;
  error: string;
}

export interface CompareReport {
  events: number;
  inputBytes: number;
  inputFiles: number;
  machine: { nproc: number; cpuModel: string; node: string; loadBefore: number[]; loadAfter: number[]; startedAt: string; finishedAt: string };
  rows: EngineRow[];
  skipped: SkippedEngine[];
}

export function engineRow(m: { engine: string; events: number; wallSeconds: number; cpuSeconds: number; peakRssBytes: number }, t: { rows: number; files: number; bytes: number; countedBy: string }, expectedRows: number, detail: Record<string, unknown> = {}): EngineRow {
  return {
    engine: m.engine,
    events: m.events,
    wallSeconds: round(m.wallSeconds, 2),
    cpuSeconds: round(m.cpuSeconds, 2),
    eventsPerCoreSecond: Math.round(m.events / m.cpuSeconds),
    cpuSecondsPerMillion: round((m.cpuSeconds / m.events) * 1e6, 2),
    peakRssBytes: m.peakRssBytes,
    outputBytes: t.bytes,
    files: t.files,
    rows: t.rows,
    expectedRows,
    rowsOk: t.rows === expectedRows,
    countedBy: t.countedBy,
    detail,
  };
}

function round(n: number, d: number): number {
  const f = 10 ** d;
  return Math.round(n * f) / f;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (n: number) => (n / 1024 / 1024).toFixed(0);

/** The table main.ts prints (also pasted into docs/PERFORMANCE.md). */
export function formatTable(r: CompareReport): string {
  const head = ['engine', 'events', 'wall s', 'CPU s', 'events/s per core', 'CPU s per 1 M', 'peak RSS MiB', 'output MB', 'files', 'rows ok'];
  const body = r.rows.map((x) => [
    x.engine,
    int(x.events),
    x.wallSeconds.toFixed(1),
    x.cpuSeconds.toFixed(1),
    int(x.eventsPerCoreSecond),
    x.cpuSecondsPerMillion.toFixed(1),
    mib(x.peakRssBytes),
    (x.outputBytes / 1e6).toFixed(1),
    String(x.files),
    x.rowsOk ? `yes (${int(x.rows)})` : `NO: ${int(x.rows)} of ${int(x.expectedRows)}`,
  ]);
  const lines = [head, ...body];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const fmt = (l: string[]) => '| ' + l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  const out = [fmt(head), sep, ...body.map(fmt)];
  for (const s of r.skipped) out.push(`skipped ${s.engine}: ${s.error}`);
  return out.join('\n');
}
