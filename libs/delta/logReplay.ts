// Log replay: reconciles checkpoint + commits into table state (protocol, metaData, active files, txns),
// and refreshes that state incrementally from newer commits.
import type { ObjectStore } from '@sluice/storage';
import type { Action, AddFile, Metadata, Protocol, RemoveFile } from './actions.ts';
import { readCheckpoint } from './checkpointRead.ts';
import { DeltaLogError } from './errors.ts';
import { listLog, readCommit, readLastCheckpoint, type LogListing } from './logFiles.ts';
import { fileId, resolveLocation, type LocationInput, type TableLocation } from './location.ts';
import { parseSchemaString, type SchemaField } from './schema.ts';

export interface Snapshot {
  /** Table root as given (path or URL). */
  root: string;
  version: number;
  protocol: Protocol;
  metadata: Metadata & { schema: SchemaField[] };
  /** Active files (add actions after reconciliation), in no particular order. */
  files: AddFile[];
  /** appId → latest txn version. */
  txns: Map<string, number>;
}

/** Mutable replay state; one per DeltaTable, advanced by applying whole commits in version order. */
export class LogState {
  version = -1;
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  /** Keyed by fileId (the decoded object key, or an absolute URL outside the table), so `a%20b`, `a b` and `file:/t/a%20b` are one logical file. */
  readonly files = new Map<string, AddFile>();
  /** Remove actions still in the state (tombstones for VACUUM); carried into checkpoints we write. */
  readonly tombstones = new Map<string, RemoveFile>();
  readonly txns = new Map<string, { version: number; lastUpdated?: number }>();

  readonly root: string;
  readonly store: ObjectStore;

  constructor(readonly location: TableLocation) {
    this.root = location.root;
    this.store = location.store;
  }

  apply(actions: Action[]): void {
    for (const a of actions) {
      if ('add' in a) {
        const key = fileId(this.store, a.add.path);
        this.files.set(key, a.add);
        this.tombstones.delete(key);
      } else if ('remove' in a) {
        const key = fileId(this.store, a.remove.path);
        this.files.delete(key);
        this.tombstones.set(key, a.remove);
      } else if ('txn' in a) {
        this.txns.set(a.txn.appId, a.txn.lastUpdated === undefined ? { version: a.txn.version } : { version: a.txn.version, lastUpdated: a.txn.lastUpdated });
      }
      else if ('metaData' in a) this.metadata = a.metaData;
      else if ('protocol' in a) this.protocol = a.protocol;
    }
  }

  clone(): LogState {
    const c = new LogState(this.location);
    c.version = this.version;
    c.protocol = this.protocol;
    c.metadata = this.metadata;
    for (const [k, v] of this.files) c.files.set(k, v);
    for (const [k, v] of this.tombstones) c.tombstones.set(k, v);
    for (const [k, v] of this.txns) c.txns.set(k, v);
    return c;
  }

  /** Version, protocol and metadata without copying the file list (what a writer needs per append). */
  header(): Pick<Snapshot, 'root' | 'version' | 'protocol' | 'metadata'> {
    if (!this.protocol) throw new DeltaLogError(`Delta table ${this.root}: no protocol action in the log up to version ${this.version}`);
    if (!this.metadata) throw new DeltaLogError(`Delta table ${this.root}: no metaData action in the log up to version ${this.version}`);
    return {
      root: this.root,
      version: this.version,
      protocol: this.protocol,
      metadata: { ...this.metadata, schema: parseSchemaString(this.metadata.schemaString) },
    };
  }

  snapshot(): Snapshot {
    return {
      ...this.header(),
      files: [...this.files.values()],
      txns: new Map([...this.txns].map(([app, t]) => [app, t.version])),
    };
  }
}

export async function applyCommits(state: LogState, from: number, to: number): Promise<void> {
  for (let v = from; v <= to; v++) {
    const actions = await readCommit(state.store, v);
    if (!actions) throw new DeltaLogError(`Delta table ${state.root}: commit ${v} disappeared during replay`);
    state.apply(actions);
    state.version = v;
  }
}

function contiguous(listing: LogListing, from: number, to: number): boolean {
  for (let v = from; v <= to; v++) if (!listing.commits.has(v)) return false;
  return true;
}

export interface LoadOptions {
  /** Replay JSON commits only (tests compare this against checkpoint-based replay). */
  ignoreCheckpoints?: boolean;
  /** Reconstruct this version instead of the latest (must exist). */
  upTo?: number;
}

/** Full replay of the latest version: newest usable checkpoint, then the commits after it. Null if no log. */
export async function loadState(location: LocationInput, opts: LoadOptions = {}): Promise<LogState | null> {
  const loc = resolveLocation(location);
  const hint = await readLastCheckpoint(loc.store);
  // With a _last_checkpoint hint, first list only from its version on (list's startAfter: S3 then skips the older
  // log); if no checkpoint there is usable, fall back to the full listing, which alone decides what is missing.
  if (hint && !opts.ignoreCheckpoints && (opts.upTo === undefined || opts.upTo >= hint.version)) {
    const partial = await listLog(loc.store, hint.version - 1);
    const st = await loadFromListing(loc, partial, hint, opts, true);
    if (st) return st;
  }
  return loadFromListing(loc, await listLog(loc.store), hint, opts, false);
}

async function loadFromListing(
  loc: TableLocation,
  listing: LogListing,
  hint: { version: number; parts?: number } | null,
  opts: LoadOptions,
  partial: boolean,
): Promise<LogState | null> {
  const root = loc.root;
  if (listing.latest < 0) return null;
  const latest = opts.upTo === undefined ? listing.latest : Math.min(opts.upTo, listing.latest);
  // The listing decides what exists; _last_checkpoint only breaks ties between two complete multi-part
  // checkpoints of one version (its `parts` names the one it wrote), so a stale or corrupt hint costs nothing.
  const prefer = (c: { version: number; files: string[] }): number => (hint && c.version === hint.version && c.files.length === (hint.parts ?? 1) ? 0 : 1);
  const candidates = opts.ignoreCheckpoints ? [] : [...listing.checkpoints].sort((a, b) => b.version - a.version || prefer(a) - prefer(b));
  const problems: string[] = [];
  for (const cp of candidates) {
    if (cp.version > latest || !contiguous(listing, cp.version + 1, latest)) continue;
    const state = new LogState(loc);
    try {
      state.apply(await readCheckpoint(loc.store, cp));
    } catch (e) {
      problems.push((e as Error).message);
      continue; // fall back to an older checkpoint or to full JSON replay
    }
    state.version = cp.version;
    await applyCommits(state, cp.version + 1, latest);
    return state;
  }
  if (partial) return null;
  if (!contiguous(listing, 0, latest)) {
    const missing: number[] = [];
    for (let v = 0; v <= latest && missing.length < 5; v++) if (!listing.commits.has(v)) missing.push(v);
    throw new DeltaLogError(
      `Delta table ${root}: cannot reconstruct version ${latest}: commits [${missing.join(', ')}] are missing and no usable checkpoint covers them` +
        (problems.length ? ` (${problems.join('; ')})` : ''),
    );
  }
  const state = new LogState(loc);
  await applyCommits(state, 0, latest);
  return state;
}

/**
 * Brings `state` to the latest version by applying only the newer commits; falls back to a full reload when
 * they are no longer all present (e.g. log cleanup after a newer checkpoint). Returns the state to use.
 */
export async function refreshState(state: LogState): Promise<LogState> {
  // Only entries after our version (list's startAfter).
  const listing = await listLog(state.store, state.version);
  if (listing.latest <= state.version) return state;
  if (contiguous(listing, state.version + 1, listing.latest)) {
    await applyCommits(state, state.version + 1, listing.latest);
    return state;
  }
  const fresh = await loadState(state.location);
  if (!fresh) throw new DeltaLogError(`Delta table ${state.root}: _delta_log disappeared`);
  return fresh;
}
