// Where a table lives: an ObjectStore rooted at the table (local path / file://, s3://, az://, abfss://) plus the
// root as given (for messages). Every read and write of the table goes through the store with keys relative to
// the table root: `_delta_log/NNN.json`, and the URI-decoded add.path for data files.
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalStore, openStore, type ObjectStore, type OpenStoreOptions } from '@sluice/storage';
import { DeltaError } from './errors.ts';

export interface TableLocation {
  /** Store rooted at the table root. */
  readonly store: ObjectStore;
  /** The root as given (path or URL), for messages. */
  readonly root: string;
}

export interface StoreOptions {
  /** Use this store (rooted at the table) instead of opening one from the location (tests: endpoints, credentials). */
  store?: ObjectStore;
  /** Options for openStore(location) (S3 endpoint/region/credentials, Azure connection string...). */
  storeOptions?: OpenStoreOptions;
}

export type LocationInput = string | ObjectStore | TableLocation;

function isStore(x: unknown): x is ObjectStore {
  return typeof x === 'object' && x !== null && typeof (x as ObjectStore).get === 'function' && typeof (x as ObjectStore).putIfAbsent === 'function';
}

/** A local path, a store URL, a store, or an already resolved location → the table's location. */
export function resolveLocation(location: LocationInput, opts: StoreOptions = {}): TableLocation {
  if (isStore(location)) return { store: location, root: location.url };
  if (typeof location !== 'string') return location;
  return { store: opts.store ?? openStore(location, opts.storeOptions), root: location };
}

/** Legacy internal argument: a `<root>/_delta_log` directory path (tests), or a store rooted at the table. */
export function storeOfLogDir(logDirOrStore: string | ObjectStore): ObjectStore {
  return typeof logDirOrStore === 'string' ? new LocalStore(dirname(logDirOrStore)) : logDirOrStore;
}

export const LOG_PREFIX = '_delta_log/';

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function decodeUri(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not valid percent-encoding: some writers store raw paths
  }
}

/**
 * The identity of an add/remove `path` in a table: the object key (URI-decoded, relative to the table root) when
 * the file is inside the table, else its absolute URL (`file:///…`, `s3://…`), which always contains ':'.
 * `a%20b`, the raw `a b` and an absolute URI of the same file are one logical file.
 */
export function fileId(store: ObjectStore, uriPath: string): string {
  let abs: string;
  if (SCHEME_RE.test(uriPath)) {
    if (uriPath.startsWith('file:')) abs = pathToFileURL(fileURLToPath(new URL(uriPath))).href;
    else abs = uriPath.replace(/^s3a:/i, 's3:');
  } else {
    const decoded = decodeUri(uriPath);
    if (!decoded.startsWith('/') && !isAbsolute(decoded)) return decoded;
    abs = pathToFileURL(decoded).href;
  }
  if (store instanceof LocalStore && abs.startsWith('file:')) {
    const rel = relative(store.root, fileURLToPath(abs));
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
    return abs;
  }
  const base = store.url.endsWith('/') ? store.url : store.url + '/';
  if (abs.startsWith(base)) return decodeUri(abs.slice(base.length));
  return abs;
}

/** Whether a fileId is an absolute URL (a file outside the table root). */
export function isExternalId(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(id);
}

/** The bytes of a data file by its fileId (files outside the table are read through a store opened on their folder). */
export async function readDataObject(loc: TableLocation, id: string): Promise<Uint8Array> {
  let bytes: Uint8Array | null;
  if (isExternalId(id)) {
    const cut = id.lastIndexOf('/');
    const dir = id.slice(0, cut);
    const name = decodeUri(id.slice(cut + 1));
    bytes = await openStore(dir).get(name);
  } else {
    bytes = await loc.store.get(id);
  }
  if (!bytes) throw new DeltaError(`Delta table ${loc.root}: data file ${id} is missing`);
  return bytes;
}

export const utf8 = new TextDecoder('utf-8');
export const encodeUtf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** resolveLocation for a path/URL/store with default options. */
export const openLocation = (location: LocationInput): TableLocation => resolveLocation(location);
