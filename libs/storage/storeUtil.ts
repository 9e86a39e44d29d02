// Helpers shared by the store implementations: errors without secrets, key checks, S3 key order.
import type { ListedObject } from './objectStore.ts';

/** An object-store failure. Messages never carry credentials; the SDK's original error is not attached. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    message: string,
    /** Service error code (e.g. `AccessDenied`, `AuthorizationFailure`) or errno code (`EACCES`). */
    readonly code?: string,
    /** HTTP status of the failed request, when there was one. */
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/**
 * Checks that a key is a relative '/'-separated path: not empty, no leading '/', no empty, '.' or '..' segments,
 * no NUL. Returns it unchanged.
 */
export function checkKey(key: string): string {
  if (key === '' || key.includes('\0')) throw new StorageError(`invalid object key ${JSON.stringify(key)}`);
  for (const seg of key.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new StorageError(`invalid object key ${JSON.stringify(key)}: segments must be non-empty and not "." or ".."`);
  }
  return key;
}

/** Checks a list prefix: '' (everything) or a key-like string, possibly ending in '/'. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** UTF-8 byte order of two strings (the order S3 lists keys in). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Sorts in UTF-8 byte order and applies `startAfter`. */
export function sortAndFilter(items: ListedObject[], startAfter: string | undefined): ListedObject[] {
  const out = startAfter === undefined ? items : items.filter((o) => compareKeys(o.key, startAfter) > 0);
  return out.sort((a, b) => compareKeys(a.key, b.key));
}

/** Removes every occurrence of the given secrets from a message (belt and braces: SDK messages should not carry them). */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  // Signatures in URLs (SAS `sig=`, presigned `X-Amz-Signature=`) and Authorization-like values.
  return out
    .replace(/([?&](?:sig|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s"']+/gi, '$1***')
    .replace(/((?:AccountKey|SharedAccessSignature)=)[^;\s"']+/gi, '$1***')
    .replace(/(Authorization["']?\s*[:=]\s*["']?)[^"',\r\n]+/gi, '$1***');
}

/** User-metadata name that carries a conditional write's unique id (to recognise our own write after a retry). */
export const PUT_ID = 'sluiceputid';
