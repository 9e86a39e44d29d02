// DeltaTable: opening/creating a table and appending Arrow data as partitioned zstd Parquet files
// committed atomically (with an optional txn for exactly-once sinks).
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeData, RecordBatch, Schema, Struct, Table, Field, type Data } from 'apache-arrow';
import type { Metadata, Protocol } from './actions.ts';
import { flattenColumn, takeRows, toArrowData, valueAt, type FlatColumn } from './arrowColumns.ts';
import { commitWithRetry, putIfAbsent } from './commit.ts';
import { DeltaError, DeltaTxnConflictError } from './errors.ts';
import { stringifyJson } from './jsonText.ts';
import { LOG_DIR } from './logFiles.ts';
import { checkpointInterval, writeCheckpoint } from './checkpointWrite.ts';
import { applyCommits, loadState, refreshState, type LogState, type Snapshot } from './logReplay.ts';
import { encodeParquet } from './parquetFile.ts';
import { encodePathAsUri, partitionDir, serializePartitionValue } from './partitionPath.ts';
import { checkReadSupport, checkWriteSupport, OUR_PROTOCOL } from './protocol.ts';
import { deltaArrowType, deltaColumnsOf, schemaString, validateColumns, type DeltaColumn } from './schema.ts';
import { computeStats, statsJson } from './stats.ts';

export interface CreateOptions {
  name?: string;
  description?: string;
  columns: DeltaColumn[];
  partitionBy: string[];
  /** Written as delta.checkpointInterval (default 10). */
  checkpointInterval?: number;
}

export interface AppendOptions {
  /** Recorded atomically with the data; the append is refused if the table already has appId at >= version. */
  txn?: { appId: string; version: number };
  /** commitInfo.operation (default "WRITE"). */
  operation?: string;
}

export interface AppendResult {
  /** The committed version (the current version, unchanged, when there was nothing to commit). */
  version: number;
  /** add.path of every data file committed (URI-encoded, relative to the table root). */
  files: string[];
}

const ENGINE = 'sluice';

export class DeltaTable {
  private state: LogState;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: string,
    state: LogState,
  ) {
    this.state = state;
  }

  /**
   * Opens the table at `root`, creating it (version 0: protocol 1/2 + metaData + commitInfo) when it has no
   * _delta_log yet. An existing table must be writable by this library and match `opts` (columns by name and
   * type, partition columns); its own schema then governs writes.
   */
  static async openOrCreate(root: string, opts: CreateOptions): Promise<DeltaTable> {
    validateColumns(opts.columns, opts.partitionBy);
    let state = await loadState(root);
    if (!state) {
      await createTable(root, opts);
      state = await loadState(root);
      if (!state) throw new DeltaError(`Delta table ${root}: version 0 vanished right after creation`);
    }
    const snap = state.header();
    checkWriteSupport(root, snap.protocol, snap.metadata);
    assertMatches(root, snap, opts);
    return new DeltaTable(root, state);
  }

  /** Opens an existing table for reading (throws if there is no _delta_log or it needs unsupported reader features). */
  static async open(root: string): Promise<DeltaTable> {
    const state = await loadState(root);
    if (!state) throw new DeltaError(`${root} is not a Delta table (no commits in ${LOG_DIR}/)`);
    checkReadSupport(root, state.header().protocol);
    return new DeltaTable(root, state);
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

  private refresh(): Promise<LogState> {
    return this.serialized(async () => (this.state = await refreshState(this.state)));
  }

  /** The error of the last checkpoint attempt that failed, if any (checkpoints never fail an append). */
  lastCheckpointError: Error | undefined;

  /** Writes a checkpoint of exactly `version` when it is a multiple of delta.checkpointInterval. */
  private async maybeCheckpoint(version: number, interval: number): Promise<void> {
    if (!(interval > 0) || version % interval !== 0) return;
    try {
      const logDir = join(this.root, LOG_DIR);
      // Start from our cached state when it is not past `version` (cheap); otherwise rebuild that version.
      const base = await this.serialized(async () => (this.state.version <= version ? this.state.clone() : null));
      let st: LogState | null = base;
      if (base) await applyCommits(base, logDir, base.version + 1, version);
      else st = await loadState(this.root, { upTo: version });
      if (st && st.version === version) await writeCheckpoint(logDir, st);
      this.lastCheckpointError = undefined;
    } catch (e) {
      this.lastCheckpointError = e as Error;
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
    const currentTxn = txn ? state.txns.get(txn.appId)?.version : undefined;
    checkWriteSupport(this.root, snap.protocol, snap.metadata);
    const cols = deltaColumnsOf(snap.metadata.schema);
    if ('unsupported' in cols) {
      throw new DeltaError(`Delta table ${this.root}: column "${cols.unsupported.name}" has type ${JSON.stringify(cols.unsupported.type)}, which this library cannot write`);
    }
    if (txn && currentTxn !== undefined && currentTxn >= txn.version) {
      throw new DeltaTxnConflictError(
        `Delta table ${this.root}: txn ${txn.appId} is already at version ${currentTxn} (>= ${txn.version}); batch already committed`,
        txn.appId,
        txn.version,
        currentTxn,
      );
    }
    const partitionColumns = snap.metadata.partitionColumns;
    const flat = flattenInput(this.root, data, cols.columns);
    if (data.numRows === 0 && !txn) return { version: readVersion, files: [] };

    const written: string[] = [];
    let committed: AppendResult;
    const adds: Record<string, unknown>[] = [];
    let outputBytes = 0;
    try {
      for (const group of groupByPartition(flat, cols.columns, partitionColumns, data.numRows)) {
        const dataCols = cols.columns
          .filter((c) => !partitionColumns.includes(c.name))
          .map((c) => ({ ...c, data: group.rows ? takeRows(flat.get(c.name)!, group.rows) : flat.get(c.name)! }));
        const n = group.rows ? group.rows.length : data.numRows;
        const bytes = encodeParquet(arrowTable(dataCols, n));
        const dir = partitionDir(partitionColumns, group.values);
        const fileName = `part-${String(adds.length).padStart(5, '0')}-${randomUUID()}.c000.zstd.parquet`;
        const rel = dir ? `${dir}/${fileName}` : fileName;
        const abs = join(this.root, rel);
        await mkdir(join(abs, '..'), { recursive: true });
        // Written straight to the final path: until the commit lands no snapshot references it.
        await writeFile(abs, bytes, { flag: 'wx' });
        written.push(abs);
        const st = await stat(abs);
        outputBytes += bytes.length;
        adds.push({
          path: encodePathAsUri(rel),
          partitionValues: group.values,
          size: bytes.length,
          modificationTime: Math.floor(st.mtimeMs),
          dataChange: true,
          stats: statsJson(computeStats(n, dataCols)),
        });
      }

      const commitId = randomUUID();
      const now = Date.now();
      const lines: unknown[] = [
        {
          commitInfo: {
            timestamp: now,
            operation: opts.operation ?? 'WRITE',
            operationParameters: { mode: 'Append', partitionBy: JSON.stringify(partitionColumns) },
            readVersion,
            isolationLevel: 'Serializable',
            isBlindAppend: true,
            operationMetrics: { numFiles: String(adds.length), numOutputRows: String(data.numRows), numOutputBytes: String(outputBytes) },
            engineInfo: ENGINE,
            txnId: commitId,
          },
        },
      ];
      if (txn) lines.push({ txn: { appId: txn.appId, version: txn.version, lastUpdated: now } });
      for (const add of adds) lines.push({ add });
      const version = await commitWithRetry({
        root: this.root,
        logDir: join(this.root, LOG_DIR),
        readVersion,
        content: lines.map(stringifyJson).join('\n') + '\n',
        commitId,
        ...(txn ? { txn } : {}),
      });
      committed = { version, files: adds.map((a) => a.path as string) };
    } catch (e) {
      // Not committed: our files are unreferenced garbage, remove them (best effort; VACUUM would too).
      await Promise.all(written.map((f) => rm(f, { force: true }).catch(() => undefined)));
      throw e;
    }
    // After the commit: a failed checkpoint must never turn a committed append into an error.
    await this.maybeCheckpoint(committed.version, checkpointInterval(snap.metadata.configuration));
    return committed;
  }
}

async function createTable(root: string, opts: CreateOptions): Promise<void> {
  const logDir = join(root, LOG_DIR);
  await mkdir(logDir, { recursive: true });
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
  await putIfAbsent(logDir, 0, content, commitId);
}

function assertMatches(root: string, snap: Pick<Snapshot, 'metadata'>, opts: CreateOptions): void {
  const problems: string[] = [];
  const existing = new Map(snap.metadata.schema.map((f) => [f.name, f]));
  for (const c of opts.columns) {
    const f = existing.get(c.name);
    if (!f) problems.push(`column "${c.name}" is missing from the table`);
    else if (f.type !== c.type) problems.push(`column "${c.name}" is ${JSON.stringify(f.type)} in the table, ${c.type} in the definition`);
  }
  const wanted = new Set(opts.columns.map((c) => c.name));
  for (const f of snap.metadata.schema) if (!wanted.has(f.name)) problems.push(`table column "${f.name}" is not in the definition`);
  if (JSON.stringify(snap.metadata.partitionColumns) !== JSON.stringify(opts.partitionBy)) {
    problems.push(`table is partitioned by [${snap.metadata.partitionColumns.join(', ')}], definition by [${opts.partitionBy.join(', ')}]`);
  }
  if (problems.length) throw new DeltaError(`Delta table ${root} does not match its definition: ${problems.join('; ')}`);
}

/** Flat values of every table column; missing nullable columns become all-null, unknown columns are an error. */
function flattenInput(root: string, data: Table, columns: DeltaColumn[]): Map<string, FlatColumn> {
  const known = new Set(columns.map((c) => c.name));
  for (const f of data.schema.fields) {
    if (!known.has(f.name)) throw new DeltaError(`Delta table ${root}: input column "${f.name}" is not in the table schema`);
  }
  const out = new Map<string, FlatColumn>();
  const n = data.numRows;
  for (const c of columns) {
    const vec = data.getChild(c.name);
    let flat: FlatColumn;
    if (!vec) {
      if (!c.nullable) throw new DeltaError(`Delta table ${root}: non-nullable column "${c.name}" is missing from the input`);
      flat = allNull(c, n);
    } else {
      flat = flattenColumn(c.name, c.type, vec);
    }
    if (!c.nullable && flat.valid && flat.valid.includes(0)) {
      throw new DeltaError(`Delta table ${root}: non-nullable column "${c.name}" has null values`);
    }
    out.set(c.name, flat);
  }
  return out;
}

function allNull(c: DeltaColumn, n: number): FlatColumn {
  const valid = new Uint8Array(n);
  switch (c.type) {
    case 'long':
    case 'timestamp':
      return { kind: 'int64', length: n, valid, values: new BigInt64Array(n) };
    case 'integer':
    case 'date':
      return { kind: 'int32', length: n, valid, values: new Int32Array(n) };
    case 'double':
      return { kind: 'float64', length: n, valid, values: new Float64Array(n) };
    case 'boolean':
      return { kind: 'bool', length: n, valid, values: new Uint8Array(n) };
    case 'string':
      return { kind: 'utf8', length: n, valid, offsets: new Int32Array(n + 1), bytes: new Uint8Array(0) };
  }
}

interface PartitionGroup {
  values: Record<string, string | null>;
  /** Row indices of this partition; undefined = every row (no copy needed). */
  rows?: Uint32Array;
}

/** Groups rows by their serialized partition values, in first-seen order. */
function groupByPartition(flat: Map<string, FlatColumn>, columns: DeltaColumn[], partitionColumns: string[], n: number): PartitionGroup[] {
  if (partitionColumns.length === 0) return n === 0 ? [] : [{ values: {} }];
  const parts = partitionColumns.map((name) => {
    const col = columns.find((c) => c.name === name)!;
    return { name, type: col.type, data: flat.get(name)!, memo: new Map<unknown, string | null>() };
  });
  const groups = new Map<string, { values: Record<string, string | null>; rows: number[] }>();
  for (let i = 0; i < n; i++) {
    const values: Record<string, string | null> = {};
    let key = '';
    for (const p of parts) {
      const v = valueAt(p.data, i);
      let s = p.memo.get(v);
      if (s === undefined) {
        s = serializePartitionValue(p.type, v);
        if (p.memo.size < 10_000) p.memo.set(v, s);
      }
      values[p.name] = s;
      key += s === null ? '\u0001' : `\u0002${s}\u0000`;
    }
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { values, rows: [] }));
    g.rows.push(i);
  }
  if (groups.size === 1) return [{ values: [...groups.values()][0]!.values }];
  return [...groups.values()].map((g) => ({ values: g.values, rows: Uint32Array.from(g.rows) }));
}

function arrowTable(cols: { name: string; type: DeltaColumn['type']; nullable: boolean; data: FlatColumn }[], n: number): Table {
  const fields = cols.map((c) => new Field(c.name, deltaArrowType(c.type), c.nullable));
  const schema = new Schema(fields);
  const children: Data[] = cols.map((c) => toArrowData(c.data, c.type));
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(schema, struct)]);
}
