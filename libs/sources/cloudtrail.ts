// AWS CloudTrail: gzip JSON log files `{"Records":[...]}` on S3 (the collector frames one record per element; a line
// may still hold a whole document, exploded here), bare records one per line, or CloudWatch Logs subscription
// batches. Digest files (`digestStartTime`, `logFiles`) are integrity proofs, not events: skipped.
// decode keeps every record's unknown fields in `_rescued_data` instead of dropping them.
import { parseTimestampMicros } from '@sluice/tables';
import { CLOUDTRAIL_CATEGORY, cloudtrailTables, cloudtrail as cloudtrailTable } from '@sluice/tables/cloudtrail';
import type { ColumnDef, ColumnType } from '@sluice/tables';
import { encodeJson, recordsArrayOf, routeGuarded } from './jsonRecords.ts';
import { RecordError, type Rejected, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';
import { cloudWatchMessages, rejectCloudWatchEvents } from './vpcflow.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();
const RESCUED = '_rescued_data';

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A CloudTrail digest file body: hashes of the log files of an hour, no events. */
export function isDigest(v: JsonObject): boolean {
  return typeof v.digestStartTime === 'string' && ('logFiles' in v || 'digestEndTime' in v);
}

function parse(raw: Uint8Array): { value: unknown } | { rule: string; reason: string } {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { rule: 'encoding', reason: 'CloudTrail record is not valid UTF-8' };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    return { rule: 'parse', reason: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

type Out = { routed: Routed[]; rejected: Rejected[]; skipped: number };

/** Routes one parsed value: a container is exploded (elements re-serialised), a single event keeps its bytes. */
function routeValue(value: unknown, raw: Uint8Array, out: Out): void {
  if (!isObject(value)) {
    out.rejected.push({ raw, rule: 'not_object', reason: `CloudTrail record is not a JSON object (got ${Array.isArray(value) ? 'array' : typeof value})` });
    return;
  }
  const items = recordsArrayOf(value);
  if (items) {
    // An empty log file carries no event: counted as skipped, not lost without trace.
    if (items.length === 0) out.skipped++;
    for (const item of items) {
      const bytes = encodeJson(item);
      if (isObject(item)) out.routed.push({ category: CLOUDTRAIL_CATEGORY, record: bytes });
      else out.rejected.push({ raw: bytes, rule: 'not_object', reason: 'element of Records is not a JSON object' });
    }
    return;
  }
  if (isDigest(value)) {
    out.skipped++;
    return;
  }
  const messages = cloudWatchMessages(value);
  if (messages === 'control') {
    out.skipped++;
    return;
  }
  if (messages) {
    // CloudTrail → CloudWatch Logs: each message is one event's JSON text.
    for (const m of messages.messages) {
      const bytes = enc.encode(m);
      const p = parse(bytes);
      if ('value' in p) routeValue(p.value, bytes, out);
      else out.rejected.push({ raw: bytes, ...p });
    }
    rejectCloudWatchEvents(messages, out);
    return;
  }
  out.routed.push({ category: CLOUDTRAIL_CATEGORY, record: raw });
}

// ---- decode: rescued data ----

/** Known child keys per flattened object path ('' = the record), derived from the table's column paths. */
function knownKeysOf(columns: readonly ColumnDef[]): Map<string, Set<string>> {
  const known = new Map<string, Set<string>>();
  for (const c of columns) {
    if (c.name === RESCUED) continue;
    const segs = (c.from ?? c.name).split('.');
    for (let i = 0; i < segs.length; i++) {
      const prefix = segs.slice(0, i).join('.');
      let set = known.get(prefix);
      if (!set) known.set(prefix, (set = new Set()));
      set.add(segs[i]!);
    }
  }
  return known;
}

const KNOWN = knownKeysOf(cloudtrailTable.columns);
/** Typed columns whose source values are checked (json accepts anything; eventTime must stay to be quarantined). */
const CHECKED = cloudtrailTable.columns
  .filter((c) => c.type !== 'json' && c.name !== cloudtrailTable.eventTime && c.name !== RESCUED)
  .map((c) => ({ type: c.type, path: (c.from ?? c.name).split('.') }));

const COMPACT_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function fits(type: ColumnType, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    case 'boolean':
      return typeof v === 'boolean' || (typeof v === 'string' && /^(true|false)$/i.test(v));
    case 'timestamp':
      return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && parseTimestampMicros(v) !== null);
    case 'map':
      return isObject(v);
    default:
      return true;
  }
}

function rescue(rescued: JsonObject, key: string, value: unknown): void {
  // "__proto__" from JSON.parse is an own key: define it rather than set the prototype.
  Object.defineProperty(rescued, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Moves what the table cannot hold into `_rescued_data` (keyed by dotted path): top-level and flattened-object keys
 * the table does not declare, a flattened object that is not an object, values whose type does not fit their column
 * (an object where a string is expected, `"yes"` for a boolean…). The record is changed in place.
 */
function rescueUnknown(record: JsonObject): void {
  const rescued: JsonObject = {};
  for (const [prefix, keys] of KNOWN) {
    const path = prefix === '' ? [] : prefix.split('.');
    let parent: unknown = record;
    for (let i = 0; i < path.length - 1 && isObject(parent); i++) parent = parent[path[i]!];
    const leaf = path[path.length - 1];
    const obj = leaf === undefined ? record : isObject(parent) && Object.hasOwn(parent, leaf) ? parent[leaf] : undefined;
    if (obj === undefined || obj === null) continue;
    if (!isObject(obj)) {
      rescue(rescued, prefix, obj);
      (parent as JsonObject)[leaf!] = null;
      continue;
    }
    for (const k of Object.keys(obj)) {
      if (!keys.has(k)) rescue(rescued, prefix === '' ? k : `${prefix}.${k}`, obj[k]);
    }
  }
  for (const { type, path } of CHECKED) {
    let parent: unknown = record;
    for (let i = 0; i < path.length - 1 && isObject(parent); i++) parent = parent[path[i]!];
    const leaf = path[path.length - 1]!;
    if (!isObject(parent) || !Object.hasOwn(parent, leaf)) continue;
    let v = parent[leaf];
    if (v === null || v === undefined || v === '') continue;
    if (type === 'timestamp' && typeof v === 'string') {
      // Some producers write session creation dates in the compact ISO form 20131102T010628Z.
      const m = COMPACT_TIME.exec(v);
      if (m) parent[leaf] = v = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
    }
    if (!fits(type, v)) {
      rescue(rescued, path.join('.'), v);
      parent[leaf] = null;
    }
  }
  if (Object.keys(rescued).length > 0) record[RESCUED] = rescued;
  else delete record[RESCUED];
}

/**
 * One routed CloudTrail record → the object the `cloudtrail` columns read: the parsed event with `_rescued_data`
 * added. A record re-shipped through Logstash (eventTime replaced by `@timestamp`) takes its event time from
 * `@timestamp`. Throws RecordError for invalid UTF-8 / JSON, non-objects and undecoded containers.
 */
export function decodeCloudTrailRecord(record: Uint8Array): JsonObject {
  const p = parse(record);
  if (!('value' in p)) throw new RecordError(p.rule, p.reason);
  const v = p.value;
  if (!isObject(v)) throw new RecordError('not_object', 'CloudTrail record is not a JSON object');
  if (recordsArrayOf(v)) throw new RecordError('container', 'a {"Records":[...]} document reached the parser unsplit');
  if ((v.eventTime === undefined || v.eventTime === null) && typeof v['@timestamp'] === 'string') v.eventTime = v['@timestamp'];
  rescueUnknown(v);
  return v;
}

export const cloudtrailFamily: SourceFamily = {
  name: 'cloudtrail',
  title: 'AWS CloudTrail log files ({"Records":[...]} JSON, gzip on S3) and single CloudTrail events',
  tables: cloudtrailTables,
  route(records): RouteResult {
    const out: Out = { routed: [], rejected: [], skipped: 0 };
    for (const raw of records) {
      routeGuarded(raw, out, () => {
        const p = parse(raw);
        if ('value' in p) routeValue(p.value, raw, out);
        else out.rejected.push({ raw, ...p });
      });
    }
    return out;
  },
  decode(record) {
    try {
      return decodeCloudTrailRecord(record);
    } catch (e) {
      if (e instanceof RecordError) throw e;
      throw new RecordError('decode', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
};
