// Atomic commits: put-if-absent of _delta_log/NNN.json via hard link, and the optimistic retry loop
// that re-checks every commit that beat us (appends commute; metaData/protocol/txn changes do not).
import { randomUUID } from 'node:crypto';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommitText, type Action } from './actions.ts';
import { DeltaConflictError, DeltaError, DeltaTxnConflictError } from './errors.ts';
import { commitFileName, readCommit } from './logFiles.ts';
import { resolveLogPath } from './partitionPath.ts';

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** commitInfo.txnId of a commit's actions (our unique commit id), if any. */
export function commitIdOf(actions: Action[]): string | undefined {
  for (const a of actions) {
    if ('commitInfo' in a && typeof a.commitInfo.txnId === 'string') return a.commitInfo.txnId;
  }
  return undefined;
}

/** Whether commit `version` exists and carries `commitId`: 'ours', 'theirs' or 'absent'. */
async function whoseCommit(logDir: string, version: number, commitId: string): Promise<'ours' | 'theirs' | 'absent'> {
  let text: string;
  try {
    text = await readFile(join(logDir, commitFileName(version)), 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return 'absent';
    throw e;
  }
  return commitIdOf(parseCommitText(text, commitFileName(version))) === commitId ? 'ours' : 'theirs';
}

/**
 * Writes `content` as commit `version` unless that version exists. The temp file is complete and fsynced
 * before link(2) publishes it, so readers never see a partial commit; link fails with EEXIST if another
 * writer won. Returns true when the commit at `version` is ours (also when an earlier, ambiguous attempt
 * of ours actually landed), false when someone else's is there.
 */
export async function putIfAbsent(logDir: string, version: number, content: string, commitId: string): Promise<boolean> {
  const final = join(logDir, commitFileName(version));
  const tmp = join(logDir, `.${commitFileName(version)}.${randomUUID()}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, final);
    await syncDir(logDir);
    return true;
  } catch (e) {
    // EEXIST is the normal lost race; anything else is ambiguous (the link may have happened), so look.
    const who = await whoseCommit(logDir, version, commitId);
    if (who === 'ours') return true;
    if (who === 'theirs') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the new directory entry durable; best effort (not every platform/filesystem allows it).
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* ignore */
  }
}

export interface CommitRequest {
  root: string;
  logDir: string;
  /** The version our plan was based on; we first try readVersion + 1. */
  readVersion: number;
  /** Newline-delimited JSON actions, identical for every attempt. */
  content: string;
  /** Unique id stored as commitInfo.txnId: recognizes our own commit after an ambiguous failure. */
  commitId: string;
  txn?: { appId: string; version: number };
  /** Give up after this many lost races (each one means another writer committed). */
  maxAttempts?: number;
  /** Files this commit removes (resolved paths, see resolveLogPath): a winner removing any of them is a conflict. */
  removes?: ReadonlySet<string>;
  /** What is being committed, for error messages (default "append"). */
  what?: string;
}

/** Throws if a commit that won a race invalidates our plan; appends by others are fine. */
function checkWinner(req: CommitRequest, version: number, actions: Action[]): void {
  const what = req.what ?? 'append';
  for (const a of actions) {
    // Our commit removes (rewrites) files; if a winner already removed one, committing would resurrect its rows.
    if ('remove' in a && req.removes?.has(resolveLogPath(req.root, a.remove.path))) {
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
    if ('txn' in a && req.txn && a.txn.appId === req.txn.appId && a.txn.version >= req.txn.version) {
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
  let version = req.readVersion + 1;
  for (let attempt = 0; attempt < max; attempt++) {
    if (await putIfAbsent(req.logDir, version, req.content, req.commitId)) return version;
    // Lost the race at `version`: vet it and every later commit already present, then try the next free one.
    for (;;) {
      const actions = await readCommit(req.logDir, version);
      if (!actions) break;
      checkWinner(req, version, actions);
      version++;
    }
  }
  throw new DeltaError(`Delta table ${req.root}: gave up committing after ${max} lost races`);
}
