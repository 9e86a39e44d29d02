// Shared helpers for this lib's tests: temp tables, typed Arrow batches, reference-table paths.
// Not exported from index.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ColumnBuilder } from '@sluice/columnar';
import type { Table } from 'apache-arrow';
import { it } from 'vitest';
import { DeltaTable } from './deltaTable.ts';
import type { LocationInput } from './location.ts';
import { optimize } from './optimize.ts';
import type { DeltaColumn } from './schema.ts';

/**
 * Reference tables (Spark / delta-rs written, not part of this repository): $DELTA_TESTDATA, else shared/ beside the
 * clone, else /work/shared. Tests that need them run when they are present (as on our machines) and are skipped
 * with a notice otherwise; SLUICE_REQUIRE_REFERENCE=1 turns their absence into a failure.
 */
export const TESTDATA = (() => {
  const candidates = [process.env.DELTA_TESTDATA, resolve(import.meta.dirname, '../../../shared/testdata/delta'), '/work/shared/testdata/delta'];
  const found = candidates.find((p): p is string => !!p && existsSync(join(p, 'golden')));
  if (!found) {
    const msg = `Delta reference tables not found (looked in ${candidates.filter(Boolean).join(', ')}); set DELTA_TESTDATA`;
    if (process.env.SLUICE_REQUIRE_REFERENCE === '1') throw new Error(msg);
    console.warn(`[delta] skipping reference-table tests: ${msg}`);
  }
  return found ?? '';
})();
export const HAS_REFERENCE = TESTDATA !== '';
/** `it` for tests that read the reference tables. */
export const itRef = it.runIf(HAS_REFERENCE);
export const GOLDEN = join(TESTDATA, 'golden');
export const KERNEL = join(TESTDATA, 'kernel');

/** Every Delta type, all nullable, plus a string and a date to partition by. */
export const ALL_TYPES: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 's', type: 'string', nullable: true },
  { name: 'l', type: 'long', nullable: true },
  { name: 'i', type: 'integer', nullable: true },
  { name: 'd', type: 'double', nullable: true },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 't', type: 'timestamp', nullable: true },
  { name: 'day', type: 'date', nullable: true },
  { name: 'p', type: 'string', nullable: true },
];

export type TestRow = Record<string, string | number | boolean | Record<string, string | null> | null>;

/** An Arrow table (columnar's builder: Utf8, Int64, Timestamp µs UTC, DateDay...) of `rows`. */
export function arrowOf(columns: DeltaColumn[], rows: TestRow[]): Table {
  const b = new ColumnBuilder(columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })));
  for (const r of rows) b.append(r);
  return b.build();
}

export async function tempDir(prefix = 'delta-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function byId<T extends Record<string, unknown>>(rows: T[]): T[] {
  return [...rows].sort((a, b) => Number(a.id) - Number(b.id));
}

/** Two ALL_TYPES rows (one mostly null) for batch `k` in partition `p`. */
export function rowsFor(k: number, p: string | null): TestRow[] {
  return [
    { id: k * 10, s: `s${k}`, l: k * 1000, i: k, d: k / 4, b: k % 2 === 0, t: 1_700_000_000_000_000 + k, day: 19_000 + k, p },
    { id: k * 10 + 1, s: null, l: -k, i: null, d: null, b: null, t: null, day: null, p },
  ];
}

/** 5 single-batch appends to each of partitions "a" and "b b", one to the null partition (11 small files). */
export async function seedSmallFiles(root: LocationInput): Promise<DeltaTable> {
  const t = await DeltaTable.openOrCreate(root, { columns: ALL_TYPES, partitionBy: ['p'], checkpointInterval: 100 });
  for (let k = 0; k < 5; k++) {
    await t.append(arrowOf(ALL_TYPES, rowsFor(k, 'a')));
    await t.append(arrowOf(ALL_TYPES, rowsFor(100 + k, 'b b')));
  }
  await t.append(arrowOf(ALL_TYPES, rowsFor(999, null)));
  return t;
}

/**
 * A table at version 100 with delta.checkpointInterval 10: appends with txns to 4 partitions, an OPTIMIZE at
 * version 60 (tombstones) and a schema change at version 75 (column "extra" from the input). Returns all rows.
 */
export async function buildHundredCommits(root: string): Promise<{ table: DeltaTable; rows: TestRow[] }> {
  const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }, { name: 's', type: 'string', nullable: true }, { name: 'p', type: 'string', nullable: true }];
  const wide: DeltaColumn[] = [...cols, { name: 'extra', type: 'long', nullable: true }];
  const table = await DeltaTable.openOrCreate(root, { columns: cols, partitionBy: ['p'], checkpointInterval: 10 });
  const rows: TestRow[] = [];
  for (let v = 1; v <= 100; v++) {
    if (v === 60) {
      await optimize(table);
      continue;
    }
    const row: TestRow = { id: v, s: `row ${v}`, p: `p${v % 4}` };
    if (v >= 75) row.extra = v * 1000;
    rows.push(v >= 75 ? row : { ...row, extra: null });
    await table.append(arrowOf(v >= 75 ? wide : cols, [row]), { txn: { appId: 'sink', version: v }, schemaEvolution: 'addNewColumns' });
  }
  return { table, rows };
}
