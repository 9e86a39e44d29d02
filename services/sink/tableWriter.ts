// Buffers one Delta table's incoming batches and commits them together with a txn (appId, highest stream sequence
// so far) and, in commitInfo, the exact input sequences the commit holds. JetStream redelivers a message that was
// lost in flight (slow consumer, reconnect) after newer ones were committed, so "at or below the txn version" does
// not mean "committed": such a late input is looked up in the recent commits and written when it is not there.
// Each input message's promise resolves only after its commit.
import { Table } from 'apache-arrow';
import { DeltaTable, DeltaTableMissingError, DeltaTxnConflictError, deltaTypeOf, type Action, type DeltaColumn } from '@sluice/delta';
import { faultPoint, type Logger } from '@sluice/runtime';
import type { OpenStoreOptions } from '@sluice/storage';

export interface FlushPolicy {
  maxRows: number;
  maxBytes: number;
  maxLatencySeconds: number;
  /**
   * Input bytes per data file at most (several files per partition above it): a file's rows are copied and encoded
   * at once, and parquet-wasm's memory grows to about twice the largest file's Arrow size and never shrinks.
   */
  maxFileBytes?: number;
}

/**
 * Input bytes buffered (not yet flushing) across all writers of a process. Each writer's own `maxBytes` bounds one
 * table, but a sink has a writer per table and partition (dozens): above `limit` in total, the writer holding the
 * most flushes now, so the process's memory is bounded by the budget, not by writers × maxBytes.
 */
export class BufferBudget {
  private readonly held = new Map<TableWriter, number>();
  private total = 0;
  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.total;
  }

  /** `w` buffered `bytes` more; flushes the largest holder while the total is over the limit. */
  add(w: TableWriter, bytes: number): void {
    this.held.set(w, (this.held.get(w) ?? 0) + bytes);
    this.total += bytes;
    if (this.total > this.limit) this.flushLargest();
  }

  /** Flushes the writer holding the most among those not already asked to (one asked waits for its previous flush). */
  flushLargest(): void {
    let largest: TableWriter | undefined;
    let most = 0;
    for (const [writer, n] of this.held) {
      if (n > most && !writer.flushPending) {
        most = n;
        largest = writer;
      }
    }
    largest?.flushNow();
  }

  /** `w` took its buffer into a flush. */
  release(w: TableWriter): void {
    this.total -= this.held.get(w) ?? 0;
    this.held.delete(w);
  }
}

interface Pending {
  seq: number;
  data: Table;
  bytes: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface TableWriterStats {
  onCommit?: (table: string, rows: number, files: number, seconds: number) => void;
  /** After each commit: the rows committed (for latency histograms), file sizes, whether a checkpoint was written. */
  onCommitted?: (table: string, data: Table, fileSizes: number[], checkpointed: boolean) => void;
  /** A failed commit attempt: `retry` or `fatal` (the sink stops). */
  onCommitFailure?: (table: string, outcome: 'retry' | 'fatal') => void;
}

/** commitInfo field holding the input sequences of a commit (with the appId that wrote them). */
export const INPUT_SEQS_FIELD = 'sluiceInputSeqs';
const APP_ID_FIELD = 'sluiceAppId';
/** Commits whose inputs are kept in memory; older ones are read back from the log when a late input needs them. */
const HISTORY_LIMIT = 2000;

/** One commit of this appId: its Delta version, its txn version (the high-water mark) and its input sequences. */
interface CommitEntry {
  version: number;
  hw: number;
  seqs: Set<number> | null;
}

export class TableWriter {
  private buffer: Pending[] = [];
  private flushRequested = false;
  private rows = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Highest input sequence committed to this table (from the table's own txn on start). */
  private committed = -1;
  private readonly inBuffer = new Map<number, Promise<void>>();
  /** The table's columns as the next append will see them: its schema, pending definition columns, accepted new ones. */
  private known: DeltaColumn[] = [];
  /** This appId's commits, oldest first; every commit of it at Delta versions >= scannedFrom is here. */
  private history: CommitEntry[] = [];
  private scannedFrom = 0;
  /** Latest Delta version whose commits are reflected in `committed` and `history`. */
  private lastVersion = -1;
  /** Log scans for late inputs, one at a time. */
  private scanning: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly name: string,
    /** Undefined until the first flush when the table does not exist yet: a table appears with its first rows. */
    private table: DeltaTable | undefined,
    private readonly create: () => Promise<DeltaTable>,
    private readonly appId: string,
    private readonly policy: FlushPolicy,
    private readonly log: Logger,
    private readonly stats: TableWriterStats,
    private readonly onFatal: (e: Error) => void,
    private readonly budget?: BufferBudget,
  ) {}

  static async open(opts: {
    name: string;
    root: string;
    columns: DeltaColumn[];
    partitionBy: string[];
    description: string;
    appId: string;
    policy: FlushPolicy;
    log: Logger;
    stats?: TableWriterStats;
    onFatal: (e: Error) => void;
    /** Options for opening an object-store root (S3 endpoint/region...); credentials come from the SDKs' env chains. */
    storeOptions?: OpenStoreOptions;
    /** Shared by the writers of a process: bounds what they buffer together. */
    budget?: BufferBudget;
  }): Promise<TableWriter> {
    // A table definition that gains nullable columns (a new sluice version) evolves the table; incompatible changes
    // (type change, new required column) refuse to start with DeltaSchemaError naming the column.
    const create = () => DeltaTable.openOrCreate(opts.root, { name: opts.name, description: opts.description, columns: opts.columns, partitionBy: opts.partitionBy, schemaEvolution: 'addNewColumns', storeOptions: opts.storeOptions });
    // Most of the ~50 tables of a deployment never see a row of most sources: create a table with its first flush,
    // not at start (a missing log has no txn, so the position is -1 either way).
    const exists = (await DeltaTable.open(opts.root, { storeOptions: opts.storeOptions }).then(
      () => true,
      (e: unknown) => {
        if (e instanceof DeltaTableMissingError) return false;
        throw e;
      },
    ));
    const table = exists ? await create() : undefined;
    const w = new TableWriter(opts.name, table, create, opts.appId, opts.policy, opts.log, opts.stats ?? {}, opts.onFatal, opts.budget);
    if (!table) {
      w.addColumns(opts.columns);
      opts.log.debug({ table: opts.name, appId: opts.appId }, 'delta table absent: created with its first rows');
      return w;
    }
    const snap = await table.snapshot();
    w.committed = snap.txns.get(opts.appId) ?? -1;
    w.lastVersion = snap.version;
    w.scannedFrom = snap.version + 1;
    // Columns of a type this library cannot write are left out: the append refuses such tables anyway.
    w.known = snap.metadata.schema.flatMap((f) => {
      const type = deltaTypeOf(f.type);
      return type ? [{ name: f.name, type, nullable: f.nullable }] : [];
    });
    w.addColumns(opts.columns);
    opts.log.info({ table: opts.name, version: snap.version, appId: opts.appId, committedSeq: w.committed }, 'delta table open');
    return w;
  }

  /** Highest input sequence already in the table: the consumer resumes after it. */
  get committedSeq(): number {
    return this.committed;
  }

  /** Current column list (Delta schema of the snapshot, plus definition and envelope columns the next append adds). */
  get columns(): readonly DeltaColumn[] {
    return this.known;
  }

  /** Records columns that a buffered envelope (or the definition) brings and the next append adds to the schema. */
  addColumns(columns: readonly DeltaColumn[]): void {
    const have = new Set(this.known.map((c) => c.name.toLowerCase()));
    for (const c of columns) if (!have.has(c.name.toLowerCase())) this.known.push({ ...c });
  }

  /**
   * Whether input `seq` is already in the table. Above the txn version: no. At or below it: only if a commit of
   * this appId holds it. Commits are scanned newest first and only while their txn version is >= seq (a commit
   * with a lower high-water mark cannot hold it). A commit without recorded inputs (older sluice) or a log that no
   * longer reaches back far enough counts as holding it: the old high-water rule.
   */
  async isCommitted(seq: number): Promise<boolean> {
    if (seq > this.committed) return false;
    const found = this.lookup(seq);
    if (found !== undefined) return found;
    const scan = this.scanning.then(() => this.scanBack(seq));
    this.scanning = scan.catch(() => undefined);
    return scan;
  }

  /** From the commits in memory: true/false, or undefined when older commits must be read. */
  private lookup(seq: number): boolean | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const e = this.history[i]!;
      if (e.hw < seq) return false;
      if (e.seqs === null || e.seqs.has(seq)) return true;
    }
    return this.scannedFrom <= 0 ? false : undefined;
  }

  private async scanBack(seq: number): Promise<boolean> {
    for (;;) {
      const found = this.lookup(seq);
      if (found !== undefined) return found;
      const v = this.scannedFrom - 1;
      const actions = this.table ? await this.table.readCommit(v) : null;
      if (!actions) {
        this.log.warn({ table: this.name, seq, version: v }, 'log does not reach back to a late input; assuming it is committed');
        return true;
      }
      const entry = this.entryOf(v, actions);
      if (entry) this.history.unshift(entry);
      this.scannedFrom = v;
    }
  }

  /** This appId's commit in `actions`, if the commit holds one. */
  private entryOf(version: number, actions: readonly Action[]): CommitEntry | undefined {
    let hw: number | undefined;
    let seqs: Set<number> | null = null;
    for (const a of actions) {
      if ('txn' in a && a.txn.appId === this.appId) hw = a.txn.version;
      if ('commitInfo' in a && a.commitInfo[APP_ID_FIELD] === this.appId && Array.isArray(a.commitInfo[INPUT_SEQS_FIELD])) {
        seqs = new Set((a.commitInfo[INPUT_SEQS_FIELD] as unknown[]).filter((x): x is number => typeof x === 'number'));
      }
    }
    return hw === undefined ? undefined : { version, hw, seqs };
  }

  private remember(entry: CommitEntry): void {
    this.history.push(entry);
    this.lastVersion = Math.max(this.lastVersion, entry.version);
    if (this.history.length > HISTORY_LIMIT) {
      this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.scannedFrom = this.history[0]!.version;
    }
  }

  /** After a txn conflict: the commits another writer made for this appId since we last looked. */
  private async catchUp(): Promise<void> {
    if (!this.table) return;
    for (let v = this.lastVersion + 1; ; v++) {
      const actions = await this.table.readCommit(v);
      if (!actions) break;
      const entry = this.entryOf(v, actions);
      if (entry) {
        this.remember(entry);
        this.committed = Math.max(this.committed, entry.hw);
      }
      this.lastVersion = v;
    }
  }

  /** Resolves once `data` (from input sequence `seq`) is committed, or at once if it already is. */
  write(seq: number, data: Table, bytes: number): Promise<void> {
    const already = this.inBuffer.get(seq);
    if (already) return already; // redelivered while still buffered (or being looked up)
    if (seq > this.committed) return this.enqueue(seq, data, bytes);
    const p = this.isCommitted(seq).then((done) => {
      if (done) {
        this.inBuffer.delete(seq);
        return;
      }
      this.inBuffer.delete(seq);
      this.log.warn({ table: this.name, seq, committedSeq: this.committed }, 'input arrived after later ones were committed (redelivery); writing it');
      return this.enqueue(seq, data, bytes);
    });
    this.inBuffer.set(seq, p);
    return p;
  }

  private enqueue(seq: number, data: Table, bytes: number): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.buffer.push({ seq, data, bytes, resolve, reject });
    });
    this.inBuffer.set(seq, p);
    this.rows += data.numRows;
    this.bytes += bytes;
    if (this.rows >= this.policy.maxRows || this.bytes >= this.policy.maxBytes) this.flushNow();
    else if (!this.timer) this.scheduleFlush(this.policy.maxLatencySeconds * 1000);
    this.budget?.add(this, bytes);
    return p;
  }

  /** Bytes buffered and not yet flushing. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** A flush of the current buffer is asked for and not yet started. */
  get flushPending(): boolean {
    return this.flushRequested;
  }

  /** Flushes what is buffered as soon as the previous flush is done (once, however often it is asked). */
  flushNow(): void {
    if (this.flushRequested) return;
    this.flushRequested = true;
    this.scheduleFlush(0);
  }

  private scheduleFlush(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, ms);
  }

  /** Commits what is buffered now; later arrivals wait for the next flush. Serialised per table. */
  private async flush(): Promise<void> {
    this.flushRequested = false;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    this.rows = 0;
    this.bytes = 0;
    this.budget?.release(this);
    const started = performance.now();
    let pending = batch;
    let conflicts = 0;
    for (let attempt = 1; ; attempt++) {
      const maxSeq = pending.reduce((m, p) => Math.max(m, p.seq), this.committed);
      const seqs = pending.map((p) => p.seq);
      // One Table over all record batches: Table.concat in a loop re-merges schemas each time (quadratic).
      const data = new Table(pending[0]!.data.schema, pending.flatMap((p) => p.data.batches));
      try {
        this.table ??= await this.create();
        const bytes = pending.reduce((n, p) => n + p.bytes, 0);
        const fileBytes = this.policy.maxFileBytes;
        const res = await this.table.append(data, {
          txn: { appId: this.appId, version: maxSeq, expected: this.committed },
          ...(fileBytes && bytes > fileBytes ? { maxRowsPerFile: Math.max(1, Math.ceil((data.numRows * fileBytes) / bytes)) } : {}),
          commitInfo: { [APP_ID_FIELD]: this.appId, [INPUT_SEQS_FIELD]: seqs },
          operation: 'STREAMING UPDATE',
          // Fault tests kill here: Parquet files written, commit not made; they become orphans for vacuum.
          beforeCommit: () => faultPoint('sink.beforeCommit'),
        });
        this.committed = maxSeq;
        this.remember({ version: res.version, hw: maxSeq, seqs: new Set(seqs) });
        const seconds = (performance.now() - started) / 1000;
        this.stats.onCommit?.(this.name, data.numRows, res.files.length, seconds);
        this.stats.onCommitted?.(this.name, data, res.fileSizes, res.checkpointed);
        this.log.info({ table: this.name, version: res.version, rows: data.numRows, files: res.files.length, messages: batch.length, seconds: +seconds.toFixed(3) }, 'committed');
        break;
      } catch (e) {
        const err = e as Error;
        if (err instanceof DeltaTxnConflictError && ++conflicts <= 20) {
          // Another writer committed for this appId (a replica that owned the partition before us): write only the
          // inputs none of its commits holds.
          await this.catchUp();
          const left: Pending[] = [];
          for (const p of pending) if (!(await this.isCommitted(p.seq))) left.push(p);
          this.log.warn({ table: this.name, committedSeq: this.committed, inputs: pending.length, alreadyCommitted: pending.length - left.length }, 'another writer committed for this appId; writing only what it did not');
          pending = left;
          if (pending.length === 0) break;
          continue;
        }
        this.stats.onCommitFailure?.(this.name, attempt >= 5 ? 'fatal' : 'retry');
        if (attempt >= 5) {
          // Acking later messages after a failed earlier one would break the txn ordering: stop and let a restart
          // replay from the table's committed position.
          this.log.fatal({ table: this.name, err: err.message }, 'delta commit keeps failing; stopping');
          for (const p of batch) p.reject(err);
          this.onFatal(err);
          return;
        }
        this.log.warn({ table: this.name, err: err.message, attempt }, 'delta commit failed; retrying');
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    // Fault tests kill here: committed to Delta but not yet acked, so the messages come back after restart.
    faultPoint('sink.afterCommit');
    for (const p of batch) {
      this.inBuffer.delete(p.seq);
      p.resolve();
    }
  }

  /** Flush whatever is buffered (used at shutdown). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
  }
}
