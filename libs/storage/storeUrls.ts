// Store URLs parsed without loading a cloud SDK: openStore knows a store's canonical URL (and refuses a bad one) at
// once, while the SDK modules (~75 MiB resident) load only when a store of that kind is first used.
import { checkKey, StorageError } from './storeUtil.ts';

/** s3://bucket[/prefix] (also s3a://). */
export function parseS3Url(url: string): { bucket: string; prefix: string; canonical: string } {
  const m = /^s3a?:\/\/([^/]+)(?:\/(.*))?$/i.exec(url);
  if (!m?.[1]) throw new StorageError(`invalid S3 URL ${JSON.stringify(url)} (expected s3://bucket[/prefix])`);
  const p = (m[2] ?? '').replace(/\/+$/, '');
  if (p !== '') checkKey(p);
  return { bucket: m[1], prefix: p === '' ? '' : p + '/', canonical: `s3://${m[1]}${p === '' ? '' : '/' + p}` };
}

export interface ParsedAzureUrl {
  container: string;
  account?: string;
  /** '' or ending in '/'. */
  prefix: string;
  canonical: string;
}

export function parseAzureUrl(url: string): ParsedAzureUrl {
  // az://container/prefix  |  azure://container/prefix  |  abfs[s]://container@account.dfs.core.windows.net/prefix
  const m = /^(az|azure|abfss?):\/\/([^/]*)(?:\/(.*))?$/i.exec(url);
  const scheme = m?.[1]?.toLowerCase();
  const authority = m?.[2] ?? '';
  let container: string | undefined;
  let account: string | undefined;
  if (scheme === 'abfs' || scheme === 'abfss') {
    const a = /^([^@]+)@([^.]+)\.(?:dfs|blob)\.[^/]+$/i.exec(authority);
    container = a?.[1];
    account = a?.[2];
  } else if (scheme) {
    container = authority;
  }
  if (!container) throw new StorageError(`invalid Azure URL ${JSON.stringify(url)} (expected az://container[/prefix] or abfss://container@account.dfs.core.windows.net[/prefix])`);
  const p = (m?.[3] ?? '').replace(/\/+$/, '');
  if (p !== '') checkKey(p);
  return { container, account, prefix: p === '' ? '' : p + '/', canonical: `${scheme}://${authority}${p === '' ? '' : '/' + p}` };
}
