// Reads a V1 Parquet checkpoint (classic or multi-part) into the same actions a JSON commit yields.
// Each checkpoint row holds exactly one non-null action column (add, remove, metaData, protocol, txn...).
import type { ObjectStore } from '@sluice/storage';
import { parseAction, type Action } from './actions.ts';
import { toPlain } from './arrowColumns.ts';
import { DeltaLogError } from './errors.ts';
import { LOG_PREFIX } from './location.ts';
import type { CheckpointRef } from './logFiles.ts';
import { decodeParquet } from './parquetFile.ts';

const ACTION_COLUMNS = ['protocol', 'metaData', 'txn', 'add', 'remove'] as const;

export async function readCheckpoint(store: ObjectStore, cp: CheckpointRef): Promise<Action[]> {
  const out: Action[] = [];
  for (const file of cp.files) {
    let table;
    try {
      const bytes = await store.get(LOG_PREFIX + file);
      if (!bytes) throw new Error('it disappeared');
      table = decodeParquet(bytes);
    } catch (e) {
      throw new DeltaLogError(`checkpoint ${file} is unreadable: ${(e as Error).message ?? String(e)}`);
    }
    const cols = ACTION_COLUMNS.map((name) => ({ name, vec: table.getChild(name) }));
    for (let i = 0; i < table.numRows; i++) {
      for (const { name, vec } of cols) {
        if (!vec || !vec.isValid(i)) continue;
        const a = parseAction({ [name]: toPlain(vec.get(i)) });
        if (a) out.push(a);
      }
    }
  }
  return out;
}
