// Azure Blob Storage and ADLS Gen2 (through its Blob endpoint, which hierarchical-namespace accounts serve too).
// putIfAbsent = block-blob upload with `If-None-Match: *`: 409 BlobAlreadyExists / 412 ConditionNotMet mean the
// blob exists. Credentials: a connection string, an account key, a SAS token, an explicit credential, or
// @azure/identity's DefaultAzureCredential (managed identity, workload identity, …); never logged or put in errors.
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential, type AnonymousCredential, type ContainerClient } from '@azure/storage-blob';
import type { ListedObject, ObjectInfo, ObjectStore } from './objectStore.ts';
import { checkKey, checkPrefix, PUT_ID, redact, sortAndFilter, StorageError } from './storeUtil.ts';
import { parseAzureUrl } from './storeUrls.ts';

export { parseAzureUrl } from './storeUrls.ts';

type BlobCredential = StorageSharedKeyCredential | AnonymousCredential | TokenCredential;

export interface AzureStoreOptions {
  /** Default: env AZURE_STORAGE_CONNECTION_STRING. Takes precedence over every other credential. */
  connectionString?: string;
  /** Default: the account in an abfss:// URL, else env AZURE_STORAGE_ACCOUNT_NAME / AZURE_STORAGE_ACCOUNT. */
  accountName?: string;
  /** Shared key; default env AZURE_STORAGE_ACCOUNT_KEY / AZURE_STORAGE_KEY. */
  accountKey?: string;
  /** SAS token (with or without the leading '?'); default env AZURE_STORAGE_SAS_TOKEN. */
  sasToken?: string;
  /** Any credential the SDK accepts (e.g. a TokenCredential from @azure/identity). */
  credential?: BlobCredential;
  /** Blob service endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1` (Azurite). Default `https://<account>.blob.core.windows.net`. */
  endpoint?: string;
  /** Blobs per list page; default 5000 (the service's maximum). */
  listPageSize?: number;
}

export class AzureBlobStore implements ObjectStore {
  readonly url: string;
  readonly containerName: string;
  /** Blob-name prefix, '' or ending in '/'. */
  readonly prefix: string;
  private readonly secrets: (string | undefined)[];
  private containerPromise: Promise<ContainerClient> | undefined;
  private readonly account: string | undefined;

  constructor(
    url: string,
    private readonly opts: AzureStoreOptions = {},
  ) {
    const parsed = parseAzureUrl(url);
    this.url = parsed.canonical;
    this.containerName = parsed.container;
    this.prefix = parsed.prefix;
    this.account = parsed.account;
    const env = process.env;
    this.secrets = [
      opts.accountKey,
      opts.sasToken,
      opts.connectionString,
      env.AZURE_STORAGE_ACCOUNT_KEY,
      env.AZURE_STORAGE_KEY,
      env.AZURE_STORAGE_SAS_TOKEN,
      env.AZURE_CLIENT_SECRET,
      ...[opts.connectionString, env.AZURE_STORAGE_CONNECTION_STRING].flatMap((cs) => secretsOfConnectionString(cs)),
    ];
  }

  /** The container client, built on first use (connection errors surface on the first operation, not in the constructor). */
  private container(): Promise<ContainerClient> {
    this.containerPromise ??= this.connect().catch((e: unknown) => {
      this.containerPromise = undefined;
      throw e instanceof StorageError ? e : this.error('connect', '', e);
    });
    return this.containerPromise;
  }

  private async connect(): Promise<ContainerClient> {
    const env = process.env;
    const o = this.opts;
    const connectionString = o.connectionString ?? env.AZURE_STORAGE_CONNECTION_STRING;
    if (connectionString) {
      const service = BlobServiceClient.fromConnectionString(connectionString);
      if (this.account && service.accountName && service.accountName !== this.account)
        throw new StorageError(`the Azure connection string is for account "${service.accountName}" but the URL names "${this.account}"`);
      return service.getContainerClient(this.containerName);
    }
    const account = this.account ?? o.accountName ?? env.AZURE_STORAGE_ACCOUNT_NAME ?? env.AZURE_STORAGE_ACCOUNT;
    if (!account && !o.endpoint)
      throw new StorageError(`no Azure storage account for ${this.url}: use abfss://container@account.dfs.core.windows.net/..., or set AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_CONNECTION_STRING`);
    let endpoint = (o.endpoint ?? `https://${account}.blob.core.windows.net`).replace(/\/+$/, '');
    const accountKey = o.accountKey ?? env.AZURE_STORAGE_ACCOUNT_KEY ?? env.AZURE_STORAGE_KEY;
    const sas = o.sasToken ?? env.AZURE_STORAGE_SAS_TOKEN;
    let credential: BlobCredential | undefined = o.credential;
    if (!credential && accountKey) {
      if (!account) throw new StorageError('an Azure account key needs an account name (accountName option or AZURE_STORAGE_ACCOUNT_NAME)');
      credential = new StorageSharedKeyCredential(account, accountKey);
    } else if (!credential && sas) {
      endpoint += (sas.startsWith('?') ? '' : '?') + sas;
    } else if (!credential) {
      credential = defaultAzureCredential();
    }
    return new BlobServiceClient(endpoint, credential).getContainerClient(this.containerName);
  }

  private blobName(key: string): string {
    return this.prefix + checkKey(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const name = this.blobName(key);
    const c = await this.container();
    try {
      const res = await c.getBlobClient(name).download();
      const body = res.readableStreamBody;
      if (!body) return new Uint8Array(0);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      const buf = Buffer.concat(chunks);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.error('get', name, e);
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const name = this.blobName(key);
    const c = await this.container();
    try {
      await c.getBlockBlobClient(name).upload(data, data.byteLength);
    } catch (e) {
      throw this.error('put', name, e);
    }
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const name = this.blobName(key);
    const c = await this.container();
    const blob = c.getBlockBlobClient(name);
    // A unique id in the blob's metadata tells our own write from another writer's: the SDK retries failed
    // requests, and when a retry is what finds the blob, the blob may be our first attempt (its answer lost).
    const putId = randomUUID();
    try {
      await blob.upload(data, data.byteLength, { conditions: { ifNoneMatch: '*' }, metadata: { [PUT_ID]: putId } });
      return true;
    } catch (e) {
      const status = statusOf(e);
      const code = codeOf(e);
      if (status === 409 || status === 412 || code === 'BlobAlreadyExists' || code === 'ConditionNotMet') {
        try {
          return (await blob.getProperties()).metadata?.[PUT_ID] === putId;
        } catch (e2) {
          if (isNotFound(e2)) return false;
          throw this.error('putIfAbsent', name, e2);
        }
      }
      throw this.error('putIfAbsent', name, e);
    }
  }

  async list(prefix: string, opts: { startAfter?: string } = {}): Promise<ListedObject[]> {
    checkPrefix(prefix);
    const c = await this.container();
    const out: ListedObject[] = [];
    try {
      // Blob listing has no start-after (its marker is opaque): filter on our side.
      for await (const page of c.listBlobsFlat({ prefix: this.prefix + prefix }).byPage({ maxPageSize: this.opts.listPageSize ?? 5000 })) {
        for (const b of page.segment.blobItems) {
          if (!b.name.startsWith(this.prefix)) continue;
          out.push({ key: b.name.slice(this.prefix.length), size: b.properties.contentLength ?? 0, lastModified: b.properties.lastModified });
        }
      }
    } catch (e) {
      throw this.error('list', this.prefix + prefix, e);
    }
    return sortAndFilter(out, opts.startAfter);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const name = this.blobName(key);
    const c = await this.container();
    try {
      const p = await c.getBlobClient(name).getProperties();
      return { size: p.contentLength ?? 0, lastModified: p.lastModified ?? new Date(0) };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.error('head', name, e);
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.blobName(key);
    const c = await this.container();
    try {
      await c.getBlobClient(name).deleteIfExists();
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.error('delete', name, e);
    }
  }

  private error(op: string, name: string, e: unknown): StorageError {
    const status = statusOf(e);
    const code = codeOf(e);
    // RestError messages end with the service's XML/RequestId details; keep the first line(s) of text only.
    const raw = e instanceof Error ? e.message : String(e);
    const msg = raw.split('\n').slice(0, 2).join(' ').trim();
    const text = `azure ${op} ${this.url}${name ? ` blob "${name}"` : ''} failed: ${code ?? (e instanceof Error ? e.name : 'Error')}${status ? ` (HTTP ${status})` : ''}: ${msg}`;
    return new StorageError(redact(text, this.secrets), code, status);
  }
}

/** The SDK's standard chain: environment service principal, workload identity, managed identity, Azure CLI, … */
function defaultAzureCredential(): BlobCredential {
  return new DefaultAzureCredential();
}

function secretsOfConnectionString(cs: string | undefined): string[] {
  if (!cs) return [];
  const out: string[] = [];
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    if (eq > 0 && /^(AccountKey|SharedAccessSignature)$/i.test(k)) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

function statusOf(e: unknown): number | undefined {
  const s = typeof e === 'object' && e !== null ? (e as { statusCode?: unknown }).statusCode : undefined;
  return typeof s === 'number' ? s : undefined;
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const c = (e as { code?: unknown; details?: { errorCode?: unknown } }).details?.errorCode ?? (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}

function isNotFound(e: unknown): boolean {
  const code = codeOf(e);
  if (code === 'ContainerNotFound') return false;
  return statusOf(e) === 404 || code === 'BlobNotFound';
}
