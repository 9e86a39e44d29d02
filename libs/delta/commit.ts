// Atomic commits: put-if-absent of _delta_log/NNN.json through the table's ObjectStore (local: temp + fsync +
// link; S3/Azure: conditional PUT), and the optimistic retry loop that re-checks every commit that beat us
// (appends commute; metaData/protocol/txn changes do not).
import type { ObjectStore } from '@sluice/storage';
import { parseCommitText, type Action } from './actions.ts';
import { DeltaConflictError, DeltaError, DeltaTxnConflictError } from './errors.ts';
import { encodeUtf8, fileId, LOG_PREFIX, openLocation, storeOfLogDir, utf8 } from './location.ts';
import { commitFileName, readCommit } from './logFiles.ts';

/** commitInfo.txnId of a commit's actions (our unique commit id), if any. */
export function commitIdOf(actions: Action[]): string | undefined {
  for (const a of actions) {
    if ('commitInfo' in a && typeof a.commitInfo.txnId === 'string') return a.commitInfo.txnId;
  }
  return undefined;
}

/** Whether commit `version` exists and carries `commitId`: 'ours', 'theirs' or 'absent'. */
async function whoseCommit(store: ObjectStore, version: number, commitId: string): Promise<'ours' | 'theirs' | 'absent'> {
  const bytes = await store.get(LOG_PREFIX + commitFileName(version));
  if (!bytes) return 'absent';
  return commitIdOf(parseCommitText(utf8.decode(bytes), commitFileName(version))) === commitId ? 'ours' : 'theirs';
}

/**
 * Writes `content` as commit `version` unless that version exists, with the store's atomic putIfAbsent (readers
 * never see a partial commit). Returns true when the commit at `version` is ours (also when an earlier, ambiguous
 * attempt of ours actually landed: the commit id is compared), false when someone else's is there.
 * `target`: a store rooted at the table, or (tests) the table's local _delta_log path.
 */
export async function putIfAbsent(target: ObjectStore | string, version: number, content: string, commitId: string): Promise<boolean> {
  const store = storeOfLogDir(target);
  let error: unknown;
  try {
    if (await store.putIfAbsent(LOG_PREFIX + commitFileName(version), encodeUtf8(content))) return true;
  } catch (e) {
    error = e; // ambiguous (the write may have landed): look
  }
  // Lost the race, or an earlier attempt of ours (a retry after a lost response) is what is there.
  const who = await whoseCommit(store, version, commitId);
  if (who === 'ours') return true;
  if (who === 'theirs') return false;
  if (error !== undefined) throw error;
  throw new DeltaError(`commit ${commitFileName(version)}: put-if-absent refused but no commit is there`);
}

export interface CommitRequest {
  /** Table root as given (messages; opens the store when `store` is not given). */
  root: string;
  /** The table's store (default: opened from root). */
  store?: ObjectStore;
  /** Legacy (tests): the table's local _delta_log path; ignored when `store` is given. */
  logDir?: string;
  /** The version our plan was based on; we first try readVersion + 1. */
  readVersion: number;
  /** Newline-delimited JSON actions, identical for every attempt. */
  content: string;
  /** Unique id stored as commitInfo.txnId: recognizes our own commit after an ambiguous failure. */
  commitId: string;
  /** `exclusive`: any concurrent commit of the same appId is a conflict (its writer tracks its own inputs). */
  txn?: { appId: string; version: number; exclusive?: boolean };
  /** Give up after this many lost races (each one means another writer committed). */
  maxAttempts?: number;
  /** Files this commit removes (fileIds, see location.ts): a winner removing any of them is a conflict. */
  removes?: ReadonlySet<string>;
  /** What is being committed, for error messages (default "append"). */
  what?: string;
}

/** Throws if a commit that won a race invalidates our plan; appends by others are fine. */
function checkWinner(req: CommitRequest, store: ObjectStore, version: number, actions: Action[]): void {
  const what = req.what ?? 'append';
  for (const a of actions) {
    // Our commit removes (rewrites) files; if a winner already removed one, committing would resurrect its rows.
    if ('remove' in a && req.removes?.has(fileId(store, a.remove.path))) {
      throw new DeltaConflictError(
        `Delta table ${req.root}: concurrent commit ${version} removed ${a.remove.path}, which this ${what} (based on version ${req.readVersion}) rewrites; not committed`,
      );
    }
    if ('metaData' in a || 'protocol' in a) {
      throw new DeltaConflictError(
        `Delta table ${req.root}: concurrent commit ${version} changed the table's ${'metaData' in a ? 'metadata (schema/partitioning/configuration)' : 'protocol'}; ${what} based on version ${req.readVersion} was not committed`,
      );
    }
    // Same appId at a lower version is that app's earlier batch and commutes with ours; at >= our version our
    // batch may be a duplicate, and committing would also move the app's recorded position backwards.
    if ('txn' in a && req.txn && a.txn.appId === req.txn.appId && (req.txn.exclusive || a.txn.version >= req.txn.version)) {
      throw new DeltaTxnConflictError(
        `Delta table ${req.root}: concurrent commit ${version} recorded txn ${a.txn.appId}@${a.txn.version} while we were committing @${req.txn.version}; not committed`,
        req.txn.appId,
        req.txn.version,
        a.txn.version,
      );
    }
  }
}

/** Commits at the first free version after readVersion, checking every winner in between. Returns the version. */
export async function commitWithRetry(req: CommitRequest): Promise<number> {
  const max = req.maxAttempts ?? 10_000;
  const store = req.store ?? (req.logDir !== undefined ? storeOfLogDir(req.logDir) : openLocation(req.root).store);
  let version = req.readVersion + 1;
  for (let attempt = 0; attempt < max; attempt++) {
    if (await putIfAbsent(store, version, req.content, req.commitId)) return version;
    // Lost the race at `version`: vet it and every later commit already present, then try the next free one.
    for (;;) {
      const actions = await readCommit(store, version);
      if (!actions) break;
      checkWinner(req, store, version, actions);
      version++;
    }
  }
  throw new DeltaError(`Delta table ${req.root}: gave up committing after ${max} lost races`);
}
