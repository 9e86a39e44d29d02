// TableWriter on a local table: commits carry the txn, a reopen resumes after it, and a definition that gains a
// nullable column evolves the table (old rows read null) while an incompatible change refuses to open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ColumnBuilder } from '@sluice/columnar';
import { readTable, type DeltaColumn } from '@sluice/delta';
import { createLogger } from '@sluice/runtime';
import { TableWriter } from './tableWriter.ts';

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
});
