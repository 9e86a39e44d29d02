// Finds the Delta tables of a lake and summarises them (rows, files, version) for the CLI. A local folder is walked;
// an object-store lake (s3://, az://, abfss://) is probed at the locations sluice writes (<lake>/<layer>/<table>),
// because listing a bucket recursively would page through every data file.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DeltaTable, DeltaTableMissingError, readTable } from '@sluice/delta';
import type { OpenStoreOptions } from '@sluice/storage';
import { allTables } from '@sluice/tables';

export function isStoreUrl(lake: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(lake) && !lake.toLowerCase().startsWith('file://');
}

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

export async function summarise(lakePath: string, storeOptions?: OpenStoreOptions): Promise<TableSummary[]> {
  const out: TableSummary[] = [];
  if (isStoreUrl(lakePath)) {
    const base = lakePath.replace(/\/+$/, '');
    for (const def of allTables()) {
      const name = `${def.layer}/${def.name}`;
      const t = await DeltaTable.open(`${base}/${name}`, { storeOptions }).catch((e: unknown) => {
        if (e instanceof DeltaTableMissingError) return undefined;
        throw e;
      });
      if (t) out.push(await summaryOf(t, name, `${base}/${name}`));
    }
    return out;
  }
  for (const path of findTables(lakePath)) out.push(await summaryOf(await DeltaTable.open(path), relative(lakePath, path), path));
  return out;
}

async function summaryOf(t: DeltaTable, name: string, path: string): Promise<TableSummary> {
  const snap = await t.snapshot();
  const rows = snap.files.reduce((n, f) => n + (f.stats ? (JSON.parse(f.stats) as { numRecords?: number }).numRecords ?? 0 : 0), 0);
  return { name, path, version: snap.version, files: snap.files.length, rows, partitions: snap.metadata.partitionColumns };
}

export function formatSummary(tables: TableSummary[]): string {
  const rows = [['table', 'rows', 'files', 'version', 'partitioned by'], ...tables.map((t) => [t.name, String(t.rows), String(t.files), String(t.version), t.partitions.join(', ')])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => (i === 0 || i === 4 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ')).join('\n');
}

export { readTable };
