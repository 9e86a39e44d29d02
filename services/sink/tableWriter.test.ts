// TableWriter on a local table: commits carry the txn, a reopen resumes after it, and a definition that gains a
// nullable column evolves the table (old rows read null) while an incompatible change refuses to open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ColumnBuilder } from '@sluice/columnar';
import { DeltaTable, readTable, type DeltaColumn } from '@sluice/delta';
import { createLogger } from '@sluice/runtime';
import { BufferBudget, TableWriter } from './tableWriter.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const log = createLogger('test', 'silent');
const policy = { maxRows: 1, maxBytes: 1 << 30, maxLatencySeconds: 60 };

async function open(root: string, columns: DeltaColumn[]) {
  return TableWriter.open({ name: 't', root, columns, partitionBy: [], description: 'test', appId: 'sink-t', policy, log, onFatal: (e) => { throw e; } });
}

function batch(columns: DeltaColumn[], rows: Record<string, string | number | null>[]) {
  const b = new ColumnBuilder(columns);
  for (const r of rows) b.append(r);
  return b.build();
}

describe('TableWriter', () => {
  it('resumes after its txn and evolves the schema with new nullable columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tw-'));
    dirs.push(dir);
    const root = join(dir, 't');
    const v1: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    const w1 = await open(root, v1);
    await w1.write(5, batch(v1, [{ id: 1 }]), 10);
    expect(w1.committedSeq).toBe(5);

    const v2: DeltaColumn[] = [...v1, { name: 'country', type: 'string', nullable: true }];
    const w2 = await open(root, v2);
    expect(w2.committedSeq).toBe(5);
    await w2.write(5, batch(v2, [{ id: 99, country: 'XX' }]), 10); // already committed: not written again
    await w2.write(6, batch(v2, [{ id: 2, country: 'FR' }]), 10);
    const { rows } = await readTable(root);
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: 1, country: null },
      { id: 2, country: 'FR' },
    ]);

    const bad: DeltaColumn[] = [{ name: 'id', type: 'string', nullable: false }, v2[1]!];
    await expect(open(root, bad)).rejects.toThrow(/id/);
  });

  it('cuts a flush into files of about maxFileBytes of input, committed together with one txn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tw-'));
    dirs.push(dir);
    const root = join(dir, 't');
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    const files: number[] = [];
    const w = await TableWriter.open({
      name: 't', root, columns: cols, partitionBy: [], description: 'test', appId: 'sink-t', log, onFatal: (e) => { throw e; },
      // Three inputs of 4 rows and 400 bytes each, flushed together: 1 200 bytes in files of 500 → 5 rows per file.
      policy: { maxRows: 12, maxBytes: 1 << 30, maxLatencySeconds: 60, maxFileBytes: 500 },
      stats: { onCommit: (_t, _rows, f) => files.push(f) },
    });
    const rows = (from: number) => batch(cols, [0, 1, 2, 3].map((k) => ({ id: from + k })));
    await Promise.all([w.write(1, rows(0), 400), w.write(2, rows(4), 400), w.write(3, rows(8), 400)]);
    expect(files).toEqual([3]);
    expect(w.committedSeq).toBe(3);
    const snap = await (await DeltaTable.open(root)).snapshot();
    expect(snap.txns.get('sink-t')).toBe(3);
    expect(snap.files.map((f) => JSON.parse(f.stats!).numRecords as number).sort()).toEqual([2, 5, 5]);
    expect((await readTable(root)).rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a shared buffer budget flushes the writer holding the most when all writers together exceed it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tw-'));
    dirs.push(dir);
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    const budget = new BufferBudget(1000);
    const commits: string[] = [];
    // Per-table limits far away (latency 60 s, 1 GiB): only the budget can make these writers flush.
    const writer = (name: string) =>
      TableWriter.open({
        name, root: join(dir, name), columns: cols, partitionBy: [], description: 'test', appId: `sink-${name}`, log, budget,
        onFatal: (e) => { throw e; },
        policy: { maxRows: 1_000_000, maxBytes: 1 << 30, maxLatencySeconds: 60 },
        stats: { onCommit: (t, rows) => commits.push(`${t}:${rows}`) },
      });
    const [a, b] = [await writer('a'), await writer('b')];
    const one = (id: number) => batch(cols, [{ id }]);
    const a1 = a.write(1, one(1), 300);
    const b1 = b.write(1, one(2), 400);
    expect(budget.bytes).toBe(700);
    const a2 = a.write(2, one(3), 200); // a 500, b 400: still 900 ≤ 1000
    const b2 = b.write(2, one(4), 200); // 1 100 > 1 000: b (600) is the largest and flushes; a keeps its 500
    await Promise.all([b1, b2]);
    expect(commits).toEqual(['b:2']);
    expect(budget.bytes).toBe(500);
    expect(a.bufferedBytes).toBe(500);
    const a3 = a.write(3, one(5), 600); // 1 100 again: a flushes its 3 inputs
    await Promise.all([a1, a2, a3]);
    expect(commits).toEqual(['b:2', 'a:3']);
    expect(budget.bytes).toBe(0);
    expect((await readTable(join(dir, 'a'))).rows.map((r) => Number(r.id)).sort()).toEqual([1, 3, 5]);
  });

  describe('inputs redelivered after later ones were committed (JetStream does not keep order on redelivery)', () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    const ids = async (root: string) => (await readTable(root)).rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const fresh = () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-tw-'));
      dirs.push(dir);
      return join(dir, 't');
    };

    it('writes a late input below the txn version once, and skips a redelivered committed one, also after a reopen', async () => {
      const root = fresh();
      const w = await open(root, cols);
      await w.write(10, batch(cols, [{ id: 10 }]), 8);
      await w.write(12, batch(cols, [{ id: 12 }]), 8);
      await w.write(11, batch(cols, [{ id: 11 }]), 8); // lost in flight, redelivered after 12 was committed
      await w.write(10, batch(cols, [{ id: 10 }]), 8); // committed, redelivered (ack lost)
      expect(w.committedSeq).toBe(12);
      expect(await ids(root)).toEqual([10, 11, 12]);

      // A new process knows only the txn version: it reads the inputs of the recent commits back from the log.
      const w2 = await open(root, cols);
      expect(await w2.isCommitted(11)).toBe(true);
      expect(await w2.isCommitted(9)).toBe(false);
      await w2.write(11, batch(cols, [{ id: 11 }]), 8);
      await w2.write(9, batch(cols, [{ id: 9 }]), 8);
      expect(await ids(root)).toEqual([9, 10, 11, 12]);
    });

    it('treats commits without recorded inputs (older versions) as holding everything up to their txn version', async () => {
      const root = fresh();
      const t = await DeltaTable.openOrCreate(root, { name: 't', columns: cols, partitionBy: [] });
      await t.append(batch(cols, [{ id: 20 }]), { txn: { appId: 'sink-t', version: 20 } });
      const w = await open(root, cols);
      expect(await w.isCommitted(15)).toBe(true);
      expect(await w.isCommitted(21)).toBe(false);
      await w.write(15, batch(cols, [{ id: 15 }]), 8);
      await w.write(21, batch(cols, [{ id: 21 }]), 8);
      expect(await ids(root)).toEqual([20, 21]);
    });

    it('two writers of one appId (a partition handed over): each input is in the table once', async () => {
      const root = fresh();
      const a = await open(root, cols);
      await a.write(1, batch(cols, [{ id: 1 }]), 8);
      const b = await open(root, cols);
      await a.write(5, batch(cols, [{ id: 5 }]), 8);
      await b.write(5, batch(cols, [{ id: 5 }]), 8); // conflict: a committed 5 after b opened
      await b.write(6, batch(cols, [{ id: 6 }]), 8);
      await b.write(3, batch(cols, [{ id: 3 }]), 8); // never committed by either: written
      expect(await ids(root)).toEqual([1, 3, 5, 6]);
    });
  });
});
