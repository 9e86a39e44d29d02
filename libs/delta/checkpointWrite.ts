// Writes classic V1 Parquet checkpoints (Spark's checkpoint schema) and _last_checkpoint, so readers
// need not replay every JSON commit. Only for tables we write (protocol 1/2: no DVs, no features).
import type { ObjectStore } from '@sluice/storage';
import { Bool, Field, Int32, Int64, List, Map_, Struct, Table, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { encodeUtf8, LOG_PREFIX, storeOfLogDir, utf8 } from './location.ts';
import { checkpointFileName } from './logFiles.ts';
import type { LogState } from './logReplay.ts';
import { encodeParquet } from './parquetFile.ts';

const f = (name: string, type: DataType): Field => new Field(name, type, true);
const stringMap = (): Map_ =>
  new Map_(new Field('key_value', new Struct([new Field('key', new Utf8(), false), f('value', new Utf8())]), false), false);

const TXN = new Struct([f('appId', new Utf8()), f('version', new Int64()), f('lastUpdated', new Int64())]);
const ADD = new Struct([
  f('path', new Utf8()),
  f('partitionValues', stringMap()),
  f('size', new Int64()),
  f('modificationTime', new Int64()),
  f('dataChange', new Bool()),
  f('tags', stringMap()),
  f('stats', new Utf8()),
]);
const REMOVE = new Struct([
  f('path', new Utf8()),
  f('deletionTimestamp', new Int64()),
  f('dataChange', new Bool()),
  f('extendedFileMetadata', new Bool()),
  f('partitionValues', stringMap()),
  f('size', new Int64()),
]);
const METADATA = new Struct([
  f('id', new Utf8()),
  f('name', new Utf8()),
  f('description', new Utf8()),
  f('format', new Struct([f('provider', new Utf8()), f('options', stringMap())])),
  f('schemaString', new Utf8()),
  f('partitionColumns', new List(f('element', new Utf8()))),
  f('configuration', stringMap()),
  f('createdTime', new Int64()),
]);
const PROTOCOL = new Struct([f('minReaderVersion', new Int32()), f('minWriterVersion', new Int32())]);

const toMap = (o: Record<string, string | null> | undefined): Map<string, string | null> | null => (o ? new Map(Object.entries(o)) : null);
const big = (n: number | undefined): bigint | null => (n === undefined ? null : BigInt(Math.trunc(n)));

/** `interval 7 days` style durations (delta.deletedFileRetentionDuration) in ms; undefined if unparseable. */
export function parseInterval(s: string | null | undefined): number | undefined {
  const m = /^\s*interval\s+(\d+)\s+(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(s ?? '');
  if (!m) return undefined;
  const unit = { millisecond: 1, second: 1e3, minute: 6e4, hour: 3.6e6, day: 8.64e7, week: 6.048e8 }[m[2]!.toLowerCase() as 'day'];
  return Number(m[1]) * unit;
}

/** delta.checkpointInterval (Spark's default is 10 when unset). */
export function checkpointInterval(configuration: Record<string, string | null>): number {
  const n = Number.parseInt(configuration['delta.checkpointInterval'] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 10;
}

const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 86_400_000;

/** The checkpoint as an Arrow table: one action per row, in the order protocol, metaData, txns, adds, removes. */
export function checkpointTable(state: LogState, now = Date.now()): { table: Table; numAdds: number } {
  const md = state.metadata!;
  const rows: { txn?: unknown; add?: unknown; remove?: unknown; metaData?: unknown; protocol?: unknown }[] = [];
  rows.push({ protocol: { minReaderVersion: state.protocol!.minReaderVersion, minWriterVersion: state.protocol!.minWriterVersion } });
  rows.push({
    metaData: {
      id: md.id,
      name: md.name ?? null,
      description: md.description ?? null,
      format: { provider: md.format.provider, options: toMap(md.format.options) },
      schemaString: md.schemaString,
      partitionColumns: md.partitionColumns,
      configuration: toMap(md.configuration),
      createdTime: big(md.createdTime),
    },
  });
  for (const [appId, t] of state.txns) rows.push({ txn: { appId, version: BigInt(t.version), lastUpdated: big(t.lastUpdated) } });
  for (const a of state.files.values()) {
    rows.push({
      add: {
        path: a.path,
        partitionValues: toMap(a.partitionValues),
        size: BigInt(a.size),
        modificationTime: BigInt(a.modificationTime),
        dataChange: false, // a checkpoint re-states files; it adds no data
        tags: toMap(a.tags),
        stats: a.stats ?? null,
      },
    });
  }
  const retention = parseInterval(md.configuration['delta.deletedFileRetentionDuration']) ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  for (const r of state.tombstones.values()) {
    // Expired tombstones are dropped, as Spark does; VACUUM no longer needs them.
    if ((r.deletionTimestamp ?? 0) < now - retention) continue;
    rows.push({
      remove: {
        path: r.path,
        deletionTimestamp: big(r.deletionTimestamp),
        dataChange: false,
        extendedFileMetadata: r.extendedFileMetadata ?? null,
        partitionValues: toMap(r.partitionValues),
        size: big(r.size),
      },
    });
  }
  const col = (key: keyof (typeof rows)[number], type: Struct) => vectorFromArray(rows.map((r) => r[key] ?? null), type);
  const table = new Table({
    txn: col('txn', TXN),
    add: col('add', ADD),
    remove: col('remove', REMOVE),
    metaData: col('metaData', METADATA),
    protocol: col('protocol', PROTOCOL),
  });
  return { table, numAdds: state.files.size };
}

/**
 * Writes `_delta_log/NNN.checkpoint.parquet` for state.version with one put (atomic on every store: readers never
 * see a partial one; two writers checkpointing the same version write equivalent content), then advances
 * _last_checkpoint. `target` is a store rooted at the table (or, for tests, the table's local _delta_log path).
 */
export async function writeCheckpoint(target: ObjectStore | string, state: LogState): Promise<void> {
  const store = storeOfLogDir(target);
  const { table, numAdds } = checkpointTable(state);
  const bytes = encodeParquet(table);
  await store.put(LOG_PREFIX + checkpointFileName(state.version), bytes);
  // Never move _last_checkpoint backwards (another writer may have checkpointed a later version).
  try {
    const prevBytes = await store.get(LOG_PREFIX + '_last_checkpoint');
    if (prevBytes) {
      const prev = JSON.parse(utf8.decode(prevBytes)) as { version?: unknown };
      if (typeof prev.version === 'number' && prev.version >= state.version) return;
    }
  } catch {
    /* corrupt: overwrite */
  }
  const last = JSON.stringify({ version: state.version, size: table.numRows, sizeInBytes: bytes.length, numOfAddFiles: numAdds });
  await store.put(LOG_PREFIX + '_last_checkpoint', encodeUtf8(last));
}
