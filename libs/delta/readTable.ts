// Reads a whole snapshot into plain rows (tests, CLI): every active file's Parquet data plus its
// partition values, typed by the table schema. Not meant for large tables.
import { cellForRead } from './arrowColumns.ts';
import { DeltaError } from './errors.ts';
import { DeltaTable, type OpenOptions } from './deltaTable.ts';
import { fileId, readDataObject, type LocationInput } from './location.ts';
import { decodeParquet } from './parquetFile.ts';
import { parsePartitionValue } from './partitionPath.ts';

export interface ReadResult {
  version: number;
  /** Schema column names in schema order. */
  columns: string[];
  /** Longs and timestamps (epoch µs) as numbers, dates as epoch days, strings, booleans, doubles; null for null. */
  rows: Record<string, unknown>[];
}

/** Reads the table at a local path, a store URL (s3://, az://, file://) or a store. */
export async function readTable(location: LocationInput, opts: OpenOptions = {}): Promise<ReadResult> {
  const table = await DeltaTable.open(location, opts);
  const root = table.root;
  const snap = await table.snapshot();
  const schema = snap.metadata.schema;
  const partitionCols = new Set(snap.metadata.partitionColumns);
  const rows: Record<string, unknown>[] = [];
  const files = [...snap.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of files) {
    if (f.deletionVector) throw new DeltaError(`Delta table ${root}: file ${f.path} has a deletion vector, which this library cannot apply`);
    const data = decodeParquet(await readDataObject(table.location, fileId(table.store, f.path)));
    const partValues = schema
      .filter((c) => partitionCols.has(c.name))
      .map((c) => {
        const v = parsePartitionValue(typeof c.type === 'string' ? c.type : '', f.partitionValues[c.name]);
        return [c.name, typeof v === 'bigint' ? Number(v) : v] as const;
      });
    const dataCols = schema.filter((c) => !partitionCols.has(c.name)).map((c) => ({ name: c.name, vec: data.getChild(c.name) }));
    for (let i = 0; i < data.numRows; i++) {
      const row: Record<string, unknown> = {};
      for (const c of schema) row[c.name] = null; // schema order for the keys
      for (const { name, vec } of dataCols) row[name] = vec ? cellForRead(vec, i) : null;
      for (const [name, v] of partValues) row[name] = v;
      rows.push(row);
    }
  }
  return { version: snap.version, columns: schema.map((c) => c.name), rows };
}
