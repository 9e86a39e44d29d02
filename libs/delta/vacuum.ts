// VACUUM: deletes files under the table root that the current snapshot does not reference and that are older
// than the retention (orphans of crashed writes, files removed by OPTIMIZE); never _delta_log or young files.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DeltaError } from './errors.ts';
import { LOG_DIR } from './logFiles.ts';
import { loadState } from './logReplay.ts';
import { checkWriteSupport } from './protocol.ts';

export interface VacuumOptions {
  /** Minimum age of a deleted file, in hours (default 168 = 7 days). */
  retentionHours?: number;
  /** List what would be deleted without deleting anything. */
  dryRun?: boolean;
  /** Allow retentionHours below 1 (only safe when no writer or reader is active on the table). */
  force?: boolean;
  /** Clock in epoch ms (default Date.now()); for tests and what-if dry runs. */
  now?: number;
}

/** Below this retention an in-flight append's (written, not yet committed) files could be deleted. */
export const MIN_SAFE_RETENTION_HOURS = 1;

/**
 * Deletes unreferenced files and returns their paths relative to the table root (sorted). A file is deleted
 * only if (1) the snapshot, loaded after listing, does not reference it, (2) its mtime is older than the
 * retention, and (3) if the log holds a tombstone (remove) for it, the remove's deletionTimestamp is older too —
 * so readers of a recent older snapshot and in-flight writes keep their files. Hidden names ('.' or '_' prefix,
 * except partition directories containing '=') and _delta_log are never touched; directories are not removed
 * (a concurrent append may be about to write into one). No VACUUM commit is written to the log.
 * Safety rule: retentionHours < 1 is refused unless `force` — an append writes its files before committing,
 * and one hour is far above any append's write+commit time.
 */
export async function vacuum(root: string, opts: VacuumOptions = {}): Promise<string[]> {
  const hours = opts.retentionHours ?? 168;
  if (!Number.isFinite(hours) || hours < 0) throw new RangeError(`vacuum: retentionHours must be a non-negative number, got ${hours}`);
  if (hours < MIN_SAFE_RETENTION_HOURS && !opts.force) {
    throw new DeltaError(
      `Delta table ${root}: refusing to vacuum with retentionHours ${hours} < ${MIN_SAFE_RETENTION_HOURS}: files of in-flight appends could be deleted; pass force: true if no writer is active`,
    );
  }
  const now = opts.now ?? Date.now();
  const cutoff = now - hours * 3_600_000;
  // List first, then load the snapshot: a file committed in between is then seen as referenced.
  const files = await listDataFiles(root);
  const state = await loadState(root);
  if (!state) throw new DeltaError(`${root} is not a Delta table (no commits in ${LOG_DIR}/)`);
  const header = state.header();
  checkWriteSupport(root, header.protocol, header.metadata);

  const doomed: { abs: string; rel: string }[] = [];
  for (const f of files) {
    if (state.files.has(f.abs)) continue;
    if (f.mtimeMs >= cutoff) continue;
    const tomb = state.tombstones.get(f.abs);
    if (tomb && (tomb.deletionTimestamp ?? now) >= cutoff) continue;
    doomed.push({ abs: f.abs, rel: relative(root, f.abs).split(sep).join('/') });
  }
  doomed.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  if (!opts.dryRun) {
    for (const d of doomed) await rm(d.abs, { force: true });
  }
  return doomed.map((d) => d.rel);
}

function hidden(name: string): boolean {
  return (name.startsWith('.') || name.startsWith('_')) && !name.includes('=');
}

async function listDataFiles(root: string): Promise<{ abs: string; mtimeMs: number }[]> {
  const out: { abs: string; mtimeMs: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
      throw e;
    }
    for (const e of entries) {
      if (hidden(e.name)) continue; // includes _delta_log
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile()) {
        const st = await lstat(abs).catch(() => null);
        if (st?.isFile()) out.push({ abs, mtimeMs: st.mtimeMs });
      }
    }
  };
  await walk(root);
  return out;
}
