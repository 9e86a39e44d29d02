// OPTIMIZE on temp tables: small files per partition become one, rows and stats unchanged, dataChange:false,
// and the concurrency rules (appends meanwhile commute; a concurrent remove of an input file is a conflict).
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommitText, type Action } from './actions.ts';
import { DeltaConflictError, DeltaTable, optimize, readTable } from './index.ts';
import { ALL_TYPES, arrowOf, byId, rowsFor, seedSmallFiles, tempDir } from './testSupport.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-optimize-')));
afterEach(async () => cleanup());

const commit = async (root: string, v: number): Promise<Action[]> =>
  parseCommitText(await readFile(join(root, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8'), `v${v}`);

const seed = (root: string): Promise<DeltaTable> => seedSmallFiles(root);

describe('optimize', () => {
  it('compacts the small files of each partition into one, keeping rows and exact stats', async () => {
    const t = await seed(dir);
    const before = byId((await readTable(dir)).rows);
    const beforeSnap = await t.snapshot();
    expect(beforeSnap.files).toHaveLength(11);

    const res = await optimize(t);
    expect(res).toMatchObject({ filesRemoved: 10, filesAdded: 2, partitions: 2, version: 12 });
    const removedBytes = beforeSnap.files.filter((f) => f.partitionValues.p !== null).reduce((k, f) => k + f.size, 0);
    expect(res.bytesBefore).toBe(removedBytes);

    const snap = await t.snapshot();
    expect(snap.files).toHaveLength(3);
    expect(snap.files.map((f) => f.partitionValues.p).sort()).toEqual(['a', 'b b', null].sort());
    expect(byId((await readTable(dir)).rows)).toEqual(before);
    expect(res.bytesAfter).toBe(snap.files.filter((f) => f.partitionValues.p !== null).reduce((k, f) => k + f.size, 0));

    // Stats are exactly those of writing the same rows (same order) in one append.
    const ref = await DeltaTable.openOrCreate(join(dir, 'ref'), { columns: ALL_TYPES, partitionBy: ['p'] });
    const aRows = [0, 1, 2, 3, 4].flatMap((k) => rowsFor(k, 'a'));
    await ref.append(arrowOf(ALL_TYPES, aRows));
    const refStats = JSON.parse((await ref.snapshot()).files[0]!.stats!) as unknown;
    const aFile = snap.files.find((f) => f.partitionValues.p === 'a')!;
    expect(JSON.parse(aFile.stats!)).toEqual(refStats);
    expect(JSON.parse(aFile.stats!)).toMatchObject({ numRecords: 10, minValues: { id: 0, l: -4 }, maxValues: { id: 41, l: 4000 }, nullCount: { s: 5 } });
    expect(aFile.dataChange).toBe(false);

    // One commit: commitInfo OPTIMIZE, dataChange:false removes with extended metadata, then the adds.
    const c = await commit(dir, res.version);
    expect(c.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', ...Array<string>(10).fill('remove'), 'add', 'add']);
    const info = c[0] && 'commitInfo' in c[0] ? c[0].commitInfo : {};
    expect(info).toMatchObject({ operation: 'OPTIMIZE', readVersion: 11, isBlindAppend: false, operationMetrics: { numRemovedFiles: '10', numAddedFiles: '2' } });
    const sizes = new Map(beforeSnap.files.map((f) => [f.path, f.size]));
    for (const a of c) {
      if ('remove' in a) {
        expect(a.remove).toMatchObject({ dataChange: false, extendedFileMetadata: true, size: sizes.get(a.remove.path) });
        expect(a.remove.deletionTimestamp).toBeGreaterThan(Date.now() - 60_000);
        expect(a.remove.partitionValues?.p).toMatch(/^(a|b b)$/);
      }
      if ('add' in a) expect(a.add.dataChange).toBe(false);
    }
    // Removed files stay on disk until VACUUM (readers of older snapshots still need them).
    for (const f of beforeSnap.files) expect(existsSync(join(dir, decodeURIComponent(f.path)))).toBe(true);

    // Nothing left to do.
    expect(await optimize(t)).toEqual({ filesRemoved: 0, filesAdded: 0, partitions: 0, bytesBefore: 0, bytesAfter: 0, version: 12 });
  });

  it('respects targetFileBytes, minFileBytes and partitionFilter', async () => {
    const t = await seed(dir);
    const size = Math.max(...(await t.snapshot()).files.map((f) => f.size));
    // Bins of at most two files: 5 files → 2 + 2 + 1 (a single-file bin is left alone).
    const res = await optimize(t, { targetFileBytes: size * 2 + 1, partitionFilter: { p: 'a' } });
    expect(res).toMatchObject({ filesRemoved: 4, filesAdded: 2, partitions: 1 });
    const byPart = (await t.snapshot()).files.reduce<Record<string, number>>((m, f) => ({ ...m, [String(f.partitionValues.p)]: (m[String(f.partitionValues.p)] ?? 0) + 1 }), {});
    expect(byPart).toEqual({ a: 3, 'b b': 5, null: 1 });
    // Files at least minFileBytes are never rewritten.
    expect(await optimize(t, { minFileBytes: 1 })).toMatchObject({ filesRemoved: 0 });
    expect(await optimize(t, { partitionFilter: (v) => v.p === 'b b' })).toMatchObject({ filesRemoved: 5, filesAdded: 1, partitions: 1 });
  });

  it('commits after a concurrent append (no row lost) and retries past it', async () => {
    const t = await seed(dir);
    const other = await DeltaTable.open(dir);
    const before = (await readTable(dir)).rows;
    let appended = -1;
    const res = await optimize(t, {
      beforeCommit: async () => {
        appended = (await other.append(arrowOf(ALL_TYPES, rowsFor(50, 'a')))).version;
      },
    });
    expect(appended).toBe(12);
    expect(res.version).toBe(13);
    const after = byId((await readTable(dir)).rows);
    expect(after).toEqual(byId([...before, ...rowsFor(50, 'a')]));
    // The concurrent append's file is still active next to the compacted one.
    expect((await t.snapshot()).files.filter((f) => f.partitionValues.p === 'a')).toHaveLength(2);
  });

  it('fails cleanly when a concurrent optimize already compacted the same files', async () => {
    const t = await seed(dir);
    const other = await DeltaTable.open(dir);
    const before = byId((await readTable(dir)).rows);
    let winner = -1;
    const err = await optimize(t, {
      beforeCommit: async () => {
        winner = (await optimize(other)).version;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaConflictError);
    expect((err as Error).message).toMatch(/concurrent commit 12 removed .*which this OPTIMIZE \(based on version 11\) rewrites/);
    expect(winner).toBe(12);
    const snap = await t.snapshot();
    expect(snap.version).toBe(12);
    expect(snap.files).toHaveLength(3);
    expect(byId((await readTable(dir)).rows)).toEqual(before);
    // The loser deleted its own new files: only the 11 originals and the winner's 2 remain on disk.
    const parquet = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.parquet') && !String(f).startsWith('_delta_log'));
    expect(parquet).toHaveLength(13);
  });

  it('compacts files written before a schema change: their rows get null in the new column', async () => {
    const cols = ALL_TYPES.slice(0, 3);
    const t = await DeltaTable.openOrCreate(dir, { columns: cols, partitionBy: [] });
    await t.append(arrowOf(cols, [{ id: 1, s: 'x', l: 1 }]));
    const wider = [...cols, { name: 'extra', type: 'string' as const, nullable: true }];
    const t2 = await DeltaTable.openOrCreate(dir, { columns: wider, partitionBy: [], schemaEvolution: 'addNewColumns' });
    await t2.append(arrowOf(wider, [{ id: 2, s: 'y', l: 2, extra: 'e' }]));
    expect(await optimize(t2)).toMatchObject({ filesRemoved: 2, filesAdded: 1 });
    expect(byId((await readTable(dir)).rows)).toEqual([{ id: 1, s: 'x', l: 1, extra: null }, { id: 2, s: 'y', l: 2, extra: 'e' }]);
    expect(JSON.parse((await t2.snapshot()).files[0]!.stats!)).toMatchObject({ numRecords: 2, nullCount: { extra: 1 }, minValues: { extra: 'e' } });
  });
});
