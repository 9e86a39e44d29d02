// OPTIMIZE (bin-packing compaction): rewrites the small files of each partition into files of about
// targetFileBytes, committing dataChange:false removes + adds in one commit that conflicts with concurrent removes.
import { randomUUID } from 'node:crypto';
import type { AddFile, RemoveFile } from './actions.ts';
import { allNullColumn, concatColumns, flattenColumn, type FlatColumn } from './arrowColumns.ts';
import { commitWithRetry } from './commit.ts';
import { writeDataFile, type DataColumn } from './dataFile.ts';
import type { DeltaTable } from './deltaTable.ts';
import { DeltaError } from './errors.ts';
import { stringifyJson } from './jsonText.ts';
import { fileId, readDataObject, type TableLocation } from './location.ts';
import { decodeParquet } from './parquetFile.ts';
import { checkWriteSupport } from './protocol.ts';
import { deltaColumnsOf, type DeltaColumn } from './schema.ts';

export type PartitionValues = Record<string, string | null>;

export interface OptimizeOptions {
  /** Size to pack towards, in bytes of the input files (default 128 MiB). */
  targetFileBytes?: number;
  /** Only files smaller than this are compacted (default targetFileBytes). */
  minFileBytes?: number;
  /** Only these partitions: serialized values to match exactly (as in add.partitionValues), or a predicate. */
  partitionFilter?: PartitionValues | ((values: PartitionValues) => boolean);
  /** Called after the new files are written, right before the commit (tests interleave concurrent commits here). */
  beforeCommit?: () => Promise<void> | void;
}

export interface OptimizeResult {
  filesRemoved: number;
  filesAdded: number;
  /** Partitions in which files were compacted. */
  partitions: number;
  /** Total size of the removed files, and of the files that replaced them. */
  bytesBefore: number;
  bytesAfter: number;
  /** The OPTIMIZE commit, or the current version when there was nothing to compact. */
  version: number;
}

const MiB = 1024 * 1024;

/**
 * Compacts small files per partition. Files are packed in modification-time order (keeps time locality for
 * data skipping) into bins of at most targetFileBytes input bytes; bins holding a single file are left alone.
 * Each bin's rows are read fully into memory, so memory use is about one bin's uncompressed size.
 * Throws DeltaConflictError (and commits nothing) if a concurrent commit removed one of the input files or
 * changed the table's metadata/protocol; concurrent appends are fine.
 */
export async function optimize(table: DeltaTable, opts: OptimizeOptions = {}): Promise<OptimizeResult> {
  const target = opts.targetFileBytes ?? 128 * MiB;
  const minBytes = opts.minFileBytes ?? target;
  if (!(target > 0) || !(minBytes > 0)) throw new RangeError('optimize: targetFileBytes and minFileBytes must be positive');
  const snap = await table.snapshot();
  checkWriteSupport(table.root, snap.protocol, snap.metadata);
  const cols = deltaColumnsOf(snap.metadata.schema);
  if ('unsupported' in cols) throw new DeltaError(`Delta table ${table.root}: column "${cols.unsupported.name}" has a type this library cannot write`);
  const partitionColumns = snap.metadata.partitionColumns;
  const dataColumns = cols.columns.filter((c) => !partitionColumns.includes(c.name));
  const wanted = partitionPredicate(opts.partitionFilter);

  const byPartition = new Map<string, AddFile[]>();
  for (const f of snap.files) {
    if (f.size >= minBytes || f.deletionVector || !wanted(f.partitionValues)) continue;
    const key = JSON.stringify(partitionColumns.map((c) => f.partitionValues[c] ?? null));
    const list = byPartition.get(key) ?? [];
    list.push(f);
    byPartition.set(key, list);
  }
  const bins: AddFile[][] = [];
  let partitions = 0;
  for (const files of byPartition.values()) {
    files.sort((a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1));
    let bin: AddFile[] = [];
    let binBytes = 0;
    const packed: AddFile[][] = [];
    for (const f of files) {
      if (bin.length > 0 && binBytes + f.size > target) {
        packed.push(bin);
        bin = [];
        binBytes = 0;
      }
      bin.push(f);
      binBytes += f.size;
    }
    packed.push(bin);
    const useful = packed.filter((b) => b.length > 1);
    if (useful.length) partitions++;
    bins.push(...useful);
  }
  if (bins.length === 0) return { filesRemoved: 0, filesAdded: 0, partitions: 0, bytesBefore: 0, bytesAfter: 0, version: snap.version };

  const now = Date.now();
  const written: string[] = [];
  const adds: AddFile[] = [];
  const removes: RemoveFile[] = [];
  let version: number;
  try {
    for (const bin of bins) {
      const values = bin[0]!.partitionValues;
      const { data, rows } = await readBin(table.location, bin, dataColumns);
      const file = await writeDataFile(table.store, partitionColumns, values, data, rows, adds.length, false);
      written.push(file.key);
      adds.push(file.add);
      for (const f of bin) {
        const r: RemoveFile = { path: f.path, deletionTimestamp: now, dataChange: false, extendedFileMetadata: true, partitionValues: f.partitionValues, size: f.size };
        removes.push(r);
      }
    }
    const bytesBefore = removes.reduce((k, r) => k + (r.size ?? 0), 0);
    const bytesAfter = adds.reduce((k, a) => k + a.size, 0);
    await opts.beforeCommit?.();
    const commitId = randomUUID();
    const commitInfo = {
      timestamp: now,
      operation: 'OPTIMIZE',
      operationParameters: { predicate: JSON.stringify(opts.partitionFilter && typeof opts.partitionFilter === 'object' ? [opts.partitionFilter] : []), targetSize: String(target) },
      readVersion: snap.version,
      isolationLevel: 'SnapshotIsolation',
      isBlindAppend: false,
      operationMetrics: {
        numRemovedFiles: String(removes.length),
        numAddedFiles: String(adds.length),
        numRemovedBytes: String(bytesBefore),
        numAddedBytes: String(bytesAfter),
      },
      engineInfo: 'sluice',
      txnId: commitId,
    };
    const lines = [{ commitInfo }, ...removes.map((remove) => ({ remove })), ...adds.map((add) => ({ add }))];
    version = await commitWithRetry({
      root: table.root,
      store: table.store,
      readVersion: snap.version,
      content: lines.map(stringifyJson).join('\n') + '\n',
      commitId,
      removes: new Set(removes.map((r) => fileId(table.store, r.path))),
      what: 'OPTIMIZE',
    });
    await table.checkpointIfDue(version);
    return { filesRemoved: removes.length, filesAdded: adds.length, partitions, bytesBefore, bytesAfter, version };
  } catch (e) {
    // Not committed: the new files are unreferenced; the inputs stay active, nothing was lost.
    await Promise.all(written.map((k) => table.store.delete(k).catch(() => undefined)));
    throw e;
  }
}

function partitionPredicate(filter: OptimizeOptions['partitionFilter']): (values: PartitionValues) => boolean {
  if (!filter) return () => true;
  if (typeof filter === 'function') return filter;
  return (values) => Object.entries(filter).every(([k, v]) => (values[k] ?? null) === v);
}

/** Every row of `bin`'s files, in file order, as the table's data columns (columns a file lacks are null). */
async function readBin(loc: TableLocation, bin: AddFile[], columns: DeltaColumn[]): Promise<{ data: DataColumn[]; rows: number }> {
  const root = loc.root;
  const parts = new Map<string, FlatColumn[]>(columns.map((c) => [c.name, []]));
  let rows = 0;
  for (const f of bin) {
    const t = decodeParquet(await readDataObject(loc, fileId(loc.store, f.path)));
    const expected = f.stats ? (JSON.parse(f.stats) as { numRecords?: unknown }).numRecords : undefined;
    if (typeof expected === 'number' && expected !== t.numRows) {
      throw new DeltaError(`Delta table ${root}: ${f.path} has ${t.numRows} rows but its stats say ${expected}; not compacting`);
    }
    for (const c of columns) {
      const vec = t.getChild(c.name);
      parts.get(c.name)!.push(vec ? flattenColumn(c.name, c.type, vec) : allNullColumn(c.type, t.numRows));
    }
    rows += t.numRows;
  }
  return { data: columns.map((c) => ({ ...c, data: concatColumns(parts.get(c.name)!) })), rows };
}
