// Chaos-suite verification: counts every record id in bronze, silver and quarantine against what the generator
// planned (exactly once each), checks the planted alerts in gold, the webhook receiver and Kafka, and that every
// Delta table's snapshot from its checkpoint equals a pure JSON-log replay. Every difference is named.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeParquet } from '../../libs/delta/parquetFile.ts';
import { loadState, type LogState } from '../../libs/delta/logReplay.ts';
import { fileId, readDataObject, resolveLocation } from '../../libs/delta/location.ts';
import { ID_RE, idOf, QUARANTINE, SILVER_TABLES, type Expected } from './generator.ts';

export interface Difference {
  table: string;
  key: string;
  what: string;
  count: number;
}

export interface LayerResult {
  layer: string;
  table: string;
  expected: number;
  rows: number;
  lost: number;
  duplicates: number;
  unexpected: number;
}

/** Calls `each(value)` for every row's `column` of the table's current snapshot (column-wise, no row objects). */
export async function scanColumn(tablePath: string, column: string, each: (v: string | null) => void): Promise<number> {
  const st = await loadState(tablePath);
  if (!st) return -1;
  const loc = resolveLocation(tablePath);
  for (const f of st.files.values()) {
    const data = decodeParquet(await readDataObject(loc, fileId(loc.store, f.path)));
    const vec = data.getChild(column);
    if (!vec) throw new Error(`${tablePath}: file ${f.path} has no column ${column}`);
    for (let i = 0; i < data.numRows; i++) each(vec.get(i) as string | null);
  }
  return st.version;
}

function idIndex(v: string | null): number {
  const m = v ? ID_RE.exec(v) : null;
  return m ? Number(m[1]) : -1;
}

/** Compares per-id counts with the plan (`want(i)` copies of id i); appends the differences. */
function compare(layer: string, table: string, counts: Uint8Array, want: (i: number) => number, n: number, foreign: number, diffs: Difference[]): LayerResult {
  let expected = 0;
  let rows = foreign;
  let lost = 0;
  let duplicates = 0;
  let unexpected = foreign;
  for (let i = 0; i < n; i++) {
    const w = want(i);
    const c = counts[i]!;
    expected += w;
    rows += c;
    if (c < w) {
      lost += w - c;
      if (diffs.length < 200) diffs.push({ table: `${layer}.${table}`, key: idOf(i), what: 'lost', count: w - c });
    } else if (c > w) {
      if (w === 0) unexpected += c;
      else duplicates += c - w;
      if (diffs.length < 200) diffs.push({ table: `${layer}.${table}`, key: idOf(i), what: w === 0 ? 'unexpected' : 'duplicate', count: c - w });
    }
  }
  if (foreign > 0) diffs.push({ table: `${layer}.${table}`, key: '(rows without a chaos id)', what: 'unexpected', count: foreign });
  return { layer, table, expected, rows, lost, duplicates, unexpected };
}

export async function verifyRecords(lake: string, exp: Expected, diffs: Difference[]): Promise<LayerResult[]> {
  const n = exp.count;
  const out: LayerResult[] = [];
  const count = async (path: string, column: string): Promise<{ counts: Uint8Array; foreign: number }> => {
    const counts = new Uint8Array(n);
    let foreign = 0;
    await scanColumn(path, column, (v) => {
      const i = idIndex(v);
      if (i < 0 || i >= n) foreign++;
      else if (counts[i]! < 255) counts[i]!++;
    });
    return { counts, foreign };
  };
  const b = await count(join(lake, 'bronze', 'bronze'), 'raw');
  out.push(compare('bronze', 'bronze', b.counts, () => 1, n, b.foreign, diffs));
  for (let t = 0; t < SILVER_TABLES.length; t++) {
    const table = SILVER_TABLES[t]!;
    const path = join(lake, 'silver', table);
    const s = existsSync(path) ? await count(path, '_raw') : { counts: new Uint8Array(n), foreign: 0 };
    out.push(compare('silver', table, s.counts, (i) => (exp.table[i] === t ? 1 : 0), n, s.foreign, diffs));
  }
  const qPath = join(lake, 'quarantine', 'quarantine');
  const q = existsSync(qPath) ? await count(qPath, 'raw') : { counts: new Uint8Array(n), foreign: 0 };
  out.push(compare('quarantine', 'quarantine', q.counts, (i) => (exp.table[i] === QUARANTINE ? 1 : 0), n, q.foreign, diffs));
  const uPath = join(lake, 'bronze', 'unrouted');
  if (existsSync(uPath)) {
    const u = await count(uPath, 'raw');
    out.push(compare('bronze', 'unrouted', u.counts, () => 0, n, u.foreign, diffs));
  }
  return out;
}

/** Every Delta table under the lake: the checkpoint-based snapshot equals a replay of the JSON commits alone. */
export async function verifyDeltaConsistency(lake: string, diffs: Difference[]): Promise<{ tables: number; checkpointed: number }> {
  let tables = 0;
  let checkpointed = 0;
  for (const layer of existsSync(lake) ? readdirSync(lake) : []) {
    for (const table of readdirSync(join(lake, layer))) {
      const path = join(lake, layer, table);
      if (!existsSync(join(path, '_delta_log'))) continue;
      tables++;
      const name = `${layer}.${table}`;
      let a: LogState | null;
      let b: LogState | null;
      try {
        a = await loadState(path);
        b = await loadState(path, { ignoreCheckpoints: true });
      } catch (e) {
        diffs.push({ table: name, key: '(log)', what: `unreadable: ${(e as Error).message}`, count: 1 });
        continue;
      }
      if (!a || !b) {
        diffs.push({ table: name, key: '(log)', what: 'no log', count: 1 });
        continue;
      }
      if (existsSync(join(path, '_delta_log', '_last_checkpoint'))) checkpointed++;
      if (a.version !== b.version) diffs.push({ table: name, key: '(version)', what: `checkpoint ${a.version} ≠ replay ${b.version}`, count: 1 });
      const files = (s: LogState) => new Map([...s.files].map(([k, f]) => [k, `${f.size}|${JSON.stringify(f.partitionValues)}`]));
      const fa = files(a);
      const fb = files(b);
      for (const [k, v] of fb) if (fa.get(k) !== v) diffs.push({ table: name, key: k, what: 'file in replay, not (or different) in checkpoint snapshot', count: 1 });
      for (const k of fa.keys()) if (!fb.has(k)) diffs.push({ table: name, key: k, what: 'file in checkpoint snapshot, not in replay', count: 1 });
      for (const [app, t] of b.txns) if (a.txns.get(app)?.version !== t.version) diffs.push({ table: name, key: app, what: `txn ${a.txns.get(app)?.version} ≠ replay ${t.version}`, count: 1 });
      if (a.metadata?.schemaString !== b.metadata?.schemaString) diffs.push({ table: name, key: '(schema)', what: 'schema differs', count: 1 });
    }
  }
  return { tables, checkpointed };
}
