// Writing one data file: flat or gathered columns → zstd Parquet under its Hive partition directory, and the `add`
// action describing it (URI path, partition values, size, mtime, exact stats). Shared by append and optimize.
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@sluice/storage';
import { Field, makeData, RecordBatch, Schema, Struct, Table, type Data } from 'apache-arrow';
import type { AddFile } from './actions.ts';
import { toArrowData, type FlatColumn } from './arrowColumns.ts';
import { encodeFileIpc, type FileColumn } from './fileIpc.ts';
import { encodeParquetIpc } from './parquetFile.ts';
import { encodePathAsUri, partitionDir } from './partitionPath.ts';
import { deltaArrowType, type DeltaColumn } from './schema.ts';
import { statsJson } from './stats.ts';

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
export function writeDataFile(
  store: ObjectStore,
  partitionColumns: string[],
  values: Record<string, string | null>,
  dataCols: DataColumn[],
  numRows: number,
  index: number,
  dataChange: boolean,
): Promise<WrittenFile> {
  const cols = dataCols.map((c): FileColumn => ({ name: c.name, type: c.type, nullable: c.nullable, source: { flat: c.data } }));
  return writeFileColumns(store, partitionColumns, values, cols, numRows, index, dataChange);
}

/** writeDataFile of columns whose rows are gathered from the input as the file is encoded (see fileIpc.ts). */
export async function writeFileColumns(
  store: ObjectStore,
  partitionColumns: string[],
  values: Record<string, string | null>,
  cols: FileColumn[],
  numRows: number,
  index: number,
  dataChange: boolean,
): Promise<WrittenFile> {
  // Synchronous up to the Parquet bytes: the IPC stream lives in a buffer every file of the process reuses.
  const { ipc, stats, plainColumns } = encodeFileIpc(cols, numRows);
  const bytes = encodeParquetIpc(ipc, { plainColumns });
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
      stats: statsJson(stats),
    },
  };
}

/** The same columns as an apache-arrow table (the reference the IPC writer is checked against). */
export function arrowTable(cols: DataColumn[], n: number): Table {
  const fields = cols.map((c) => new Field(c.name, deltaArrowType(c.type), c.nullable));
  const schema = new Schema(fields);
  const children: Data[] = cols.map((c) => toArrowData(c.data, c.type));
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(schema, struct)]);
}
