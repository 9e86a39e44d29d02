// map<string,string> columns: schemaString form, Parquet round trip, no stats, partition refusal, optimize.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeltaTable, optimize, readTable, type DeltaColumn } from './index.ts';
import { parseSchemaString, deltaColumnsOf } from './schema.ts';
import { arrowOf, byId, tempDir, type TestRow } from './testSupport.ts';

const COLS: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'params', type: 'map', nullable: true },
  { name: 'p', type: 'string', nullable: true },
];

const MAP_ROWS: TestRow[] = [
  { id: 1, params: { bucketName: 'logs', key: 'a/b.json' }, p: 'x' },
  { id: 2, params: null, p: 'y' },
  { id: 3, params: {}, p: 'x' },
  { id: 4, params: { 'ключ ✓': 'värde', empty: '', nothing: null }, p: null },
  { id: 5, params: { nested: '{"a":[1,2]}' }, p: 'y' },
];

async function logLines(dir: string): Promise<Record<string, unknown>[]> {
  const logDir = join(dir, '_delta_log');
  const out: Record<string, unknown>[] = [];
  for (const f of (await readdir(logDir)).filter((n) => n.endsWith('.json')).sort()) {
    for (const line of (await readFile(join(logDir, f), 'utf8')).split('\n')) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

describe('map columns', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('delta-map-')));
  afterEach(async () => cleanup());

  it('writes map<string,string> in schemaString and reads maps back as objects', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: [] });
    await t.append(arrowOf(COLS, MAP_ROWS));
    const md = (await logLines(dir)).find((l) => 'metaData' in l)!.metaData as { schemaString: string };
    const field = parseSchemaString(md.schemaString).find((f) => f.name === 'params')!;
    expect(field.type).toEqual({ type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true });
    expect(deltaColumnsOf(parseSchemaString(md.schemaString))).toEqual({ columns: COLS });
    const read = await readTable(dir);
    expect(read.columns).toEqual(['id', 'params', 'p']);
    expect(byId(read.rows)).toEqual(MAP_ROWS);
  });

  it('writes no stats for map columns (Spark writes none for complex types)', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: [] });
    await t.append(arrowOf(COLS, MAP_ROWS));
    const add = (await logLines(dir)).find((l) => 'add' in l)!.add as { stats: string };
    const stats = JSON.parse(add.stats) as { numRecords: number; minValues: object; maxValues: object; nullCount: object };
    expect(stats.numRecords).toBe(MAP_ROWS.length);
    for (const part of [stats.minValues, stats.maxValues, stats.nullCount]) expect(part).not.toHaveProperty('params');
    expect(stats.nullCount).toEqual({ id: 0, p: 1 });
  });

  it('splits map columns across partitions, reopens and optimizes them intact', async () => {
    const t = await DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: ['p'] });
    await t.append(arrowOf(COLS, MAP_ROWS.slice(0, 3)));
    await t.append(arrowOf(COLS, MAP_ROWS.slice(3)));
    expect(byId((await readTable(dir)).rows)).toEqual(MAP_ROWS);
    const again = await DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: ['p'] });
    await optimize(again);
    expect(byId((await readTable(dir)).rows)).toEqual(MAP_ROWS);
  });

  it('refuses a map column as a partition column', async () => {
    await expect(DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: ['params'] })).rejects.toThrow(
      'partitionBy: column "params" is a map; map columns cannot be partition columns',
    );
  });

  it('adds a map column by schema evolution', async () => {
    const v1 = COLS.filter((c) => c.name !== 'params');
    await (await DeltaTable.openOrCreate(dir, { columns: v1, partitionBy: [] })).append(arrowOf(v1, [{ id: 9, p: 'z' }]));
    const t = await DeltaTable.openOrCreate(dir, { columns: COLS, partitionBy: [], schemaEvolution: 'addNewColumns' });
    await t.append(arrowOf(COLS, MAP_ROWS.slice(0, 1)));
    expect(byId((await readTable(dir)).rows)).toEqual([MAP_ROWS[0], { id: 9, params: null, p: 'z' }].sort((a, b) => Number(a!.id) - Number(b!.id)));
  });
});
