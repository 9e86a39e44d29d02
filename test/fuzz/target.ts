// What a fuzz target is: a seeded input generator and a run that drives the real stage code on one input and
// accounts for every record. A target reports broken properties as `problems`; the runner counts crashes (a thrown
// exception or a broken property), hangs (slower than the time budget) and saves the input.

/** One input: the bytes and whatever else the target needs to replay it (object name, framing, chunking, …). */
export interface FuzzCase {
  data: Uint8Array;
  meta: { gen: string } & Record<string, unknown>;
}

/**
 * Where the records of one input went. The books must balance per target (see each target's `run`):
 * records = rows + dropped + skipped + rejected + quarantined.
 */
export interface Outcome {
  /** Records that entered (after framing / routing, see the target). */
  records: number;
  /** Rows written (kept by expectations; the unrouted table included). */
  rows: number;
  /** Rows dropped by an expectation whose action is `drop`. */
  dropped: number;
  /** Records skipped on purpose (Zeek `#close`, blank lines), counted by the stage. */
  skipped: number;
  /** Refused before the parser with a reason (collector limits, HTTP 4xx, splitter quarantine). */
  rejected: number;
  /** Quarantined by the parser with a reason. */
  quarantined: number;
  /** Broken properties: any entry fails the input. */
  problems: string[];
}

export interface Target {
  name: string;
  /** One line for `--help`. */
  title: string;
  generate(seed: number, i: number): FuzzCase;
  run(c: FuzzCase): Outcome | Promise<Outcome>;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

export function emptyOutcome(): Outcome {
  return { records: 0, rows: 0, dropped: 0, skipped: 0, rejected: 0, quarantined: 0, problems: [] };
}

/** The accounting identity every target checks last. */
export function checkBooks(o: Outcome, what = 'records'): void {
  const out = o.rows + o.dropped + o.skipped + o.rejected + o.quarantined;
  if (out !== o.records) {
    o.problems.push(`unaccounted: ${o.records} ${what} in, ${out} out (rows ${o.rows}, dropped ${o.dropped}, skipped ${o.skipped}, rejected ${o.rejected}, quarantined ${o.quarantined})`);
  }
}
