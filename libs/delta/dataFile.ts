// Writing one data file: flat columns → zstd Parquet under its Hive partition directory, and the `add`
// action describing it (URI path, partition values, size, mtime, exact stats). Shared by append and optimize.
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@sluice/storage';
import { Field, makeData, RecordBatch, Schema, Struct, Table, type Data } from 'apache-arrow';
import type { AddFile } from './actions.ts';
import { toArrowData, type FlatColumn } from './arrowColumns.ts';
import { encodeParquet } from './parquetFile.ts';
import { encodePathAsUri, partitionDir } from './partitionPath.ts';
import { deltaArrowType, type DeltaColumn } from './schema.ts';
import { computeStats, statsJson } from './stats.ts';

export type DataColumn = DeltaColumn & { data: FlatColumn };

export interface WrittenFile {
  /** Object key in the table's store (for cleanup when the commit fails). */
  key: string;
  add: AddFile;
}

/**
 * Writes `dataCols` (the non-partition columns, schema order, `numRows` rows) as a new file in the partition
 * directory of `values`. Written straight to its final, unique key: no snapshot references it until a commit does.
 */
export async function writeDataFile(
  store: ObjectStore,
  partitionColumns: string[],
  values: Record<string, string | null>,
  dataCols: DataColumn[],
  numRows: number,
  index: number,
  dataChange: boolean,
): Promise<WrittenFile> {
  const bytes = encodeParquet(arrowTable(dataCols, numRows), { plainColumns: dataCols.filter(longStrings).map((c) => c.name) });
  const dir = partitionDir(partitionColumns, values);
  const fileName = `part-${String(index).padStart(5, '0')}-${randomUUID()}.c000.zstd.parquet`;
  const rel = dir ? `${dir}/${fileName}` : fileName;
  // The key is the decoded path (partition directories escaped per the protocol); add.path is its URI form.
  await store.put(rel, bytes);
  // The write's completion time (no extra HEAD request per file on object stores).
  const writtenAt = Date.now();
  return {
    key: rel,
    add: {
      path: encodePathAsUri(rel),
      partitionValues: values,
      size: bytes.length,
      modificationTime: writtenAt,
      dataChange,
      stats: statsJson(computeStats(numRows, dataCols)),
    },
  };
}

/**
 * String columns averaging over 256 bytes a value (raw records, documents): such values rarely repeat, and their
 * dictionary page overflows arrow-rs's 1 MiB limit within a few thousand rows, so building it is wasted work.
 */
function longStrings(c: DataColumn): boolean {
  const d = c.data;
  return d.kind === 'utf8' && d.length > 0 && d.offsets[d.length]! - d.offsets[0]! > 256 * d.length;
}

export function arrowTable(cols: DataColumn[], n: number): Table {
  const fields = cols.map((c) => new Field(c.name, deltaArrowType(c.type), c.nullable));
  const schema = new Schema(fields);
  const children: Data[] = cols.map((c) => toArrowData(c.data, c.type));
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(schema, struct)]);
}
