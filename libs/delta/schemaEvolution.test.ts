// Schema evolution: new nullable columns (from the definition or the Arrow input) are added by a metaData
// action in the append's commit; type/nullability/partition changes throw DeltaSchemaError naming the column.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table as ArrowTable, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommitText } from './actions.ts';
import { DeltaSchemaError, DeltaTable, readTable, type DeltaColumn } from './index.ts';
import { arrowOf, byId, tempDir } from './testSupport.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-schema-')));
afterEach(async () => cleanup());

const V1: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'msg', type: 'string', nullable: true },
  { name: 'day', type: 'date', nullable: true },
];
const V2: DeltaColumn[] = [...V1, { name: 'country', type: 'string', nullable: true }, { name: 'port', type: 'integer', nullable: true }];

async function schemaError(p: Promise<unknown>): Promise<DeltaSchemaError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DeltaSchemaError);
  return e as DeltaSchemaError;
}

describe('schema evolution', () => {
  it('adds new nullable definition columns with the next append; old rows read as null', async () => {
    const t1 = await DeltaTable.openOrCreate(dir, { columns: V1, partitionBy: ['day'] });
    await t1.append(arrowOf(V1, [{ id: 1, msg: 'old', day: 1 }]));
    const md0 = (await t1.snapshot()).metadata;

    const t2 = await DeltaTable.openOrCreate(dir, { columns: V2, partitionBy: ['day'], schemaEvolution: 'addNewColumns' });
    expect((await t2.snapshot()).version).toBe(1); // nothing committed until data arrives
    const res = await t2.append(arrowOf(V2, [{ id: 2, msg: 'new', day: 1, country: 'FR', port: 443 }]));
    const actions = parseCommitText(await readFile(join(dir, '_delta_log', '00000000000000000002.json'), 'utf8'), 'v2');
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'metaData', 'add']);
    const md = (await t2.snapshot()).metadata;
    expect(md.id).toBe(md0.id);
    expect(md.partitionColumns).toEqual(['day']);
    expect(md.configuration).toEqual(md0.configuration);
    expect(md.schema.map((f) => [f.name, f.type, f.nullable])).toEqual(V2.map((c) => [c.name, c.type, c.nullable]));
    expect(res.version).toBe(2);

    const read = await readTable(dir);
    expect(read.columns).toEqual(['id', 'msg', 'day', 'country', 'port']);
    expect(byId(read.rows)).toEqual([
      { id: 1, msg: 'old', day: 1, country: null, port: null },
      { id: 2, msg: 'new', day: 1, country: 'FR', port: 443 },
    ]);
    // An instance opened before the change keeps appending (its input lacks the new nullable columns).
    await t1.append(arrowOf(V1, [{ id: 3, msg: 'v1 writer', day: 2 }]));
    expect(byId((await readTable(dir)).rows)[2]).toEqual({ id: 3, msg: 'v1 writer', day: 2, country: null, port: null });
    // Re-opening with the evolved definition commits nothing more.
    const t3 = await DeltaTable.openOrCreate(dir, { columns: V2, partitionBy: ['day'], schemaEvolution: 'addNewColumns' });
    expect((await t3.append(arrowOf(V2, [{ id: 4, day: 2 }]))).version).toBe(4);
    expect(parseCommitText(await readFile(join(dir, '_delta_log', '00000000000000000004.json'), 'utf8'), 'v4').some((a) => 'metaData' in a)).toBe(false);
  });

  it('adds new nullable columns found in the Arrow input when allowed, refuses them otherwise', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: V1, partitionBy: [] });
    const input = new ArrowTable({ id: vectorFromArray([7n]), extra: vectorFromArray(['x'], new Utf8()) });
    const e = await schemaError(t.append(input));
    expect(e.column).toBe('extra');
    expect(e.message).toMatch(/input column "extra" is not in the table schema/);
    await t.append(input, { schemaEvolution: 'addNewColumns' });
    const snap = await t.snapshot();
    expect(snap.metadata.schema.at(-1)).toMatchObject({ name: 'extra', type: 'string', nullable: true });
    expect((await readTable(dir)).rows).toEqual([{ id: 7, msg: null, day: null, extra: 'x' }]);
  });

  it('refuses type changes, new non-nullable columns, removed required columns and partition changes', async () => {
    await DeltaTable.openOrCreate(dir, { columns: V1, partitionBy: ['day'] });
    const opts = { partitionBy: ['day'], schemaEvolution: 'addNewColumns' as const };
    let e = await schemaError(DeltaTable.openOrCreate(dir, { ...opts, columns: V1.map((c) => (c.name === 'msg' ? { ...c, type: 'long' as const } : c)) }));
    expect(e.column).toBe('msg');
    expect(e.message).toMatch(/column "msg" is "string" in the table, long in the definition \(type changes are not supported\)/);
    e = await schemaError(DeltaTable.openOrCreate(dir, { ...opts, columns: [...V1, { name: 'must', type: 'long', nullable: false }] }));
    expect(e.column).toBe('must');
    e = await schemaError(DeltaTable.openOrCreate(dir, { ...opts, columns: V1.filter((c) => c.name !== 'id') }));
    expect(e.column).toBe('id');
    e = await schemaError(DeltaTable.openOrCreate(dir, { ...opts, columns: V1, partitionBy: [] }));
    expect(e.message).toMatch(/partitioned by \[day\], definition by \[\]/);
    // A nullable column dropped from the definition stays in the table.
    const t = await DeltaTable.openOrCreate(dir, { ...opts, columns: V1.filter((c) => c.name !== 'msg') });
    await t.append(arrowOf(V1.filter((c) => c.name !== 'msg'), [{ id: 1, day: 0 }]));
    expect((await readTable(dir)).rows).toEqual([{ id: 1, msg: null, day: 0 }]);
    // Arrow input of the wrong type for an existing column.
    e = await schemaError(t.append(new ArrowTable({ id: vectorFromArray(['1'], new Utf8()) })));
    expect(e.column).toBe('id');
    expect((await t.snapshot()).version).toBe(1);
  });
});
