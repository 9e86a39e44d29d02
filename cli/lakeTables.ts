// Finds the Delta tables under a lake folder and summarises them (rows, files, version) for the CLI.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DeltaTable, readTable } from '@sluice/delta';

export function findTables(lakePath: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || !existsSync(dir)) return;
    if (existsSync(join(dir, '_delta_log'))) {
      out.push(dir);
      return;
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
  };
  walk(lakePath, 0);
  return out.sort();
}

export interface TableSummary {
  name: string;
  path: string;
  version: number;
  files: number;
  rows: number;
  partitions: string[];
}

export async function summarise(lakePath: string): Promise<TableSummary[]> {
  const out: TableSummary[] = [];
  for (const path of findTables(lakePath)) {
    const t = await DeltaTable.open(path);
    const snap = await t.snapshot();
    const rows = snap.files.reduce((n, f) => n + (f.stats ? (JSON.parse(f.stats) as { numRecords?: number }).numRecords ?? 0 : 0), 0);
    out.push({ name: relative(lakePath, path), path, version: snap.version, files: snap.files.length, rows, partitions: snap.metadata.partitionColumns });
  }
  return out;
}

export function formatSummary(tables: TableSummary[]): string {
  const rows = [['table', 'rows', 'files', 'version', 'partitioned by'], ...tables.map((t) => [t.name, String(t.rows), String(t.files), String(t.version), t.partitions.join(', ')])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => (i === 0 || i === 4 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ')).join('\n');
}

export { readTable };
