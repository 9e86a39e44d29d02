// Amazon S3 and S3-compatible servers (MinIO, ...). putIfAbsent = PutObject with `If-None-Match: *`
// (S3 conditional writes): 412 PreconditionFailed means the key exists. Credentials come from the SDK's
// standard chain (env AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws files,
// web identity, ECS/EC2 metadata) unless given explicitly; they are never logged or put in error messages.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import type { ListedObject, ObjectInfo, ObjectStore } from './objectStore.ts';
import { checkKey, checkPrefix, PUT_ID, redact, sortAndFilter, StorageError } from './storeUtil.ts';
import { parseS3Url } from './storeUrls.ts';

export interface S3StoreOptions {
  /** Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`. Default: AWS (or env AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, read by the SDK). */
  endpoint?: string;
  /** Default: env AWS_REGION / AWS_DEFAULT_REGION, else `us-east-1` (with region redirects followed on AWS). */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`); default true when `endpoint` is set, else false. */
  forcePathStyle?: boolean;
  /** Explicit credentials (tests); default: the SDK's standard credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request (SDK retry strategy); default 3. */
  maxAttempts?: number;
  /** Keys per ListObjectsV2 page (MaxKeys); default the server's, 1000. */
  listPageSize?: number;
}

/** How often putIfAbsent retries after 409 ConditionalRequestConflict (a concurrent conditional write in flight). */
const CONFLICT_RETRIES = 8;

export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** Key prefix under the bucket, '' or ending in '/'. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly secrets: (string | undefined)[];
  private readonly listPageSize: number | undefined;

  constructor(url: string, opts: S3StoreOptions = {}) {
    this.listPageSize = opts.listPageSize;
    const parsed = parseS3Url(url);
    this.bucket = parsed.bucket;
    this.prefix = parsed.prefix;
    this.url = parsed.canonical;
    this.secrets = [opts.credentials?.secretAccessKey, opts.credentials?.sessionToken, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN];
    const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    const config: S3ClientConfig = {
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      maxAttempts: opts.maxAttempts ?? 3,
    };
    // With no region configured, us-east-1 plus region redirects reaches a bucket in any region.
    config.region = region ?? 'us-east-1';
    if (!opts.endpoint) config.followRegionRedirects = true;
    if (opts.endpoint) {
      config.endpoint = opts.endpoint;
      // S3-compatible servers do not all know the newer default CRC checksums.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (opts.credentials) config.credentials = opts.credentials;
    this.client = new S3Client(config);
  }

  private objKey(key: string): string {
    return this.prefix + checkKey(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const k = this.objKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: k }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.error('get', k, e);
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const k = this.objKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: k, Body: data, ContentLength: data.byteLength }));
    } catch (e) {
      throw this.error('put', k, e);
    }
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const k = this.objKey(key);
    // A unique id in the object's metadata tells our own write from another writer's (see below).
    const putId = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: k, Body: data, ContentLength: data.byteLength, IfNoneMatch: '*', Metadata: { [PUT_ID]: putId } }),
        );
        return true;
      } catch (e) {
        const status = httpStatus(e);
        if (status === 412 || errName(e) === 'PreconditionFailed') {
          // After a retry (the SDK's, or ours on 409) the object may be our own earlier attempt whose answer was
          // lost: our id in its metadata says so.
          if ((metadata(e)?.attempts ?? 1) > 1 || attempt > 0) return (await this.putIdOf(k)) === putId;
          return false;
        }
        // 409 ConditionalRequestConflict: another conditional write of this key is in flight; its outcome decides
        // ours, so ask again (AWS's advice) — the retry sees 412 if it landed, or succeeds if it did not.
        if ((status === 409 || errName(e) === 'ConditionalRequestConflict') && attempt < CONFLICT_RETRIES) {
          await new Promise((r) => setTimeout(r, 25 * 2 ** Math.min(attempt, 5) * (0.5 + Math.random())));
          continue;
        }
        throw this.error('putIfAbsent', k, e);
      }
    }
  }

  private async putIdOf(k: string): Promise<string | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: k }));
      return res.Metadata?.[PUT_ID];
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.error('putIfAbsent', k, e);
    }
  }

  async list(prefix: string, opts: { startAfter?: string } = {}): Promise<ListedObject[]> {
    checkPrefix(prefix);
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      try {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(this.listPageSize ? { MaxKeys: this.listPageSize } : {}),
            ...(token ? { ContinuationToken: token } : opts.startAfter !== undefined ? { StartAfter: this.prefix + opts.startAfter } : {}),
          }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key === undefined || !o.Key.startsWith(this.prefix)) continue;
          out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } catch (e) {
        throw this.error('list', this.prefix + prefix, e);
      }
    } while (token);
    // S3 already answers in this order; sorting again keeps every store identical and is cheap.
    return sortAndFilter(out, opts.startAfter);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const k = this.objKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: k }));
      return { size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
    } catch (e) {
      // A HEAD 404 has no body, so a missing bucket looks like a missing key: check the bucket (once).
      if (isNotFound(e)) {
        if (await this.bucketExists()) return null;
        throw new StorageError(`s3 head s3://${this.bucket}/${k} failed: NoSuchBucket (HTTP 404): the bucket does not exist`, 'NoSuchBucket', 404);
      }
      throw this.error('head', k, e);
    }
  }

  async delete(key: string): Promise<void> {
    const k = this.objKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: k }));
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.error('delete', k, e);
    }
  }

  private bucketChecked = false;
  private async bucketExists(): Promise<boolean> {
    if (this.bucketChecked) return true;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.bucketChecked = true;
      return true;
    } catch (e) {
      if (httpStatus(e) === 404) return false;
      throw this.error('head', '', e);
    }
  }

  /** Closes the HTTP connections. */
  destroy(): void {
    this.client.destroy();
  }

  private error(op: string, key: string, e: unknown): StorageError {
    const name = errName(e);
    const status = httpStatus(e);
    const msg = e instanceof Error ? e.message : String(e);
    const text = `s3 ${op} s3://${this.bucket}/${key} failed: ${name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${msg}`;
    return new StorageError(redact(text, this.secrets), name, status);
  }
}

function metadata(e: unknown): { httpStatusCode?: number; attempts?: number } | undefined {
  return typeof e === 'object' && e !== null && '$metadata' in e ? (e as { $metadata?: { httpStatusCode?: number; attempts?: number } }).$metadata : undefined;
}

function httpStatus(e: unknown): number | undefined {
  return metadata(e)?.httpStatusCode;
}

function errName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

function isNotFound(e: unknown): boolean {
  const n = errName(e);
  return n === 'NoSuchKey' || n === 'NotFound' || (httpStatus(e) === 404 && n !== 'NoSuchBucket');
}
