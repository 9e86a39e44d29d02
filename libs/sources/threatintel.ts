// Threat-intelligence feeds (AlienVault OTX, abuse.ch URLhaus and MalwareBazaar, MISP, STIX 2.1): route() explodes
// each feed container into one small normalised JSON object per indicator (category `ioc`, table `iocs`).
import { parseCsvLine } from '@sluice/formats';
import { IOC_CATEGORY, ipTypeOf, isIocType, normaliseIndicator, threatintelTables, type IocType } from '@sluice/tables/threatintel';
import { encodeJson, routeGuarded } from './jsonRecords.ts';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext, type Rejected, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';

type Json = Record<string, unknown>;
export type IocDataset = 'otx' | 'urlhaus' | 'malwarebazaar' | 'misp' | 'stix';

/** The routed record (and the `_raw` of its row): one indicator with the feed fields the `iocs` columns read. */
export interface IocRecord {
  indicator: string;
  /** An IocType, or the feed's own type name for indicators the table does not hold (routed to `_unknown`). */
  type: string;
  dataset: IocDataset;
  feed_type: string | null;
  first_seen: string | null;
  last_seen: string | null;
  confidence: unknown;
  tags: string[] | null;
  threat: string | null;
  event_name: string | null;
  event_id: string | null;
  indicator_id: string | null;
  description: string | null;
  reference: string | null;
  to_ids: boolean | null;
  attributes: Record<string, string>;
}

/** Fields every indicator of one container shares, and the per-indicator ones; the rest default to null. */
type IocFields = Partial<Omit<IocRecord, 'indicator' | 'type' | 'dataset' | 'feed_type'>>;

/** Containers nest at most this deep (`{"response":[{"Event":…}]}`, a bundle's objects); deeper input is rejected. */
const MAX_DEPTH = 4;

/** Accumulates one envelope's route result; rejected elements of a container are re-serialised on their own. */
class RouteOutput {
  /** When a feed gives no date at all (OTX indicator export lines), first_seen is the ingest time: known since then. */
  constructor(private readonly ingestTime: string | null = null) {}
  readonly routed: Routed[] = [];
  readonly rejected: Rejected[] = [];
  skipped = 0;
  private top: { value: unknown; raw: Uint8Array } | undefined;

  begin(value: unknown, raw: Uint8Array): void {
    this.top = { value, raw };
  }

  ioc(dataset: IocDataset, feedType: string | null, type: string, value: string, fields: IocFields): void {
    const supported = isIocType(type);
    const record: IocRecord = {
      indicator: supported ? normaliseIndicator(type, value) : value,
      type,
      dataset,
      feed_type: feedType,
      first_seen: fields.first_seen ?? this.ingestTime,
      last_seen: fields.last_seen ?? null,
      confidence: fields.confidence ?? null,
      tags: fields.tags && fields.tags.length > 0 ? fields.tags : null,
      threat: fields.threat ?? null,
      event_name: fields.event_name ?? null,
      event_id: fields.event_id ?? null,
      indicator_id: fields.indicator_id ?? null,
      description: fields.description ?? null,
      reference: fields.reference ?? null,
      to_ids: fields.to_ids ?? null,
      attributes: fields.attributes ?? {},
    };
    this.routed.push({ category: supported ? IOC_CATEGORY : UNKNOWN_CATEGORY, record: encodeJson(record) });
  }

  reject(value: unknown, rule: string, reason: string): void {
    const raw = this.top && value === this.top.value ? this.top.raw : encodeJson(value);
    this.rejected.push({ raw, rule, reason });
  }

  rejectRaw(raw: Uint8Array, rule: string, reason: string): void {
    this.rejected.push({ raw, rule, reason });
  }
}

// ---- value helpers ------------------------------------------------------------------------------------------------

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Non-empty text of a string or number, else null. */
function str(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** abuse.ch exports write missing values as `n/a` or `None`. */
function abuseStr(v: unknown): string | null {
  const s = str(v);
  return s === null || s === 'n/a' || s === 'None' || s === 'null' ? null : s;
}

function bool(v: unknown): boolean | null {
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  return null;
}

const EPOCH_DIGITS = /^\d{1,13}$/;

/**
 * A feed time as text the timestamp column accepts: epoch seconds (MISP, as number or digits; 13 digits = ms) become
 * ISO-8601, a trailing ` UTC` (abuse.ch) becomes `Z`. Anything else is passed on unchanged, so a bad value reaches
 * the table's coercion and is quarantined with the column named.
 */
function time(v: unknown): string | null {
  if (typeof v === 'number' || (typeof v === 'string' && EPOCH_DIGITS.test(v))) {
    const n = Number(v);
    if (!Number.isFinite(n)) return null;
    const ms = String(v).length >= 13 ? n : n * 1000;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? String(v) : d.toISOString();
  }
  const s = abuseStr(v)?.trim() ?? null;
  if (s === null) return null;
  return s.endsWith(' UTC') ? `${s.slice(0, -4)}Z` : s;
}

/** Distinct non-empty strings of the given lists (arrays of strings, or comma-separated text). */
function tagList(...lists: unknown[]): string[] {
  const out: string[] = [];
  for (const list of lists) {
    const items = Array.isArray(list) ? list : typeof list === 'string' ? list.split(',') : [];
    for (const item of items) {
      const t = typeof item === 'string' ? item.trim() : isObj(item) ? str(item.name ?? item.display_name) : null;
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** A string map of the scalar values given (nulls and empty strings left out). */
function attrs(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const s = typeof v === 'boolean' ? String(v) : str(v);
    if (s !== null) out[k] = s;
  }
  return out;
}

function keysOf(o: Json): string {
  const keys = Object.keys(o);
  return keys.length === 0 ? 'an empty object' : `keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}`;
}

// ---- AlienVault OTX -----------------------------------------------------------------------------------------------

interface OtxPulse {
  fields: IocFields;
  created: string | null;
}

function otxPulseOf(p: unknown): OtxPulse | null {
  let pulse = p;
  // The OTX integration of Elastic ships `pulse` as JSON text inside the indicator.
  if (typeof pulse === 'string') {
    try {
      pulse = JSON.parse(pulse) as unknown;
    } catch {
      return null;
    }
  }
  if (!isObj(pulse)) return null;
  const id = str(pulse.id);
  const families = tagList(pulse.malware_families);
  return {
    created: time(pulse.created) ?? time(pulse.modified),
    fields: {
      event_name: str(pulse.name),
      event_id: id,
      tags: tagList(pulse.tags),
      threat: families.length > 0 ? families.join(', ') : null,
      reference: id ? `https://otx.alienvault.com/pulse/${id}` : null,
      attributes: attrs({ author: pulse.author_name, tlp: pulse.tlp ?? pulse.TLP, adversary: pulse.adversary }),
    },
  };
}

function otxIndicator(ind: Json, pulse: OtxPulse | null, out: RouteOutput): void {
  const value = str(ind.indicator);
  const type = str(ind.type);
  if (value === null || type === null) {
    out.reject(ind, 'shape', 'OTX indicator without "indicator" and "type" text');
    return;
  }
  const p = pulse?.fields ?? {};
  // OTX type names are the table's; other OTX types (CVE, CIDR, FilePath, Mutex, YARA, …) go to `_unknown`.
  out.ioc('otx', type, type, value, {
    ...p,
    first_seen: time(ind.created) ?? pulse?.created ?? null,
    last_seen: time(ind.expiration),
    indicator_id: str(ind.id),
    description: str(ind.description) ?? str(ind.title),
    to_ids: bool(ind.is_active),
    attributes: { ...p.attributes, ...attrs({ title: ind.title, role: ind.role }) },
  });
}

function otxPulse(p: Json, indicators: unknown[], out: RouteOutput): void {
  const pulse = otxPulseOf(p);
  if (indicators.length === 0) out.skipped++;
  for (const ind of indicators) {
    if (isObj(ind)) otxIndicator(ind, pulse, out);
    else out.reject(ind, 'shape', 'OTX pulse indicator is not an object');
  }
}

// ---- MISP ---------------------------------------------------------------------------------------------------------

interface MispEvent {
  fields: IocFields;
  tags: string[];
  time: string | null;
}

/** MISP attribute types that describe an event rather than indicate compromise: skipped, not unrouted. */
const MISP_DESCRIPTIVE = new Set([
  'text',
  'comment',
  'other',
  'link',
  'attachment',
  'filename',
  'datetime',
  'size-in-bytes',
  'counter',
  'float',
  'boolean',
  'port',
  'hex',
]);

const MISP_HASH: Readonly<Record<string, IocType>> = { md5: 'FileHash-MD5', sha1: 'FileHash-SHA1', sha256: 'FileHash-SHA256' };

/** The indicators of one MISP attribute (`domain|ip` holds two), or null for a descriptive type. */
function mispIndicators(type: string, value: string): { type: string; value: string }[] | null {
  const bar = value.lastIndexOf('|');
  const before = bar < 0 ? value : value.slice(0, bar);
  const after = bar < 0 ? value : value.slice(bar + 1);
  if (Object.hasOwn(MISP_HASH, type)) return [{ type: MISP_HASH[type]!, value }];
  switch (type) {
    case 'filename|md5':
    case 'filename|sha1':
    case 'filename|sha256':
      return [{ type: MISP_HASH[type.slice(9)]!, value: after }];
    case 'malware-sample':
      return [{ type: 'FileHash-MD5', value: after }];
    case 'ip-dst':
    case 'ip-src':
      return [{ type: ipTypeOf(value.trim()), value }];
    case 'ip-dst|port':
    case 'ip-src|port':
      return [{ type: ipTypeOf(before.trim()), value: before }];
    case 'domain':
      return [{ type: 'domain', value }];
    case 'hostname':
      return [{ type: 'hostname', value }];
    case 'hostname|port':
      return [{ type: 'hostname', value: before }];
    case 'domain|ip':
      return [
        { type: 'domain', value: before },
        { type: ipTypeOf(after.trim()), value: after },
      ];
    case 'url':
      return [{ type: 'URL', value }];
    case 'email':
    case 'email-src':
    case 'email-dst':
    case 'email-reply-to':
      return [{ type: 'email', value }];
    default:
      return MISP_DESCRIPTIVE.has(type) ? null : [{ type, value }];
  }
}

function mispTags(v: unknown): string[] {
  return Array.isArray(v) ? tagList(v.filter(isObj).map((t) => t.name)) : [];
}

const CERTAINTY = /^osint:certainty="?(\d{1,3}(?:\.\d+)?)"?$/;

/** MISP has no confidence field; the `osint:certainty="93"` tag carries one. */
function certaintyOf(tags: string[]): number | null {
  for (const t of tags) {
    const m = CERTAINTY.exec(t);
    if (m) return Math.round(Number(m[1]));
  }
  return null;
}

function mispEventOf(ev: Json): MispEvent {
  const tags = mispTags(ev.Tag);
  const orgc = isObj(ev.Orgc) ? ev.Orgc.name : undefined;
  return {
    tags,
    time: time(ev.timestamp) ?? time(ev.date),
    fields: {
      event_name: str(ev.info),
      event_id: str(ev.uuid) ?? str(ev.id),
      attributes: attrs({ org: orgc, threat_level_id: ev.threat_level_id }),
    },
  };
}

function mispAttribute(a: unknown, ev: MispEvent | null, obj: Json | null, out: RouteOutput): void {
  if (!isObj(a)) {
    out.reject(a, 'shape', 'MISP attribute is not an object');
    return;
  }
  if (a.deleted === true) {
    out.skipped++;
    return;
  }
  const type = str(a.type);
  const value = typeof a.value === 'string' ? a.value : null;
  if (type === null || value === null) {
    out.reject(a, 'shape', 'MISP attribute without "type" and "value" text');
    return;
  }
  const found = mispIndicators(type, value);
  if (found === null) {
    out.skipped++;
    return;
  }
  const event = ev ?? (isObj(a.Event) ? mispEventOf(a.Event) : null);
  const attrTags = mispTags(a.Tag);
  const eventTags = event?.tags ?? [];
  const fileName = obj && Array.isArray(obj.Attribute) ? obj.Attribute.find((s) => isObj(s) && s.object_relation === 'filename') : undefined;
  const fields: IocFields = {
    ...event?.fields,
    first_seen: time(a.first_seen) ?? time(a.timestamp) ?? event?.time ?? null,
    last_seen: time(a.last_seen),
    confidence: certaintyOf(attrTags) ?? certaintyOf(eventTags),
    tags: tagList(eventTags, attrTags),
    indicator_id: str(a.uuid) ?? str(a.id),
    description: str(a.comment) ?? (obj ? str(obj.comment) : null),
    to_ids: bool(a.to_ids),
    attributes: {
      ...event?.fields.attributes,
      ...attrs({
        category: a.category,
        object: obj?.name,
        object_relation: a.object_relation,
        file_name: isObj(fileName) ? fileName.value : undefined,
      }),
    },
  };
  for (const f of found) out.ioc('misp', type, f.type, f.value, fields);
}

function mispEvent(ev: Json, out: RouteOutput): void {
  const event = mispEventOf(ev);
  const before = out.routed.length + out.rejected.length + out.skipped;
  if (Array.isArray(ev.Attribute)) for (const a of ev.Attribute) mispAttribute(a, event, null, out);
  if (Array.isArray(ev.Object)) {
    for (const o of ev.Object) {
      if (!isObj(o)) out.reject(o, 'shape', 'MISP object is not an object');
      else if (Array.isArray(o.Attribute)) for (const a of o.Attribute) mispAttribute(a, event, o, out);
    }
  }
  // An event without attributes (a header, or one not yet filled) carries no indicator.
  if (out.routed.length + out.rejected.length + out.skipped === before) out.skipped++;
}

// ---- STIX 2.1 -----------------------------------------------------------------------------------------------------

/**
 * `object:path = 'value'` comparisons of a STIX pattern (operators other than `=` are not indicators by value). The
 * lookbehind starts a match only at the start of a type name: without it a long run of name characters is rescanned
 * from every position (quadratic: a 40 KB hostile pattern took 15 s).
 */
const STIX_COMPARISON = /(?<![a-z0-9-])([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'/g;

function stixType(path: string, value: string): string {
  const hash = /^file:hashes\.'?([A-Za-z0-9-]+)'?$/.exec(path);
  if (hash) {
    const alg = hash[1]!.toUpperCase().replace('-', '');
    if (alg === 'MD5') return 'FileHash-MD5';
    if (alg === 'SHA1') return 'FileHash-SHA1';
    if (alg === 'SHA256') return 'FileHash-SHA256';
    return path;
  }
  switch (path) {
    case 'ipv4-addr:value':
      return value.includes('/') ? 'CIDR' : 'IPv4';
    case 'ipv6-addr:value':
      return value.includes('/') ? 'CIDR' : 'IPv6';
    case 'network-traffic:dst_ref.value':
    case 'network-traffic:src_ref.value':
      return ipTypeOf(value);
    case 'domain-name:value':
      return 'domain';
    case 'url:value':
      return 'URL';
    case 'email-addr:value':
    case 'email-message:from_ref.value':
    case 'email-message:sender_ref.value':
      return 'email';
    default:
      return path;
  }
}

function stixIndicator(o: Json, bundleId: string | null, out: RouteOutput): void {
  const pattern = typeof o.pattern === 'string' ? o.pattern : null;
  if (pattern === null) {
    out.reject(o, 'stix_pattern', 'STIX indicator without a "pattern"');
    return;
  }
  const patternType = str(o.pattern_type) ?? 'stix';
  const refs = Array.isArray(o.external_references) ? o.external_references.filter(isObj) : [];
  const fields: IocFields = {
    first_seen: time(o.valid_from) ?? time(o.created),
    last_seen: time(o.valid_until),
    confidence: o.confidence ?? null,
    tags: tagList(o.labels, o.indicator_types),
    event_name: str(o.name),
    event_id: bundleId,
    indicator_id: str(o.id),
    description: str(o.description),
    reference: refs.map((r) => str(r.url)).find((u) => u !== null) ?? null,
    attributes: attrs({ pattern, pattern_type: patternType }),
  };
  if (patternType !== 'stix') {
    // Sigma, YARA, Snort… patterns are rules, not values to match: kept in `_unknown`.
    out.ioc('stix', patternType, patternType, pattern, fields);
    return;
  }
  let n = 0;
  for (const m of pattern.matchAll(STIX_COMPARISON)) {
    const path = `${m[1]}:${m[2]}`;
    const value = m[3]!.replace(/\\(.)/g, '$1');
    out.ioc('stix', path, stixType(path, value), value, fields);
    n++;
  }
  if (n === 0) out.reject(o, 'stix_pattern', `STIX pattern has no "object:path = 'value'" comparison: ${pattern.slice(0, 200)}`);
}

function stixObjects(objects: unknown[], bundleId: string | null, out: RouteOutput): void {
  for (const obj of objects) {
    if (!isObj(obj)) out.reject(obj, 'shape', 'STIX bundle object is not an object');
    else if (obj.type === 'indicator') stixIndicator(obj, bundleId, out);
    else out.skipped++; // malware, report, relationship, identity…: context, not indicators
  }
}

// ---- abuse.ch URLhaus and MalwareBazaar --------------------------------------------------------------------------

function urlhaus(o: Json, id: string | null, out: RouteOutput): void {
  const url = abuseStr(o.url);
  if (url === null) {
    out.reject(o, 'shape', 'URLhaus record without "url"');
    return;
  }
  const status = abuseStr(o.url_status);
  out.ioc('urlhaus', 'url', 'URL', url, {
    first_seen: time(o.dateadded ?? o.date_added),
    // last_online of a URL that is still online is only the latest check: the indicator stays valid.
    last_seen: status !== null && status !== 'online' ? time(o.last_online) : null,
    tags: tagList(o.tags),
    threat: abuseStr(o.threat),
    indicator_id: abuseStr(o.id) ?? id,
    reference: abuseStr(o.urlhaus_link) ?? abuseStr(o.urlhaus_reference),
    attributes: attrs({ url_status: status, reporter: abuseStr(o.reporter), host: abuseStr(o.host), larted: o.larted }),
  });
}

const BAZAAR_HASHES: readonly [string, IocType][] = [
  ['md5_hash', 'FileHash-MD5'],
  ['sha1_hash', 'FileHash-SHA1'],
  ['sha256_hash', 'FileHash-SHA256'],
];

function bazaar(o: Json, out: RouteOutput): void {
  const sha256 = abuseStr(o.sha256_hash);
  const fields: IocFields = {
    first_seen: time(o.first_seen ?? o.first_seen_utc),
    last_seen: time(o.last_seen),
    tags: tagList(o.tags),
    threat: abuseStr(o.signature),
    indicator_id: sha256,
    reference: sha256 ? `https://bazaar.abuse.ch/sample/${sha256}/` : null,
    attributes: attrs({
      file_name: abuseStr(o.file_name),
      file_type: abuseStr(o.file_type ?? o.file_type_guess),
      mime_type: abuseStr(o.file_type_mime ?? o.mime_type),
      file_size: o.file_size,
      reporter: abuseStr(o.reporter),
      origin_country: abuseStr(o.origin_country),
      imphash: abuseStr(o.imphash),
      clamav: abuseStr(o.clamav),
    }),
  };
  let n = 0;
  for (const [key, type] of BAZAAR_HASHES) {
    const h = abuseStr(o[key]);
    if (h === null) continue;
    out.ioc('malwarebazaar', key, type, h, fields);
    n++;
  }
  if (n === 0) out.reject(o, 'shape', 'MalwareBazaar record without md5_hash, sha1_hash or sha256_hash');
}

/** The URLhaus JSON dump: `{"<id>":[{dateadded, url, …}], …}`. */
function isUrlhausDump(o: Json): boolean {
  const values = Object.values(o);
  return values.length > 0 && values.every((v) => Array.isArray(v) && v.length > 0 && v.every((e) => isObj(e) && typeof e.url === 'string'));
}

// ---- shape dispatch -----------------------------------------------------------------------------------------------

/** Recognises the feed of one JSON value by its shape and emits its indicators. */
function extract(value: unknown, out: RouteOutput, depth: number): void {
  if (depth > MAX_DEPTH) {
    out.reject(value, 'shape', `containers nested deeper than ${MAX_DEPTH} levels`);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) extract(v, out, depth + 1);
    return;
  }
  if (!isObj(value)) {
    out.reject(value, 'shape', `expected a threat-intel JSON object, got ${value === null ? 'null' : typeof value}`);
    return;
  }
  const o = value;
  // STIX 2.1: bundles, TAXII envelopes ({"objects":[…]}), single objects.
  if (Array.isArray(o.objects) && (o.type === 'bundle' || o.type === undefined)) return stixObjects(o.objects, str(o.id), out);
  if (o.type === 'indicator' && 'pattern' in o) return stixIndicator(o, null, out);
  if (typeof o.type === 'string' && typeof o.id === 'string' && o.id.startsWith(`${o.type}--`)) {
    out.skipped++;
    return;
  }
  // MISP: {"Event":…}, bare events, REST search responses, single attributes.
  if (isObj(o.Event) && !('value' in o)) return mispEvent(o.Event, out);
  if (Array.isArray(o.response)) return extract(o.response, out, depth + 1);
  if (isObj(o.response) && Array.isArray(o.response.Attribute)) {
    for (const a of o.response.Attribute) mispAttribute(a, null, null, out);
    return;
  }
  if (Array.isArray(o.Attribute) || Array.isArray(o.Object) || (typeof o.info === 'string' && ('threat_level_id' in o || 'analysis' in o))) {
    return mispEvent(o, out);
  }
  if (typeof o.value === 'string' && typeof o.type === 'string' && ('category' in o || 'to_ids' in o)) return mispAttribute(o, null, null, out);
  // AlienVault OTX: pulses, export pages ({"results":[pulse…]}), single indicators.
  if (Array.isArray(o.indicators)) return otxPulse(o, o.indicators, out);
  if (Array.isArray(o.results)) return extract(o.results, out, depth + 1);
  if (typeof o.indicator === 'string' && typeof o.type === 'string') return otxIndicator(o, otxPulseOf(o.pulse), out);
  // abuse.ch: MalwareBazaar samples, URLhaus URLs, API answers ({"query_status":…, "data"|"urls":[…]}).
  if ('sha256_hash' in o || 'md5_hash' in o || 'sha1_hash' in o) return bazaar(o, out);
  if (typeof o.url === 'string' && ['url_status', 'urlhaus_link', 'urlhaus_reference', 'dateadded', 'date_added'].some((k) => k in o)) {
    return urlhaus(o, null, out);
  }
  if (typeof o.query_status === 'string') {
    const items = Array.isArray(o.data) ? o.data : Array.isArray(o.urls) ? o.urls : null;
    if (items) return extract(items, out, depth + 1);
    if (o.query_status === 'ok' || o.query_status === 'no_results') {
      out.skipped++;
      return;
    }
    out.reject(o, 'shape', `abuse.ch API answered query_status "${o.query_status}"`);
    return;
  }
  if (isUrlhausDump(o)) {
    for (const [id, entries] of Object.entries(o)) for (const e of entries as Json[]) urlhaus(e, id, out);
    return;
  }
  out.reject(o, 'shape', `not a recognised threat-intel record (OTX, URLhaus, MalwareBazaar, MISP or STIX): ${keysOf(o)}`);
}

// ---- CSV exports (abuse.ch) ---------------------------------------------------------------------------------------

type CsvFeed = 'urlhaus' | 'malwarebazaar';

interface CsvHeader {
  feed: CsvFeed;
  names: string[];
}

const DEFAULT_COLUMNS: Readonly<Record<CsvFeed, string[]>> = {
  urlhaus: ['id', 'dateadded', 'url', 'url_status', 'last_online', 'threat', 'tags', 'urlhaus_link', 'reporter'],
  malwarebazaar: [
    'first_seen_utc',
    'sha256_hash',
    'md5_hash',
    'sha1_hash',
    'reporter',
    'file_name',
    'file_type_guess',
    'mime_type',
    'signature',
    'clamav',
    'vtpercent',
    'imphash',
    'ssdeep',
    'tlsh',
  ],
};

/** The column header among the file's `#` lines (`# id,dateadded,url,…` or `# "first_seen_utc","sha256_hash",…`). */
function csvHeaderOf(preamble: readonly string[]): CsvHeader | null {
  for (let i = preamble.length - 1; i >= 0; i--) {
    const parsed = parseCsvLine(preamble[i]!.replace(/^#\s*/, ''));
    if (!parsed.ok || parsed.fields.length < 3) continue;
    const names = parsed.fields.map((f) => f.trim().toLowerCase());
    if (names.includes('url') && names.includes('dateadded')) return { feed: 'urlhaus', names };
    if (names.includes('sha256_hash')) return { feed: 'malwarebazaar', names };
  }
  return null;
}

/** Without a header, a row of the documented export layout is recognised by its width and a key column. */
function guessCsvFeed(fields: string[]): CsvHeader | null {
  if (fields.length === 9 && /^https?:\/\//i.test(fields[2]!.trim())) return { feed: 'urlhaus', names: DEFAULT_COLUMNS.urlhaus };
  if (fields.length === 14 && /^[0-9a-f]{64}$/i.test(fields[1]!.trim())) return { feed: 'malwarebazaar', names: DEFAULT_COLUMNS.malwarebazaar };
  return null;
}

function csvRow(line: string, raw: Uint8Array, header: CsvHeader | null, out: RouteOutput): void {
  const parsed = parseCsvLine(line);
  if (!parsed.ok) {
    out.rejectRaw(raw, 'csv', `CSV: ${parsed.reason}`);
    return;
  }
  const h = header ?? guessCsvFeed(parsed.fields);
  if (h === null) {
    out.rejectRaw(raw, 'csv', 'CSV row of an unknown feed: no URLhaus (`# id,dateadded,url,…`) or MalwareBazaar (`# "first_seen_utc","sha256_hash",…`) header in the file preamble');
    return;
  }
  if (parsed.fields.length !== h.names.length) {
    out.rejectRaw(raw, 'csv', `${h.feed} CSV row has ${parsed.fields.length} fields, the header names ${h.names.length}`);
    return;
  }
  const o: Json = {};
  h.names.forEach((name, i) => {
    o[name] = parsed.fields[i]!.trim();
  });
  out.begin(o, raw);
  if (h.feed === 'urlhaus') urlhaus(o, null, out);
  else bazaar(o, out);
}

// ---- the family ---------------------------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function routeThreatIntel(records: Uint8Array[], ctx: RecordContext): RouteResult {
  const out = new RouteOutput(ctx.ingestTime || null);
  let header: CsvHeader | null | undefined;
  for (const raw of records) {
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      out.rejectRaw(raw, 'parse', 'invalid UTF-8');
      continue;
    }
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      out.skipped++; // blank or comment line that reached the splitter
      continue;
    }
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      let value: unknown;
      try {
        value = JSON.parse(trimmed) as unknown;
      } catch (e) {
        out.rejectRaw(raw, 'parse', `invalid JSON: ${(e as Error).message}`);
        continue;
      }
      routeGuarded(raw, out, () => {
        const before = out.routed.length + out.rejected.length + out.skipped;
        out.begin(value, raw);
        extract(value, out, 0);
        // An empty feed document (`[]`, `{"results":[]}`) carries no indicator: counted as skipped, not lost.
        if (out.routed.length + out.rejected.length + out.skipped === before) out.skipped++;
      });
      continue;
    }
    if (header === undefined) header = csvHeaderOf(ctx.preamble);
    const h = header;
    routeGuarded(raw, out, () => csvRow(text, raw, h, out));
  }
  return { routed: out.routed, rejected: out.rejected, skipped: out.skipped };
}

const textDecoder = new TextDecoder();

export const threatintelFamily: SourceFamily = {
  name: 'threatintel',
  title: 'Threat-intelligence feeds: AlienVault OTX, abuse.ch URLhaus and MalwareBazaar, MISP events, STIX 2.1 bundles',
  tables: threatintelTables,
  // abuse.ch CSV exports open with `#` comment lines, one of them the column header.
  isPreamble: (line) => line.startsWith('#'),
  route: routeThreatIntel,
  decode: (record) => {
    let value: unknown;
    try {
      value = JSON.parse(textDecoder.decode(record)) as unknown;
    } catch (e) {
      throw new RecordError('parse', `invalid JSON: ${(e as Error).message}`);
    }
    if (!isObj(value)) throw new RecordError('parse', 'routed indicator is not a JSON object');
    return value;
  },
};
