// VACUUM: deletes files under the table root that the current snapshot does not reference and that are older
// than the retention (orphans of crashed writes, files removed by OPTIMIZE); never _delta_log or young files.
import type { ObjectStore } from '@sluice/storage';
import { DeltaError, DeltaTableMissingError } from './errors.ts';
import { resolveLocation, type LocationInput, type StoreOptions } from './location.ts';
import { LOG_DIR } from './logFiles.ts';
import { loadState } from './logReplay.ts';
import { checkWriteSupport } from './protocol.ts';

export interface VacuumOptions extends StoreOptions {
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
 * Deletes unreferenced files and returns their keys relative to the table root (sorted). A file is deleted
 * only if (1) the snapshot, loaded after listing, does not reference it, (2) its lastModified is older than the
 * retention, and (3) if the log holds a tombstone (remove) for it, the remove's deletionTimestamp is older too —
 * so readers of a recent older snapshot and in-flight writes keep their files. Hidden names ('.' or '_' prefix,
 * except partition directories containing '=') and _delta_log are never touched; directories are not removed
 * (a concurrent append may be about to write into one). No VACUUM commit is written to the log.
 * Safety rule: retentionHours < 1 is refused unless `force` — an append writes its files before committing,
 * and one hour is far above any append's write+commit time.
 */
export async function vacuum(location: LocationInput, opts: VacuumOptions = {}): Promise<string[]> {
  const loc = resolveLocation(location, opts);
  const root = loc.root;
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
  const files = await listDataFiles(loc.store);
  const state = await loadState(loc);
  if (!state) throw new DeltaTableMissingError(`${root} is not a Delta table (no commits in ${LOG_DIR}/)`);
  const header = state.header();
  checkWriteSupport(root, header.protocol, header.metadata);

  const doomed: string[] = [];
  for (const f of files) {
    if (state.files.has(f.key)) continue;
    if (f.lastModified >= cutoff) continue;
    const tomb = state.tombstones.get(f.key);
    if (tomb && (tomb.deletionTimestamp ?? now) >= cutoff) continue;
    doomed.push(f.key);
  }
  doomed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (opts.dryRun) return doomed;
  const deleted: string[] = [];
  for (const key of doomed) {
    // Re-check right before deleting (head: lastModified): a key rewritten since the listing is young again.
    const info = await loc.store.head(key);
    if (info && info.lastModified.getTime() < cutoff) {
      await loc.store.delete(key);
      deleted.push(key);
    }
  }
  return deleted;
}

function hidden(name: string): boolean {
  return (name.startsWith('.') || name.startsWith('_')) && !name.includes('=');
}

/** Every object under the table root outside hidden folders/files (so never _delta_log), with its lastModified. */
async function listDataFiles(store: ObjectStore): Promise<{ key: string; lastModified: number }[]> {
  const out: { key: string; lastModified: number }[] = [];
  for (const o of await store.list('')) {
    if (o.key.split('/').some(hidden)) continue;
    out.push({ key: o.key, lastModified: o.lastModified.getTime() });
  }
  return out;
}
