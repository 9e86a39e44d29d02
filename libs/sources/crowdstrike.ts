// CrowdStrike Falcon Data Replicator (FDR): JSON lines (gzip files from the FDR S3 feed, or a stream), one event per
// line, every value a string. `event_simpleName` names the category (ProcessRollup2 → process, …); events without a
// table of their own go to `other`, and so do the secondary records that have no event_simpleName (aidmaster,
// managed assets). decode turns "1"/"0" of boolean columns into booleans and keeps undeclared fields in _rescued_data.
// Tables are imported by relative path until @sluice/tables exports them (the lead wires the index).
import { crowdstrikeCategoryOf, crowdstrikeTables, OTHER_EVENT_KEY, RESCUED_COLUMN } from '@sluice/tables/crowdstrike';
import type { StringMap } from '@sluice/tables';
import { isJsonObject, jsonKindOf, parseJsonObjectRecord } from './jsonRecords.ts';
import { RecordError, type Rejected, type Routed, type RouteResult, type SourceFamily } from './sourceFamily.ts';

const dec = new TextDecoder();

type FdrEvent = Record<string, unknown>;

const isObject = (v: unknown): v is FdrEvent => isJsonObject(v);

/** Category of one parsed FDR record (the record is a JSON object). */
export function fdrCategoryOf(event: FdrEvent): string {
  const n = event.event_simpleName;
  return typeof n === 'string' && n !== '' ? crowdstrikeCategoryOf(n) : 'other';
}

function route(records: Uint8Array[]): RouteResult {
  const routed: Routed[] = [];
  const rejected: Rejected[] = [];
  for (const raw of records) {
    const parsed = parseJsonObjectRecord(raw, 'an FDR event');
    if (!('value' in parsed)) {
      rejected.push(parsed);
      continue;
    }
    routed.push({ category: fdrCategoryOf(parsed.value), record: raw });
  }
  return { routed, rejected };
}

/** Per table: the top-level fields its columns read, and those typed boolean (FDR writes them "1"/"0"). */
const PLANS = new Map(
  Object.entries(crowdstrikeTables).map(([category, def]) => [
    category,
    {
      declared: new Set(def.columns.map((c) => c.from ?? c.name)),
      booleans: def.columns.filter((c) => c.type === 'boolean').map((c) => c.from ?? c.name),
    },
  ]),
);

const DECIMAL = /^\s*\d+(\.\d*)?\s*$/;

/** Secondary records (no event_simpleName) carry their time as `_time` (managed assets) or `Time` (aidmaster), epoch seconds. */
function secondaryTimestamp(event: FdrEvent): void {
  if (event.event_simpleName !== undefined || (event.timestamp !== undefined && event.timestamp !== '')) return;
  const t = typeof event._time === 'string' ? event._time : typeof event.Time === 'string' ? event.Time : undefined;
  if (t !== undefined && DECIMAL.test(t)) event.timestamp = String(Math.round(Number(t) * 1000));
}

/** The FDR event as the table reads it: booleans typed, undeclared fields in _rescued_data; `other` wraps the event. */
function decode(record: Uint8Array, category: string): unknown {
  let event: unknown;
  try {
    event = JSON.parse(dec.decode(record));
  } catch (e) {
    throw new RecordError('parse', `invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(event)) throw new RecordError('parse', `expected an FDR event (JSON object), got ${jsonKindOf(event)}`);
  if (category === 'other') {
    secondaryTimestamp(event);
    return { [OTHER_EVENT_KEY]: event };
  }
  const plan = PLANS.get(category);
  if (!plan) throw new RecordError('category', `no CrowdStrike table for category "${category}"`);
  for (const key of plan.booleans) {
    const v = event[key];
    if (v === '1') event[key] = true;
    else if (v === '0') event[key] = false;
  }
  // A null-prototype object: a "__proto__" field is then an ordinary key, not a prototype change.
  const rescued = Object.create(null) as StringMap;
  let any = false;
  for (const key of Object.keys(event)) {
    if (plan.declared.has(key)) continue;
    const v = event[key];
    rescued[key] = v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
    any = true;
  }
  event[RESCUED_COLUMN] = any ? rescued : null;
  return event;
}

export const crowdstrikeFamily: SourceFamily = {
  name: 'crowdstrike',
  title: 'CrowdStrike Falcon Data Replicator events (JSON lines, string values)',
  tables: crowdstrikeTables,
  route: (records) => route(records),
  decode: (record, category) => decode(record, category),
};
