// Delta log actions (protocol, metaData, add, remove, txn, commitInfo): types and parsing from JSON lines.
// Parsing narrows unknown input and ignores action kinds we do not use, as the protocol requires.
import { DeltaLogError } from './errors.ts';
import { isObject, optNumber, optString, stringArray, stringMap, type JsonObject } from './jsonText.ts';

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Metadata {
  id: string;
  name?: string;
  description?: string;
  format: { provider: string; options: Record<string, string | null> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string | null>;
  createdTime?: number;
}

export interface AddFile {
  /** URI-encoded path, relative to the table root (or absolute), exactly as in the log. */
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON text of the per-file statistics. */
  stats?: string;
  tags?: Record<string, string | null>;
  /** Present only on tables with deletion vectors, which this library refuses to read. */
  deletionVector?: unknown;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number;
  dataChange: boolean;
  /** When true, partitionValues and size are present. */
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: JsonObject };

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new DeltaLogError(`malformed action: missing ${what}`);
  return v;
}

export function parseProtocol(o: JsonObject): Protocol {
  const p: Protocol = {
    minReaderVersion: need(optNumber(o, 'minReaderVersion'), 'protocol.minReaderVersion'),
    minWriterVersion: need(optNumber(o, 'minWriterVersion'), 'protocol.minWriterVersion'),
  };
  const rf = stringArray(o.readerFeatures);
  const wf = stringArray(o.writerFeatures);
  if (rf) p.readerFeatures = rf;
  if (wf) p.writerFeatures = wf;
  return p;
}

const EMPTY_SCHEMA = '{"type":"struct","fields":[]}';

export function parseMetadata(o: JsonObject): Metadata {
  const fmt = isObject(o.format) ? o.format : {};
  const m: Metadata = {
    id: need(optString(o, 'id'), 'metaData.id'),
    format: { provider: optString(fmt, 'provider') ?? 'parquet', options: stringMap(fmt.options) },
    // Required by the protocol, but some hand-made logs (Spark's own test tables) omit it: read such a table
    // as having no columns rather than refusing its log; writes then fail the schema check.
    schemaString: optString(o, 'schemaString') ?? EMPTY_SCHEMA,
    partitionColumns: stringArray(o.partitionColumns) ?? [],
    configuration: stringMap(o.configuration),
  };
  const name = optString(o, 'name');
  const description = optString(o, 'description');
  const createdTime = optNumber(o, 'createdTime');
  if (name !== undefined) m.name = name;
  if (description !== undefined) m.description = description;
  if (createdTime !== undefined) m.createdTime = createdTime;
  return m;
}

export function parseAdd(o: JsonObject): AddFile {
  const a: AddFile = {
    path: need(optString(o, 'path'), 'add.path'),
    partitionValues: stringMap(o.partitionValues),
    size: optNumber(o, 'size') ?? 0,
    modificationTime: optNumber(o, 'modificationTime') ?? 0,
    dataChange: o.dataChange !== false,
  };
  const stats = optString(o, 'stats');
  if (stats !== undefined) a.stats = stats;
  if (isObject(o.tags)) a.tags = stringMap(o.tags);
  if (o.deletionVector !== undefined && o.deletionVector !== null) a.deletionVector = o.deletionVector;
  return a;
}

export function parseRemove(o: JsonObject): RemoveFile {
  const r: RemoveFile = { path: need(optString(o, 'path'), 'remove.path'), dataChange: o.dataChange !== false };
  const ts = optNumber(o, 'deletionTimestamp');
  if (ts !== undefined) r.deletionTimestamp = ts;
  if (o.extendedFileMetadata === true) r.extendedFileMetadata = true;
  if (isObject(o.partitionValues)) r.partitionValues = stringMap(o.partitionValues);
  const size = optNumber(o, 'size');
  if (size !== undefined) r.size = size;
  return r;
}

export function parseTxn(o: JsonObject): Txn {
  const t: Txn = { appId: need(optString(o, 'appId'), 'txn.appId'), version: need(optNumber(o, 'version'), 'txn.version') };
  const lu = optNumber(o, 'lastUpdated');
  if (lu !== undefined) t.lastUpdated = lu;
  return t;
}

/** One action from a parsed log line or checkpoint row; null for kinds we ignore (cdc, domainMetadata...). */
export function parseAction(line: unknown): Action | null {
  if (!isObject(line)) throw new DeltaLogError('malformed log line: not a JSON object');
  if (isObject(line.add)) return { add: parseAdd(line.add) };
  if (isObject(line.remove)) return { remove: parseRemove(line.remove) };
  if (isObject(line.txn)) return { txn: parseTxn(line.txn) };
  if (isObject(line.metaData)) return { metaData: parseMetadata(line.metaData) };
  if (isObject(line.protocol)) return { protocol: parseProtocol(line.protocol) };
  if (isObject(line.commitInfo)) return { commitInfo: line.commitInfo };
  return null;
}

/** Parses a commit file (newline-delimited JSON). `where` names the file in errors. */
export function parseCommitText(text: string, where: string): Action[] {
  const out: Action[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new DeltaLogError(`${where}: invalid JSON line: ${(e as Error).message}`);
    }
    const a = parseAction(parsed);
    if (a) out.push(a);
  }
  return out;
}
