// Checkpoints over 100 commits (appends, an OPTIMIZE, a schema change): one every checkpointInterval commits,
// and the checkpoint-based snapshot equals pure JSON replay. Prints snapshot-load and checkpoint-write times.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeCheckpoint } from './checkpointWrite.ts';
import { DeltaTable, readTable } from './index.ts';
import { loadState, type LogState } from './logReplay.ts';
import { buildHundredCommits, byId, tempDir } from './testSupport.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-cp100-')));
afterEach(async () => cleanup());

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function comparable(s: LogState) {
  const snap = s.snapshot();
  const sortBy = <T extends { path: string }>(xs: T[]) => [...xs].sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    version: snap.version,
    protocol: snap.protocol,
    metadata: snap.metadata,
    txns: snap.txns,
    // A checkpoint re-states adds with dataChange:false; everything else must be identical.
    files: sortBy(snap.files.map((f) => ({ ...f, dataChange: false }))),
    tombstones: sortBy([...s.tombstones.values()]),
  };
}

describe('checkpoints at 100 commits', () => {
  it('writes one every 10 commits and equals pure JSON replay', async () => {
    const { table, rows } = await buildHundredCommits(dir);
    expect(table.lastCheckpointError).toBeUndefined();
    const logDir = join(dir, '_delta_log');
    expect(readdirSync(logDir).filter((f) => f.endsWith('.checkpoint.parquet'))).toEqual(
      Array.from({ length: 10 }, (_, k) => `${String((k + 1) * 10).padStart(20, '0')}.checkpoint.parquet`),
    );

    let t0 = process.hrtime.bigint();
    const viaCheckpoint = (await loadState(dir))!;
    const loadCp = ms(t0);
    t0 = process.hrtime.bigint();
    const jsonOnly = (await loadState(dir, { ignoreCheckpoints: true }))!;
    const loadJson = ms(t0);
    expect(viaCheckpoint.version).toBe(100);
    expect(viaCheckpoint.tombstones.size).toBeGreaterThan(0); // the OPTIMIZE's removes are carried
    expect(comparable(viaCheckpoint)).toEqual(comparable(jsonOnly));
    expect(viaCheckpoint.snapshot().txns.get('sink')).toBe(100);

    t0 = process.hrtime.bigint();
    const snap = await (await DeltaTable.open(dir)).snapshot();
    const openSnap = ms(t0);
    expect(snap.files).toHaveLength(jsonOnly.files.size);
    t0 = process.hrtime.bigint();
    await writeCheckpoint(logDir, viaCheckpoint);
    const cpWrite = ms(t0);
    console.log(
      `[checkpoint@100] ${snap.files.length} active files, ${viaCheckpoint.tombstones.size} tombstones: ` +
        `open+snapshot ${openSnap.toFixed(1)} ms, loadState via checkpoint ${loadCp.toFixed(1)} ms, ` +
        `pure JSON replay ${loadJson.toFixed(1)} ms, checkpoint write ${cpWrite.toFixed(1)} ms`,
    );
    expect(byId((await readTable(dir)).rows)).toEqual(byId(rows));
  });
});
