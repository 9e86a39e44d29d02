// What an engine left behind: the Delta table's data files and bytes (from its snapshot) and its row count read
// back — with delta-rs (Python deltalake) when available, else with sluice's own reader.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DeltaTable, readTable } from '@sluice/delta';

export interface TableStats {
  rows: number;
  files: number;
  bytes: number;
  partitions: number;
  /** Who counted the rows: `delta-rs` (pyarrow dataset over the table) or `sluice` (readTable). */
  countedBy: 'delta-rs' | 'sluice';
}

const HERE = import.meta.dirname;

let deltaRs: boolean | undefined;
export function hasDeltaRs(): boolean {
  deltaRs ??= spawnSync('python3', ['-c', 'import deltalake, pyarrow'], { encoding: 'utf8' }).status === 0;
  return deltaRs;
}

export async function tableStats(root: string, opts: { reader?: 'delta-rs' | 'sluice' } = {}): Promise<TableStats> {
  const snap = await (await DeltaTable.open(root)).snapshot();
  const files = [...snap.files];
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const partitions = new Set(files.map((f) => JSON.stringify(f.partitionValues))).size;
  const reader = opts.reader ?? (hasDeltaRs() ? 'delta-rs' : 'sluice');
  let rows: number;
  if (reader === 'delta-rs') {
    const r = spawnSync('python3', [join(HERE, 'count_rows.py'), root], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`count_rows.py ${root}: ${r.stderr.trim().split('\n').pop()}`);
    rows = Number(r.stdout.trim());
  } else {
    rows = (await readTable(root)).rows.length;
  }
  return { rows, files: files.length, bytes, partitions, countedBy: reader };
}
