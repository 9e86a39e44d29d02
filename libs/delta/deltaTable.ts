// DeltaTable: opening/creating a table and appending Arrow data as partitioned zstd Parquet files
// committed atomically (with an optional txn for exactly-once sinks and optional schema evolution).
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@sluice/storage';
import type { DataType, Table, Vector } from 'apache-arrow';
import type { Action, AddFile, Metadata, Protocol } from './actions.ts';
import { accepts, allNullColumn, directGather, flattenColumn, takeRows, valueAt, type FlatColumn } from './arrowColumns.ts';
import { commitWithRetry, putIfAbsent } from './commit.ts';
import { writeFileColumns } from './dataFile.ts';
import type { ColumnSource } from './fileIpc.ts';
import { DeltaError, DeltaSchemaError, DeltaTableMissingError, DeltaTxnConflictError } from './errors.ts';
import { stringifyJson } from './jsonText.ts';
import { LOG_DIR, readCommit } from './logFiles.ts';
import { resolveLocation, type LocationInput, type StoreOptions, type TableLocation } from './location.ts';
import { checkpointInterval, writeCheckpoint } from './checkpointWrite.ts';
import { applyCommits, loadState, refreshState, type LogState, type Snapshot } from './logReplay.ts';
import { serializePartitionValue } from './partitionPath.ts';
import { checkReadSupport, checkWriteSupport, OUR_PROTOCOL } from './protocol.ts';
import { deltaArrowType, deltaColumnsOf, schemaString, validateColumns, type DeltaColumn } from './schema.ts';
import { appendToSchemaString, newInputColumns, reconcileDefinition, type SchemaEvolution } from './schemaEvolution.ts';

/** Opening options: `store` (a store rooted at the table) or `storeOptions` for openStore(location). */
export type OpenOptions = StoreOptions;

export interface CreateOptions extends StoreOptions {
  name?: string;
  description?: string;
  columns: DeltaColumn[];
  partitionBy: string[];
  /** Written as delta.checkpointInterval (default 10). */
  checkpointInterval?: number;
  /**
   * 'addNewColumns': new nullable columns of the definition (and of append inputs) are added to the table's
   * schema by a metaData action committed together with the next append's adds. 'none' (default): the
   * definition must match the table exactly. Incompatible changes throw DeltaSchemaError either way.
   */
  schemaEvolution?: SchemaEvolution;
}

export interface AppendOptions {
  /**
   * Recorded atomically with the data; the append is refused if the table already has appId at >= version.
   * With `expected` instead: refused unless the table's appId is exactly at `expected` (-1: absent), so a writer
   * that tracks which inputs each commit holds may record the same version again (inputs that arrived late).
   */
  txn?: { appId: string; version: number; expected?: number };
  /** Extra commitInfo fields (e.g. which inputs this commit holds); readers ignore fields they do not know. */
  commitInfo?: Record<string, unknown>;
  /** commitInfo.operation (default "WRITE"). */
  operation?: string;
  /** Overrides the table's policy (from openOrCreate; 'none' for open) for this append. */
  schemaEvolution?: SchemaEvolution;
  /** Called after the data files are written and before the commit (fault tests kill the process here). */
  beforeCommit?: () => void;
  /**
   * At most this many rows per data file (default: one file per partition). Bounds the memory of one append: the
   * rows of one file are copied and encoded at a time, and parquet-wasm's memory grows to the largest file.
   */
  maxRowsPerFile?: number;
}

export interface AppendResult {
  /** The committed version (the current version, unchanged, when there was nothing to commit). */
  version: number;
  /** add.path of every data file committed (URI-encoded, relative to the table root). */
  files: string[];
  /** add.size of each of those files, in bytes. */
  fileSizes: number[];
  /** Whether this append also wrote a checkpoint (its version is a multiple of delta.checkpointInterval). */
  checkpointed: boolean;
}

const ENGINE = 'sluice';

export class DeltaTable {
  private state: LogState;
  private chain: Promise<unknown> = Promise.resolve();

  /** Table root as given: a local path or a store URL (s3://bucket/prefix, az://container/prefix, file://...). */
  readonly root: string;
  /** The store every read and write of this table goes through (rooted at the table). */
  readonly store: ObjectStore;

  private constructor(
    readonly location: TableLocation,
    state: LogState,
    /** Default schema-evolution policy of this instance's appends. */
    readonly schemaEvolution: SchemaEvolution = 'none',
    /** Definition columns the table lacked at open: added by the next append (policy 'addNewColumns'). */
    private pendingColumns: DeltaColumn[] = [],
  ) {
    this.root = location.root;
    this.store = location.store;
    this.state = state;
  }

  /**
   * Opens the table at `root`, creating it (version 0: protocol 1/2 + metaData + commitInfo) when it has no
   * _delta_log yet. An existing table must be writable by this library and match `opts` (columns by name and
   * type, partition columns); its own schema then governs writes.
   */
  static async openOrCreate(location: LocationInput, opts: CreateOptions): Promise<DeltaTable> {
    validateColumns(opts.columns, opts.partitionBy);
    const loc = resolveLocation(location, opts);
    const root = loc.root;
    let state = await loadState(loc);
    if (!state) {
      await createTable(loc, opts);
      state = await loadState(loc);
      if (!state) throw new DeltaError(`Delta table ${root}: version 0 vanished right after creation`);
    }
    const snap = state.header();
    checkWriteSupport(root, snap.protocol, snap.metadata);
    const policy = opts.schemaEvolution ?? 'none';
    const pending = reconcileDefinition(root, snap.metadata, { columns: opts.columns, partitionBy: opts.partitionBy }, policy);
    return new DeltaTable(loc, state, policy, pending);
  }

  /** Opens an existing table for reading (throws if there is no _delta_log or it needs unsupported reader features). */
  static async open(location: LocationInput, opts: OpenOptions = {}): Promise<DeltaTable> {
    const loc = resolveLocation(location, opts);
    const state = await loadState(loc);
    if (!state) throw new DeltaTableMissingError(`${loc.root} is not a Delta table (no commits in ${LOG_DIR}/)`);
    checkReadSupport(loc.root, state.header().protocol);
    return new DeltaTable(loc, state);
  }

  /** Latest snapshot; applies only commits newer than the last one seen. */
  async snapshot(): Promise<Snapshot> {
    const state = await this.refresh();
    const snap = state.snapshot();
    checkReadSupport(this.root, snap.protocol);
    return snap;
  }

  /** Runs `fn` after every earlier queued one: LogState is mutated in place while commits are applied. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** The actions of commit `version`, or null when that commit file does not exist (never written, or cleaned up). */
  readCommit(version: number): Promise<Action[] | null> {
    return readCommit(this.store, version);
  }

  private refresh(): Promise<LogState> {
    return this.serialized(async () => (this.state = await refreshState(this.state)));
  }

  /** The error of the last checkpoint attempt that failed, if any (checkpoints never fail an append). */
  lastCheckpointError: Error | undefined;

  /**
   * Writes a checkpoint of exactly `version` when it is a multiple of delta.checkpointInterval (every writer of
   * this library calls it after its commit; failures only set lastCheckpointError).
   */
  async checkpointIfDue(version: number): Promise<void> {
    const md = await this.serialized(async () => this.state.metadata);
    if (md) await this.maybeCheckpoint(version, checkpointInterval(md.configuration));
  }

  private async maybeCheckpoint(version: number, interval: number): Promise<boolean> {
    if (!(interval > 0) || version % interval !== 0) return false;
    try {
      // Start from our cached state when it is not past `version` (cheap); otherwise rebuild that version.
      const base = await this.serialized(async () => (this.state.version <= version ? this.state.clone() : null));
      let st: LogState | null = base;
      if (base) await applyCommits(base, base.version + 1, version);
      else st = await loadState(this.location, { upTo: version });
      if (st && st.version === version) await writeCheckpoint(this.store, st);
      this.lastCheckpointError = undefined;
      return st?.version === version;
    } catch (e) {
      this.lastCheckpointError = e as Error;
      return false;
    }
  }

  /**
   * Splits `data` by partition values, writes one zstd Parquet file per partition (partition columns are
   * not stored in the files), and commits all adds plus the optional txn in one commit.
   */
  async append(data: Table, opts: AppendOptions = {}): Promise<AppendResult> {
    const txn = opts.txn;
    if (txn) {
      if (!txn.appId) throw new TypeError('txn.appId must be a non-empty string');
      if (!Number.isSafeInteger(txn.version)) throw new TypeError(`txn.version must be an integer, got ${txn.version}`);
    }
    const state = await this.refresh();
    // Read everything we need from the shared state now, before any await lets another refresh advance it.
    const readVersion = state.version;
    const snap = state.header();
    const rawMetadata = state.metadata!;
    const currentTxn = txn ? state.txns.get(txn.appId)?.version : undefined;
    checkWriteSupport(this.root, snap.protocol, snap.metadata);
    const cols = deltaColumnsOf(snap.metadata.schema);
    if ('unsupported' in cols) {
      throw new DeltaError(`Delta table ${this.root}: column "${cols.unsupported.name}" has type ${JSON.stringify(cols.unsupported.type)}, which this library cannot write`);
    }
    if (txn?.expected !== undefined) {
      if (txn.version < txn.expected) throw new TypeError(`txn.version ${txn.version} is below txn.expected ${txn.expected}`);
      if ((currentTxn ?? -1) !== txn.expected) {
        throw new DeltaTxnConflictError(
          `Delta table ${this.root}: txn ${txn.appId} is at version ${currentTxn ?? -1}, not the expected ${txn.expected}: another writer committed for it`,
          txn.appId,
          txn.version,
          currentTxn ?? -1,
        );
      }
    } else if (txn && currentTxn !== undefined && currentTxn >= txn.version) {
      throw new DeltaTxnConflictError(
        `Delta table ${this.root}: txn ${txn.appId} is already at version ${currentTxn} (>= ${txn.version}); batch already committed`,
        txn.appId,
        txn.version,
        currentTxn,
      );
    }
    const partitionColumns = snap.metadata.partitionColumns;
    // Schema evolution: definition columns still missing, then new input columns (nullable only).
    const policy = opts.schemaEvolution ?? this.schemaEvolution;
    const known = new Set(cols.columns.map((c) => c.name.toLowerCase()));
    const fromDefinition = policy === 'addNewColumns' ? this.pendingColumns.filter((c) => !known.has(c.name.toLowerCase())) : [];
    const columns = [...cols.columns, ...fromDefinition];
    const added = [...fromDefinition, ...newInputColumns(this.root, data, columns, policy)];
    columns.push(...added.slice(fromDefinition.length));
    const input = checkInput(this.root, data, columns);
    const flat = new Map(partitionColumns.map((name) => [name, input.all(columns.find((c) => c.name === name)!)]));
    if (data.numRows === 0 && !txn) return { version: readVersion, files: [], fileSizes: [], checkpointed: false };
    const newMetadata: Metadata | undefined = added.length ? { ...rawMetadata, schemaString: appendToSchemaString(rawMetadata.schemaString, added) } : undefined;

    const written: string[] = [];
    let committed: AppendResult;
    const adds: AddFile[] = [];
    let outputBytes = 0;
    try {
      const dataColumns = columns.filter((c) => !partitionColumns.includes(c.name));
      const maxRows = opts.maxRowsPerFile !== undefined && opts.maxRowsPerFile > 0 ? opts.maxRowsPerFile : Infinity;
      for (const group of groupByPartition(flat, columns, partitionColumns, data.numRows)) {
        const n = group.rows ? group.rows.length : data.numRows;
        // One file per partition, or several of at most maxRowsPerFile rows: the columns of one file at a time are
        // copied out of the input, so the copy (and parquet-wasm's memory) is bounded by the file, not the append.
        for (let from = 0; from < n; from += maxRows) {
          const to = Math.min(n, from + maxRows);
          const fileCols = dataColumns.map((c) => ({ ...c, source: input.rows(c, group.rows, from, to) }));
          const file = await writeFileColumns(this.store, partitionColumns, group.values, fileCols, to - from, adds.length, true);
          written.push(file.key);
          outputBytes += file.add.size;
          adds.push(file.add);
        }
      }

      const commitId = randomUUID();
      const now = Date.now();
      const lines: unknown[] = [
        {
          commitInfo: {
            timestamp: now,
            operation: opts.operation ?? 'WRITE',
            operationParameters: { mode: 'Append', partitionBy: JSON.stringify(partitionColumns), ...(newMetadata ? { mergeSchema: 'true' } : {}) },
            readVersion,
            isolationLevel: 'Serializable',
            isBlindAppend: !newMetadata,
            operationMetrics: { numFiles: String(adds.length), numOutputRows: String(data.numRows), numOutputBytes: String(outputBytes) },
            engineInfo: ENGINE,
            txnId: commitId,
            ...opts.commitInfo,
          },
        },
      ];
      if (newMetadata) lines.push({ metaData: newMetadata });
      if (txn) lines.push({ txn: { appId: txn.appId, version: txn.version, lastUpdated: now } });
      for (const add of adds) lines.push({ add });
      opts.beforeCommit?.();
      const version = await commitWithRetry({
        root: this.root,
        store: this.store,
        readVersion,
        content: lines.map(stringifyJson).join('\n') + '\n',
        commitId,
        ...(txn ? { txn: { appId: txn.appId, version: txn.version, exclusive: txn.expected !== undefined } } : {}),
      });
      committed = { version, files: adds.map((a) => a.path), fileSizes: adds.map((a) => a.size), checkpointed: false };
    } catch (e) {
      // Not committed: our files are unreferenced garbage, remove them (best effort; VACUUM would too).
      await Promise.all(written.map((k) => this.store.delete(k).catch(() => undefined)));
      throw e;
    }
    // After the commit: a failed checkpoint must never turn a committed append into an error.
    committed.checkpointed = await this.maybeCheckpoint(committed.version, checkpointInterval(snap.metadata.configuration));
    if (newMetadata) this.pendingColumns = this.pendingColumns.filter((c) => !added.includes(c));
    return committed;
  }
}

async function createTable(loc: TableLocation, opts: CreateOptions): Promise<void> {
  const now = Date.now();
  const commitId = randomUUID();
  const metaData: Metadata = {
    id: randomUUID(),
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(opts.columns),
    partitionColumns: [...opts.partitionBy],
    configuration: { 'delta.checkpointInterval': String(opts.checkpointInterval ?? 10) },
    createdTime: now,
  };
  if (opts.name !== undefined) metaData.name = opts.name;
  if (opts.description !== undefined) metaData.description = opts.description;
  const protocol: Protocol = { ...OUR_PROTOCOL };
  const commitInfo = {
    timestamp: now,
    operation: 'CREATE TABLE',
    operationParameters: {
      partitionBy: JSON.stringify(opts.partitionBy),
      description: opts.description ?? null,
      properties: JSON.stringify(metaData.configuration),
      isManaged: 'false',
    },
    isolationLevel: 'Serializable',
    isBlindAppend: true,
    engineInfo: ENGINE,
    txnId: commitId,
  };
  const content = [{ commitInfo }, { protocol }, { metaData }].map(stringifyJson).join('\n') + '\n';
  // Losing this race just means another process created the table first; the caller validates what is there.
  await putIfAbsent(loc.store, 0, content, commitId);
}

/** The input's columns for writing: each column's rows copied out of the Arrow chunks on demand. */
interface InputColumns {
  /** Every row of column `c` (partition columns: for grouping). */
  all(c: DeltaColumn): FlatColumn;
  /** Where rows [from, to) of the partition group `rows` (undefined: every row) of column `c` come from. */
  rows(c: DeltaColumn, rows: Uint32Array | undefined, from: number, to: number): ColumnSource;
}

/**
 * Checks every table column of `data` (an accepted Arrow type; no nulls where the column is not nullable; absent only
 * if nullable) before anything is written, and returns the accessor that copies their rows out per file.
 */
function checkInput(root: string, data: Table, columns: DeltaColumn[]): InputColumns {
  const n = data.numRows;
  const vectors = new Map<string, Vector | null>();
  for (const c of columns) {
    const vec = data.getChild(c.name);
    if (!vec) {
      if (!c.nullable) throw new DeltaSchemaError(`Delta table ${root}: non-nullable column "${c.name}" is missing from the input`, c.name);
    } else {
      const at = vec.type as DataType;
      if (!accepts(c.type, at)) {
        throw new DeltaSchemaError(
          `Delta table ${root}: column "${c.name}": Arrow type ${String(at)} cannot be written as Delta ${c.type} (expected ${String(deltaArrowType(c.type))})`,
          c.name,
        );
      }
      if (!c.nullable && vec.nullCount > 0) throw new DeltaSchemaError(`Delta table ${root}: non-nullable column "${c.name}" has null values`, c.name);
    }
    vectors.set(c.name, vec);
  }
  // Whole flattened columns, only for the columns (and chunk types) that need them: partition columns, fallbacks.
  const flat = new Map<string, FlatColumn>();
  const all = (c: DeltaColumn): FlatColumn => {
    let f = flat.get(c.name);
    if (!f) {
      const vec = vectors.get(c.name);
      f = vec ? flattenColumn(c.name, c.type, vec) : allNullColumn(c.type, n);
      flat.set(c.name, f);
    }
    return f;
  };
  return {
    all,
    rows(c, rows, from, to) {
      const vec = vectors.get(c.name);
      if (!vec) return { flat: allNullColumn(c.type, to - from) };
      // Chunk types gathered directly are copied once, into the file's IPC body (every row: an identity gather).
      if (directGather(c.type, vec.type as DataType)) {
        return { vector: vec, rows: rows ? (from === 0 && to === rows.length ? rows : rows.subarray(from, to)) : identity(from, to) };
      }
      if (rows) return { flat: takeRows(all(c), rows.subarray(from, to)) };
      return { flat: flattenColumn(c.name, c.type, from === 0 && to === n ? vec : vec.slice(from, to)) };
    },
  };
}

/** Row indices [from, to): an unpartitioned file is gathered like a partition's rows. */
function identity(from: number, to: number): Uint32Array {
  const idx = new Uint32Array(to - from);
  for (let i = 0; i < idx.length; i++) idx[i] = from + i;
  return idx;
}

interface PartitionGroup {
  values: Record<string, string | null>;
  /** Row indices of this partition; undefined = every row (no copy needed). */
  rows?: Uint32Array;
}

/** Groups rows by their serialized partition values, in first-seen order. */
function groupByPartition(flat: Map<string, FlatColumn>, columns: DeltaColumn[], partitionColumns: string[], n: number): PartitionGroup[] {
  if (partitionColumns.length === 0) return n === 0 ? [] : [{ values: {} }];
  // Per distinct value (memoised): its serialized form and its part of the group key.
  const parts = partitionColumns.map((name) => {
    const col = columns.find((c) => c.name === name)!;
    return { name, type: col.type, data: flat.get(name)!, memo: new Map<unknown, { s: string | null; key: string }>() };
  });
  const serialized = (p: (typeof parts)[number], i: number): { s: string | null; key: string } => {
    const v = valueAt(p.data, i);
    let m = p.memo.get(v);
    if (m === undefined) {
      const s = serializePartitionValue(p.type, v);
      m = { s, key: s === null ? '\u0001' : `\u0002${s}\u0000` };
      if (p.memo.size < 10_000) p.memo.set(v, m);
    }
    return m;
  };
  const groups = new Map<string, { values: Record<string, string | null>; rows: number[] }>();
  for (let i = 0; i < n; i++) {
    let key = '';
    for (const p of parts) key += serialized(p, i).key;
    let g = groups.get(key);
    if (!g) {
      // The values object only once per group, not per row.
      const values: Record<string, string | null> = {};
      for (const p of parts) values[p.name] = serialized(p, i).s;
      groups.set(key, (g = { values, rows: [] }));
    }
    g.rows.push(i);
  }
  if (groups.size === 1) return [{ values: [...groups.values()][0]!.values }];
  return [...groups.values()].map((g) => ({ values: g.values, rows: Uint32Array.from(g.rows) }));
}
