// One small object-store interface for the Delta writer/reader: local filesystem, S3 (and S3-compatible servers)
// and Azure Blob / ADLS Gen2, chosen by URL. Keys are relative '/'-separated paths under the store's root.
import { AzureBlobStore, type AzureStoreOptions } from './azureStore.ts';
import { LocalStore } from './localStore.ts';
import { S3Store, type S3StoreOptions } from './s3Store.ts';
import { StorageError } from './storeUtil.ts';

export { StorageError } from './storeUtil.ts';

export interface ObjectInfo {
  size: number;
  lastModified: Date;
}

export interface ListedObject extends ObjectInfo {
  key: string;
}

export interface ObjectStore {
  /** Root URL, e.g. `s3://bucket/prefix`, `az://container/prefix`, `file:///var/lake`. */
  readonly url: string;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  /** Writes (or overwrites) an object. Readers never see a partially written object. */
  put(key: string, data: Uint8Array): Promise<void>;
  /**
   * Writes the object only if the key does not exist. Atomic: of racing writers of the same key exactly one
   * gets true, the others false. Throws when the outcome is unknown.
   */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only a folder), recursively, sorted
   * by key in UTF-8 byte order (S3's order); with `startAfter`, only keys strictly greater than it.
   */
  list(prefix: string, opts?: { startAfter?: string }): Promise<ListedObject[]>;
  /** Size and modification time, or null when absent. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes the object; deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
}

export interface OpenStoreOptions {
  s3?: S3StoreOptions;
  azure?: AzureStoreOptions;
}

/**
 * Opens a store by URL:
 * - `file:///abs/path` or a plain path (relative paths resolve against the working directory)
 * - `s3://bucket[/prefix]` (also `s3a://`)
 * - `az://container[/prefix]`, `abfss://container@account.dfs.core.windows.net[/prefix]` (also `abfs://`)
 */
export function openStore(url: string, opts: OpenStoreOptions = {}): ObjectStore {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
    case 'file':
      return new LocalStore(url);
    case 's3':
    case 's3a':
      return new S3Store(url, opts.s3);
    case 'az':
    case 'azure':
    case 'abfs':
    case 'abfss':
      return new AzureBlobStore(url, opts.azure);
    default:
      throw new StorageError(`unsupported store URL scheme "${scheme}://" (use file://, s3://, az:// or abfss://)`);
  }
}

