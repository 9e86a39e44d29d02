// One small object-store interface for the Delta writer/reader: local filesystem, S3 (and S3-compatible servers)
// and Azure Blob / ADLS Gen2, chosen by URL. Keys are relative '/'-separated paths under the store's root.
import type { AzureStoreOptions } from './azureStore.ts';
import { LocalStore } from './localStore.ts';
import type { S3StoreOptions } from './s3Store.ts';
import { parseAzureUrl, parseS3Url } from './storeUrls.ts';
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
      return new DeferredStore(parseS3Url(url).canonical, async () => new (await import('./s3Store.ts')).S3Store(url, opts.s3));
    case 'az':
    case 'azure':
    case 'abfs':
    case 'abfss':
      return new DeferredStore(parseAzureUrl(url).canonical, async () => new (await import('./azureStore.ts')).AzureBlobStore(url, opts.azure));
    default:
      throw new StorageError(`unsupported store URL scheme "${scheme}://" (use file://, s3://, az:// or abfss://)`);
  }
}

/**
 * A cloud store whose SDK module loads on first use: a service on a local lake never pays the AWS and Azure SDKs'
 * ~75 MiB of resident memory for importing @sluice/delta. The URL is parsed (and a bad one refused) up front.
 */
class DeferredStore implements ObjectStore {
  private store: Promise<ObjectStore> | undefined;
  constructor(
    readonly url: string,
    private readonly load: () => Promise<ObjectStore>,
  ) {}
  private get s(): Promise<ObjectStore> {
    this.store ??= this.load();
    return this.store;
  }
  async get(key: string): Promise<Uint8Array | null> {
    return (await this.s).get(key);
  }
  async put(key: string, data: Uint8Array): Promise<void> {
    return (await this.s).put(key, data);
  }
  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return (await this.s).putIfAbsent(key, data);
  }
  async list(prefix: string, opts?: { startAfter?: string }): Promise<ListedObject[]> {
    return (await this.s).list(prefix, opts);
  }
  async head(key: string): Promise<ObjectInfo | null> {
    return (await this.s).head(key);
  }
  async delete(key: string): Promise<void> {
    return (await this.s).delete(key);
  }
}
