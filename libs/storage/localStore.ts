// Local filesystem store. put = temp file + fsync + rename (atomic replace); putIfAbsent = temp file + fsync +
// link(2), which fails with EEXIST when the key exists, so exactly one racing writer wins.
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ListedObject, ObjectInfo, ObjectStore } from './objectStore.ts';
import { checkKey, checkPrefix, sortAndFilter, StorageError } from './storeUtil.ts';

/** Temp files live next to their target and are hidden from list(); keys must not use this form. */
const TEMP_PREFIX = '.sluice-tmp-';
const isTemp = (name: string) => name.startsWith(TEMP_PREFIX) && name.endsWith('.tmp');

export class LocalStore implements ObjectStore {
  readonly url: string;
  readonly root: string;

  constructor(urlOrPath: string) {
    this.root = urlOrPath.startsWith('file://') ? fileURLToPath(urlOrPath) : resolve(urlOrPath);
    this.url = pathToFileURL(this.root).href;
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async get(key: string): Promise<Uint8Array | null> {
    const p = this.path(key);
    try {
      const buf = await readFile(p);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isAbsent(e)) return null;
      throw fsError('get', p, e);
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const p = this.path(key);
    const tmp = await this.writeTemp(p, data);
    try {
      await rename(tmp, p);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw fsError('put', p, e);
    }
    await syncDir(dirname(p));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const p = this.path(key);
    const tmp = await this.writeTemp(p, data);
    try {
      await link(tmp, p);
      await syncDir(dirname(p));
      return true;
    } catch (e) {
      if (errCode(e) === 'EEXIST') return false;
      throw fsError('putIfAbsent', p, e);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async list(prefix: string, opts: { startAfter?: string } = {}): Promise<ListedObject[]> {
    checkPrefix(prefix);
    // Walk only the deepest folder the prefix names; the rest of the prefix filters names.
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
    const out: ListedObject[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      const dir = join(this.root, ...dirKey.split('/').filter(Boolean));
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isAbsent(e)) return;
        throw fsError('list', dir, e);
      }
      for (const ent of entries) {
        const key = dirKey + ent.name;
        if (ent.isDirectory()) {
          // Descend only where keys could still match the prefix.
          const asDir = key + '/';
          if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) await walk(asDir);
        } else if (ent.isFile() && !isTemp(ent.name) && key.startsWith(prefix)) {
          try {
            const st = await stat(join(dir, ent.name));
            out.push({ key, size: st.size, lastModified: st.mtime });
          } catch (e) {
            if (!isAbsent(e)) throw fsError('list', join(dir, ent.name), e); // deleted meanwhile: skip
          }
        }
      }
    };
    await walk(base);
    return sortAndFilter(out, opts.startAfter);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const p = this.path(key);
    try {
      const st = await stat(p);
      return st.isFile() ? { size: st.size, lastModified: st.mtime } : null;
    } catch (e) {
      if (isAbsent(e)) return null;
      throw fsError('head', p, e);
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    try {
      await unlink(p);
    } catch (e) {
      if (isAbsent(e)) return;
      throw fsError('delete', p, e);
    }
  }

  /** Writes `data` to a fresh temp file beside `final` (creating folders) and fsyncs it. */
  private async writeTemp(final: string, data: Uint8Array): Promise<string> {
    const dir = dirname(final);
    if (!(dir + sep).startsWith(this.root + sep) && dir !== this.root) throw new StorageError(`path escapes the store root: ${final}`);
    await mkdir(dir, { recursive: true }).catch((e: unknown) => {
      throw fsError('mkdir', dir, e);
    });
    const tmp = join(dir, `${TEMP_PREFIX}${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw fsError('write', tmp, e);
    }
    return tmp;
  }
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function isAbsent(e: unknown): boolean {
  const c = errCode(e);
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR';
}

function fsError(op: string, path: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const code = errCode(e);
  return new StorageError(`local ${op} ${path} failed: ${e instanceof Error ? e.message : String(e)}`, code);
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
