// Log replay against the reference tables in /work/shared/testdata/delta (Spark golden + kernel):
// checkpoints (classic, multi-part, corrupt), txns, escaped/typed partition values, timestamps, bad logs.
import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeltaLogError, DeltaProtocolError, DeltaTable, readTable } from './index.ts';
import { loadState } from './logReplay.ts';
import { byId, GOLDEN, HAS_REFERENCE, KERNEL, tempDir } from './testSupport.ts';

const paths = (files: { path: string }[]) => files.map((f) => f.path).sort();
const us = (iso: string) => Date.parse(iso) * 1000;

async function replayBothWays(root: string) {
  const viaCheckpoint = await (await DeltaTable.open(root)).snapshot();
  const jsonOnly = (await loadState(root, { ignoreCheckpoints: true }))!.snapshot();
  return { viaCheckpoint, jsonOnly };
}

describe.runIf(HAS_REFERENCE)('log replay of reference tables (Spark / delta-rs written)', () => {
  it('classic checkpoint + later commits equals full JSON replay (golden/checkpoint)', async () => {
    const { viaCheckpoint, jsonOnly } = await replayBothWays(join(GOLDEN, 'checkpoint'));
    expect(viaCheckpoint.version).toBe(14);
    expect(paths(viaCheckpoint.files)).toEqual(['15']);
    expect(paths(viaCheckpoint.files)).toEqual(paths(jsonOnly.files));
    expect(viaCheckpoint.metadata.id).toBe('testId');
  });

  it('ignores a corrupt _last_checkpoint (golden/corrupted-last-checkpoint*)', async () => {
    const { viaCheckpoint, jsonOnly } = await replayBothWays(join(GOLDEN, 'corrupted-last-checkpoint'));
    expect(viaCheckpoint.version).toBe(10);
    expect(paths(viaCheckpoint.files)).toEqual(['0', '1', '10', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(paths(viaCheckpoint.files)).toEqual(paths(jsonOnly.files));
    const kernel = await readTable(join(GOLDEN, 'corrupted-last-checkpoint-kernel'));
    expect(kernel.version).toBe(11);
    expect(kernel.rows).toHaveLength(100);
  });

  it('reads a multi-part checkpoint (golden/multi-part-checkpoint)', async () => {
    const r = await readTable(join(GOLDEN, 'multi-part-checkpoint'));
    expect(r.version).toBe(1);
    expect(r.rows).toHaveLength(31);
    const { viaCheckpoint, jsonOnly } = await replayBothWays(join(GOLDEN, 'multi-part-checkpoint'));
    expect(paths(viaCheckpoint.files)).toEqual(paths(jsonOnly.files));
  });

  it('falls back to an older checkpoint or JSON replay when a checkpoint is unreadable', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await cp(join(GOLDEN, 'checkpoint'), dir, { recursive: true });
      await rm(join(dir, '_delta_log/00000000000000000010.checkpoint.parquet'), { force: true });
      await writeFile(join(dir, '_delta_log/00000000000000000010.checkpoint.parquet'), 'not parquet');
      const snap = await (await DeltaTable.open(dir)).snapshot();
      expect(snap.version).toBe(14);
      expect(paths(snap.files)).toEqual(['15']);
    } finally {
      await cleanup();
    }
  });

  it('uses the newest checkpoint when older commits are gone (golden/only-checkpoint-files)', async () => {
    const r = await readTable(join(GOLDEN, 'only-checkpoint-files'));
    expect(r.version).toBe(2);
    expect(r.rows).toHaveLength(25);
  });

  it('reconciles inserts, deletes and a checkpoint (golden/basic-with-inserts-deletes-checkpoint)', async () => {
    const r = await readTable(join(GOLDEN, 'basic-with-inserts-deletes-checkpoint'));
    expect(r.version).toBe(13);
    expect(r.rows).toHaveLength(41);
  });

  it('reads txn versions with and without a checkpoint (kernel app-txn-*)', async () => {
    for (const name of ['app-txn-checkpoint', 'app-txn-no-checkpoint']) {
      const root = join(KERNEL, name);
      const snap = await (await DeltaTable.open(root)).snapshot();
      expect(snap.version).toBe(1);
      expect(snap.txns).toEqual(new Map([['my-app', 3], ['my-app2', 2]]));
      const r = await readTable(root);
      expect(r.rows).toHaveLength(22);
      expect(new Set(r.rows.map((x) => x.modified))).toEqual(new Set(['2021-02-01', '2021-02-02']));
    }
  });

  it('reads checkpoint + commits with stats (kernel parsed-stats, 600 rows)', async () => {
    const r = await readTable(join(KERNEL, 'parsed-stats'));
    expect(r.version).toBe(5);
    expect(r.rows).toHaveLength(600);
    expect(new Set(r.rows.map((x) => x.id)).size).toBe(600);
  });

  it('reads typed partition values, including nulls (golden/data-reader-partition-values)', async () => {
    const r = await readTable(join(GOLDEN, 'data-reader-partition-values'));
    expect(r.rows).toHaveLength(3);
    const rows = [...r.rows].sort((a, b) => String(a.value).localeCompare(String(b.value)));
    expect(rows[1]).toMatchObject({
      as_int: 1, as_long: 1, as_byte: 1, as_short: 1, as_boolean: false, as_float: 1, as_double: 1,
      as_string: '1', as_string_lit_null: 'null', as_date: 18_878, as_timestamp: us('2021-09-08T11:11:11Z'), as_big_decimal: '1', value: '1',
    });
    expect(rows[2]).toMatchObject({ as_int: null, as_long: null, as_boolean: null, as_string: null, as_date: null, as_timestamp: null, value: '2' });
  });

  it("decodes Spark's escaped partition paths (golden/data-reader-escaped-chars)", async () => {
    const r = await readTable(join(GOLDEN, 'data-reader-escaped-chars'));
    expect(r.version).toBe(2);
    expect([...r.rows].sort((a, b) => String(a._1).localeCompare(String(b._1)))).toEqual([
      { _1: 'foo1', _2: 'bar+%21' },
      { _1: 'foo2', _2: 'bar+%22' },
      { _1: 'foo3', _2: 'bar+%23' },
    ]);
  });

  it.each(['TIMESTAMP_MICROS', 'TIMESTAMP_MILLIS', 'INT96'])('reads timestamps stored as %s, partition timestamps as UTC', async (kind) => {
    const r = await readTable(join(GOLDEN, `kernel-timestamp-${kind}`));
    expect(byId(r.rows)).toEqual([
      { id: 0, part: us('2020-01-01T08:09:10.001Z'), time: us('2020-02-01T08:09:10Z') },
      { id: 1, part: us('2021-10-01T08:09:20Z'), time: us('1999-01-01T09:00:00Z') },
      { id: 2, part: us('2021-10-01T08:09:20Z'), time: us('2000-01-01T09:00:00Z') },
      { id: 3, part: us('1969-01-01T00:00:00Z'), time: us('1969-01-01T00:00:00Z') },
      { id: 4, part: null, time: null },
    ]);
  });

  it('reads ISO-8601 partition timestamps (golden/kernel-timestamp-partition-col-ISO8601)', async () => {
    const r = await readTable(join(GOLDEN, 'kernel-timestamp-partition-col-ISO8601'));
    expect(r.rows.map((x) => x.ts).sort()).toEqual([us('2024-01-01T10:00:00Z'), us('2024-01-02T12:30:00Z')]);
  });

  it('keeps µs precision of data timestamps (kernel timestamp-truncation-stats)', async () => {
    const r = await readTable(join(KERNEL, 'timestamp-truncation-stats'));
    expect(byId(r.rows).map((x) => x.ts_col)).toEqual([1_000_000, 2_000_000, 3_000_000, 4_000_500, 7_000_000, 8_000_000]);
  });

  it('matches removes to adds across path spellings (golden canonicalized-paths-*, log-replay-special-characters-a)', async () => {
    for (const name of ['canonicalized-paths-normal-a', 'canonicalized-paths-normal-b', 'canonicalized-paths-special-a', 'canonicalized-paths-special-b', 'log-replay-special-characters-a']) {
      const snap = await (await DeltaTable.open(join(GOLDEN, name))).snapshot();
      expect([name, snap.files]).toEqual([name, []]);
    }
  });

  it('reads primitives and snapshots of multi-version tables', async () => {
    const prim = await readTable(join(GOLDEN, 'data-reader-primitives'));
    expect(prim.rows).toHaveLength(11);
    expect(prim.rows.find((x) => x.as_int === 3)).toMatchObject({ as_long: 3, as_byte: 3, as_short: 3, as_boolean: false, as_float: 3, as_double: 3, as_string: '3', as_big_decimal: '3' });
    expect((await readTable(join(GOLDEN, 'snapshot-data3'))).rows).toHaveLength(30);
    expect((await readTable(join(GOLDEN, 'snapshot-repartitioned'))).rows).toHaveLength(20);
  });

  it('refuses logs it cannot reconstruct or protocols it does not support', async () => {
    await expect(DeltaTable.open(join(GOLDEN, 'versions-not-contiguous'))).rejects.toThrow(DeltaLogError);
    await expect(DeltaTable.open(join(GOLDEN, 'deltalog-state-reconstruction-without-metadata'))).rejects.toThrow(/no metaData/);
    await expect(DeltaTable.open(join(GOLDEN, 'deltalog-state-reconstruction-without-protocol'))).rejects.toThrow(/no protocol/);
    await expect(DeltaTable.open(join(GOLDEN, 'deltalog-invalid-protocol-version'))).rejects.toThrow(DeltaProtocolError);
    await expect(DeltaTable.open(join(GOLDEN, 'v2-checkpoint-parquet'))).rejects.toThrow(/v2Checkpoint/);
  });
});

describe.runIf(HAS_REFERENCE)('incremental refresh', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('picks up commits made by another instance', async () => {
    await cp(join(KERNEL, 'app-txn-no-checkpoint'), dir, { recursive: true });
    const reader = await DeltaTable.open(dir);
    expect((await reader.snapshot()).version).toBe(1);
    const writer = await DeltaTable.open(dir);
    const { arrowOf } = await import('./testSupport.ts');
    const cols = [{ name: 'id', type: 'string' as const, nullable: true }, { name: 'value', type: 'integer' as const, nullable: true }, { name: 'modified', type: 'string' as const, nullable: true }];
    await writer.append(arrowOf(cols, [{ id: 'C', value: 99, modified: '2021-02-03' }]), { txn: { appId: 'my-app', version: 4 } });
    const snap = await reader.snapshot();
    expect(snap.version).toBe(2);
    expect(snap.txns.get('my-app')).toBe(4);
    expect(snap.files).toHaveLength(5);
    expect((await readTable(dir)).rows).toHaveLength(23);
  });
});
