// Applies a table's expectations to coerced rows and combines coercion + expectations into one verdict per record:
// keep (possibly with warnings), drop, quarantine or fail. The strictest failed action wins: fail > quarantine > drop > warn.
import { compileCoercer } from './coerce.ts';
import type { Expectation, ExpectationAction, Row, TableDefinition } from './tableDefinition.ts';

export type Disposition = 'keep' | 'drop' | 'quarantine' | 'fail';

export interface ExpectationVerdict {
  disposition: Disposition;
  /** Reasons of the failed drop/quarantine/fail expectations. */
  reasons: string[];
  /** Reasons of the failed warn expectations (the row is kept). */
  warnings: string[];
}

/** A record's verdict: the coerced row (null when coercion failed), the disposition and why. */
export interface Validation extends ExpectationVerdict {
  row: Row | null;
  /** The name of each failed expectation, for per-rule counters; `coercion` when the record did not coerce. */
  failed: string[];
}

export type Validator = (record: unknown) => Validation;

const SEVERITY: Record<ExpectationAction, number> = { warn: 0, drop: 1, quarantine: 2, fail: 3 };
const NONE: string[] = [];
Object.freeze(NONE);

/** Text used in quarantine reasons and warnings: `expectation valid_remote_port (drop): RemotePort is null or 0..65535`. */
export function expectationReason(e: Expectation): string {
  return `expectation ${e.name} (${e.action}): ${e.description}`;
}

function runChecks(expectations: readonly Expectation[], row: Row): { verdict: ExpectationVerdict; failed: string[] } {
  let worst = -1;
  let reasons = NONE;
  let warnings = NONE;
  let failed = NONE;
  for (const e of expectations) {
    let ok: boolean;
    try {
      ok = e.check(row);
    } catch {
      ok = false;
    }
    if (ok) continue;
    if (failed === NONE) failed = [];
    failed.push(e.name);
    if (e.action === 'warn') {
      if (warnings === NONE) warnings = [];
      warnings.push(expectationReason(e));
      continue;
    }
    if (reasons === NONE) reasons = [];
    reasons.push(expectationReason(e));
    worst = Math.max(worst, SEVERITY[e.action]);
  }
  const disposition: Disposition = worst === 3 ? 'fail' : worst === 2 ? 'quarantine' : worst === 1 ? 'drop' : 'keep';
  return { verdict: { disposition, reasons, warnings }, failed };
}

/** Runs every expectation of the table on one coerced row. A check that throws counts as failed. */
export function evaluateExpectations(def: TableDefinition, row: Row): ExpectationVerdict {
  return runChecks(def.expectations, row).verdict;
}

/**
 * Compiles coercion and expectations into one function. A record that does not coerce (bad type, required
 * column missing — e.g. a missing Timestamp) is quarantined with the coercion reason; expectations run on the rest.
 * The returned arrays are shared and frozen when empty: do not mutate them.
 */
export function compileValidator(def: TableDefinition): Validator {
  const coerce = compileCoercer(def);
  const expectations = [...def.expectations];
  return (record: unknown): Validation => {
    const r = coerce(record);
    if (!r.ok) return { row: null, disposition: 'quarantine', reasons: [r.reason], warnings: NONE, failed: ['coercion'] };
    const { verdict, failed } = runChecks(expectations, r.row);
    return { row: r.row, disposition: verdict.disposition, reasons: verdict.reasons, warnings: verdict.warnings, failed };
  };
}
