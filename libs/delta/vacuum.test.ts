// VACUUM on temp tables: old orphans and optimize-removed files past retention go; young orphans, referenced
// files, recently removed files, hidden files and _delta_log stay; the table reads identically afterwards.
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeltaError, optimize, readTable, vacuum } from './index.ts';
import { byId, seedSmallFiles, tempDir } from './testSupport.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-vacuum-')));
afterEach(async () => cleanup());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const setMtime = (p: string, ms: number) => utimes(p, ms / 1000, ms / 1000);

describe('vacuum', () => {
  it('deletes old orphans and optimize-removed files past retention, keeps everything else', async () => {
    const t = await seedSmallFiles(dir);
    const original = (await t.snapshot()).files;
    await optimize(t);
    const active = (await t.snapshot()).files.map((f) => decodeURIComponent(f.path));
    const removed = original.filter((f) => f.partitionValues.p !== null).map((f) => decodeURIComponent(f.path));
    expect(removed).toHaveLength(10);
    const rows = byId((await readTable(dir)).rows);

    // Vacuum runs "8 days later": the optimize's removes are then past the 7-day retention.
    const now = Date.now() + 8 * DAY;
    const src = join(dir, active[0]!);
    const oldOrphan = 'p=a/part-00000-crashed-old.c000.zstd.parquet'; // a crashed write, never committed
    const youngOrphan = 'p=a/part-00000-in-flight.c000.zstd.parquet'; // an append still about to commit
    await copyFile(src, join(dir, oldOrphan));
    await setMtime(join(dir, oldOrphan), now - 10 * DAY);
    await copyFile(src, join(dir, youngOrphan));
    await setMtime(join(dir, youngOrphan), now - 30 * 60_000);
    await writeFile(join(dir, 'p=a', '.part-x.crc'), 'hidden');
    await setMtime(join(dir, 'p=a', '.part-x.crc'), now - 10 * DAY);
    const logBefore = readdirSync(join(dir, '_delta_log'));

    const expected = [...removed, oldOrphan].sort();
    expect(await vacuum(dir, { now, dryRun: true })).toEqual(expected);
    expect(existsSync(join(dir, oldOrphan))).toBe(true); // dry run deletes nothing

    expect(await vacuum(dir, { now })).toEqual(expected);
    for (const p of expected) expect(existsSync(join(dir, p))).toBe(false);
    for (const p of [...active, youngOrphan, 'p=a/.part-x.crc']) expect(existsSync(join(dir, p))).toBe(true);
    expect(readdirSync(join(dir, '_delta_log'))).toEqual(logBefore);
    expect(byId((await readTable(dir)).rows)).toEqual(rows);
    expect(await vacuum(dir, { now })).toEqual([]);
  });

  it('keeps removed files whose remove is recent even when their mtime is old', async () => {
    const t = await seedSmallFiles(dir);
    const original = (await t.snapshot()).files;
    await optimize(t);
    // Data files written long ago, compacted just now: a reader of the previous snapshot may still read them.
    for (const f of original) await setMtime(join(dir, decodeURIComponent(f.path)), Date.now() - 30 * DAY);
    expect(await vacuum(dir, { retentionHours: 1 })).toEqual([]);
    // Past the remove's deletionTimestamp + retention they go.
    expect(await vacuum(dir, { retentionHours: 1, now: Date.now() + 2 * HOUR })).toHaveLength(10);
  });

  it('refuses a retention under one hour unless forced', async () => {
    await seedSmallFiles(dir);
    await expect(vacuum(dir, { retentionHours: 0.5 })).rejects.toThrow(DeltaError);
    await expect(vacuum(dir, { retentionHours: 0.5 })).rejects.toThrow(/in-flight appends/);
    await expect(vacuum(dir, { retentionHours: -1, force: true })).rejects.toThrow(RangeError);
    expect(await vacuum(dir, { retentionHours: 0, force: true })).toEqual([]); // every file is referenced
    await expect(vacuum(join(dir, 'nope'))).rejects.toThrow(/not a Delta table/);
  });
});
