// The _delta_log directory: file naming, listing commits/checkpoints, reading commits and _last_checkpoint.
// Listing is authoritative; _last_checkpoint is only a validated hint (a corrupt one is ignored).
import type { ObjectStore } from '@sluice/storage';
import { parseCommitText, type Action } from './actions.ts';
import { isObject, optNumber } from './jsonText.ts';
import { LOG_PREFIX, utf8 } from './location.ts';

export const LOG_DIR = '_delta_log';

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

const COMMIT_RE = /^(\d{20})\.json$/;
const CLASSIC_CP_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI_CP_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

/** One complete checkpoint: its parts' file names in part order (one for classic). */
export interface CheckpointRef {
  version: number;
  files: string[];
}

export interface LogListing {
  commits: Map<number, string>;
  /** Complete checkpoints, newest first (classic preferred over multi-part for the same version). */
  checkpoints: CheckpointRef[];
  /** Highest version present as a commit or checkpoint; -1 for an empty log. */
  latest: number;
}

/**
 * Lists `_delta_log/` of the table's store; with `afterVersion`, only entries of later versions (and anything
 * sorting after them), via list's startAfter — so a refresh does not list the whole log on S3.
 */
export async function listLog(store: ObjectStore, afterVersion?: number): Promise<LogListing> {
  const startAfter = afterVersion === undefined || afterVersion < 0 ? undefined : LOG_PREFIX + String(afterVersion).padStart(20, '0') + '/';
  const objects = await store.list(LOG_PREFIX, startAfter === undefined ? {} : { startAfter });
  // Direct children only (a stray sub-folder's files are not log entries).
  const names = objects.map((o) => o.key.slice(LOG_PREFIX.length)).filter((n) => !n.includes('/'));
  const commits = new Map<number, string>();
  const classic = new Map<number, string>();
  const multi = new Map<string, { version: number; parts: number; files: Map<number, string> }>();
  for (const n of names) {
    let m = COMMIT_RE.exec(n);
    if (m) {
      commits.set(Number(m[1]), n);
      continue;
    }
    m = CLASSIC_CP_RE.exec(n);
    if (m) {
      classic.set(Number(m[1]), n);
      continue;
    }
    m = MULTI_CP_RE.exec(n);
    if (m) {
      const key = `${m[1]}/${m[3]}`;
      let g = multi.get(key);
      if (!g) multi.set(key, (g = { version: Number(m[1]), parts: Number(m[3]), files: new Map() }));
      g.files.set(Number(m[2]), n);
    }
  }
  const checkpoints: CheckpointRef[] = [...classic].map(([version, f]) => ({ version, files: [f] }));
  for (const g of multi.values()) {
    // Multi-part checkpoints are not written atomically: ignore any with a missing part (PROTOCOL.md).
    if (classic.has(g.version) || g.files.size !== g.parts) continue;
    const files: string[] = [];
    for (let p = 1; p <= g.parts; p++) {
      const f = g.files.get(p);
      if (f) files.push(f);
    }
    if (files.length === g.parts) checkpoints.push({ version: g.version, files });
  }
  checkpoints.sort((a, b) => b.version - a.version);
  let latest = -1;
  for (const v of commits.keys()) latest = Math.max(latest, v);
  for (const c of checkpoints) latest = Math.max(latest, c.version);
  return { commits, checkpoints, latest };
}

/** `_last_checkpoint`'s version and part count, or null when absent or unparseable. */
export async function readLastCheckpoint(store: ObjectStore): Promise<{ version: number; parts?: number } | null> {
  let text: string;
  try {
    const bytes = await store.get(LOG_PREFIX + '_last_checkpoint');
    if (!bytes) return null;
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  try {
    const o: unknown = JSON.parse(text);
    if (!isObject(o)) return null;
    const version = optNumber(o, 'version');
    if (version === undefined || !Number.isInteger(version) || version < 0) return null;
    const parts = optNumber(o, 'parts');
    return parts === undefined ? { version } : { version, parts };
  } catch {
    return null;
  }
}

/** The actions of commit `version`, or null if that commit file does not exist. */
export async function readCommit(store: ObjectStore, version: number): Promise<Action[] | null> {
  const name = commitFileName(version);
  const bytes = await store.get(LOG_PREFIX + name);
  if (!bytes) return null;
  return parseCommitText(utf8.decode(bytes), name);
}
