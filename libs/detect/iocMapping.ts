// Detection rule 3 (IoC matching), the part between rows and the indicator index: which column of which table holds
// which IoC type (as data: adding a table is one line), matching a batch of rows, and the once-per-24h suppression
// of a (device, IoC type, IoC) with a caller-kept, JSON-serialisable state. Pure: no I/O.
import { createHash } from 'node:crypto';
import type { IocType } from '../tables/threatintel/iocTypes.ts';
import type { IocHit, IocIndex, RegisteredDomainOf } from './iocIndex.ts';

export const IOC_RULE = 'ioc_match';
export const DAY_MICROS = 86_400_000_000;

/** One line of the mapping: column `column` of table `table` holds values of IoC type `type`. */
export interface IocMappingEntry {
  table: string;
  column: string;
  type: IocType;
  /** Column(s) naming the entity (device, host, account); the first non-empty one wins. */
  device?: string | readonly string[];
  /** Event-time column (epoch µs); default: the `timeColumn` option of `matchRows`. */
  time?: string;
  /** For hostname/domain columns: also match `domain` indicators on the parents down to the registered domain. */
  alsoRegisteredDomain?: true;
  /** Compose the value from several columns, e.g. `http://{host}{uri}`; `column` stays the evidence column. */
  template?: string;
}

export type IocMapping = readonly IocMappingEntry[];

const DEF_TIME = 'Timestamp';
const DEF_DEVICE = ['DeviceName', 'DeviceId'] as const;
const def = (table: string, column: string, type: IocType, extra: Partial<IocMappingEntry> = {}): IocMappingEntry => ({
  table,
  column,
  type,
  device: DEF_DEVICE,
  time: DEF_TIME,
  ...extra,
});
const hashes = (table: string, prefix = ''): IocMappingEntry[] => [
  def(table, `${prefix}SHA1`, 'FileHash-SHA1'),
  def(table, `${prefix}SHA256`, 'FileHash-SHA256'),
  def(table, `${prefix}MD5`, 'FileHash-MD5'),
];
const CS_DEVICE = ['ComputerName', 'aid'] as const;
const cs = (table: string, column: string, type: IocType, extra: Partial<IocMappingEntry> = {}): IocMappingEntry => ({
  table,
  column,
  type,
  device: CS_DEVICE,
  time: 'timestamp',
  ...extra,
});
const csHashes = (table: string): IocMappingEntry[] => [
  cs(table, 'MD5HashData', 'FileHash-MD5'),
  cs(table, 'SHA1HashData', 'FileHash-SHA1'),
  cs(table, 'SHA256HashData', 'FileHash-SHA256'),
];
const zk = (table: string, column: string, type: IocType, extra: Partial<IocMappingEntry> = {}): IocMappingEntry => ({
  table,
  column,
  type,
  device: 'id_orig_h',
  time: 'ts',
  ...extra,
});
const win = (table: string, column: string, type: IocType, extra: Partial<IocMappingEntry> = {}): IocMappingEntry => ({
  table,
  column,
  type,
  device: 'host_name',
  time: 'event_time',
  ...extra,
});
const REG = { alsoRegisteredDomain: true } as const;

/**
 * The default mapping (column names as in docs/TABLES.md). IP columns are mapped as IPv4: the family is read from
 * each value, so one line covers a column that holds both (Defender RemoteIP).
 */
export const DEFAULT_IOC_MAPPING: IocMapping = [
  // Defender XDR
  ...hashes('defender_device_process_events'),
  ...hashes('defender_device_process_events', 'InitiatingProcess'),
  ...hashes('defender_device_file_events'),
  def('defender_device_file_events', 'FileOriginUrl', 'URL'),
  def('defender_device_file_events', 'FileOriginIP', 'IPv4'),
  ...hashes('defender_device_image_load_events'),
  def('defender_device_network_events', 'RemoteIP', 'IPv4'),
  def('defender_device_network_events', 'RemoteUrl', 'URL'),
  def('defender_device_network_events', 'RemoteUrl', 'hostname', REG),
  ...hashes('defender_device_events'),
  def('defender_device_events', 'RemoteIP', 'IPv4'),
  def('defender_device_events', 'RemoteUrl', 'URL'),
  def('defender_device_events', 'FileOriginUrl', 'URL'),
  def('defender_device_events', 'FileOriginIP', 'IPv4'),
  def('defender_email_events', 'SenderFromAddress', 'email', { device: 'RecipientEmailAddress' }),
  def('defender_email_events', 'SenderMailFromAddress', 'email', { device: 'RecipientEmailAddress' }),
  def('defender_email_events', 'SenderFromDomain', 'domain', { device: 'RecipientEmailAddress', ...REG }),
  def('defender_email_events', 'SenderIPv4', 'IPv4', { device: 'RecipientEmailAddress' }),
  def('defender_email_events', 'SenderIPv6', 'IPv6', { device: 'RecipientEmailAddress' }),
  def('defender_email_attachment_info', 'SHA256', 'FileHash-SHA256', { device: 'RecipientEmailAddress' }),
  def('defender_email_url_info', 'Url', 'URL', { device: 'NetworkMessageId' }),
  def('defender_url_click_events', 'Url', 'URL', { device: 'AccountUpn' }),
  // CrowdStrike Falcon Data Replicator
  ...csHashes('crowdstrike_process'),
  ...csHashes('crowdstrike_file_write'),
  cs('crowdstrike_dns_request', 'DomainName', 'hostname', REG),
  cs('crowdstrike_network_connect', 'RemoteAddressIP4', 'IPv4'),
  cs('crowdstrike_network_connect', 'RemoteAddressIP6', 'IPv6'),
  cs('crowdstrike_network_accept', 'RemoteAddressIP4', 'IPv4'),
  cs('crowdstrike_network_accept', 'RemoteAddressIP6', 'IPv6'),
  // Zeek (entity = the originator address)
  zk('zeek_conn', 'id_resp_h', 'IPv4'),
  zk('zeek_dns', 'query', 'hostname', REG),
  zk('zeek_http', 'host', 'hostname', REG),
  zk('zeek_http', 'uri', 'URL', { template: 'http://{host}{uri}' }),
  zk('zeek_ssl', 'server_name', 'hostname', REG),
  // AWS CloudTrail (entity = the caller)
  {
    table: 'cloudtrail',
    column: 'sourceIPAddress',
    type: 'IPv4',
    device: ['userIdentityArn', 'userIdentityPrincipalId', 'recipientAccountId'],
    time: 'eventTime',
  },
  // Windows / Sysmon
  win('process', 'hash_md5', 'FileHash-MD5'),
  win('process', 'hash_sha1', 'FileHash-SHA1'),
  win('process', 'hash_sha256', 'FileHash-SHA256'),
  win('network_connection', 'dst_ip', 'IPv4'),
  win('network_connection', 'dst_host_name', 'hostname', REG),
];

/** Once-per-24h suppression state, kept by the caller (one per partition) and snapshotted as JSON. */
export interface SuppressionState {
  version: 1;
  /** Key `device \0 type \0 ioc` → event time (µs) of the match that opened the current 24 h window. */
  entries: Record<string, number>;
  /** Highest event time seen (µs); with `now` it decides which entries have expired. */
  maxEventTime: number;
  /** Horizon of the last pruning pass. */
  prunedAt: number;
}

export function newSuppressionState(): SuppressionState {
  return { version: 1, entries: {}, maxEventTime: 0, prunedAt: 0 };
}

/** One alert-worthy match: a row whose mapped column matched one indicator value. */
export interface IocMatch {
  alertId: string;
  rule: string;
  table: string;
  column: string;
  rowIndex: number;
  device: string;
  /** IoC type and normalised value (the indicator key). */
  iocType: IocType;
  ioc: string;
  /** The value as the row held it (or as the template composed it). */
  observed: string;
  eventTime: number;
  /** Every feed row naming this IoC that is valid at the event time. */
  indicators: IocHit[];
}

export interface MatchOptions {
  registeredDomainOf?: RegisteredDomainOf;
  /** Event-time column of entries without `time`. */
  timeColumn?: string;
  /** Unit of numeric times in the rows; default µs (table rows). Arrow timestamp vectors give ms. */
  timeUnit?: 'us' | 'ms';
  /** Rule name in alert ids; default `ioc_match`. */
  rule?: string;
  /** Suppression entries live until 24 h + this after their window opened (late events); default 1 h. */
  suppressionLatenessMicros?: number;
}

export interface MatchResult {
  matches: IocMatch[];
  /** Matches inside an open 24 h window. */
  suppressed: number;
  /** Rows with no usable event time (matched at `now`). */
  noEventTime: number;
}

/**
 * Stable alert id: sha256 of (rule, device, IoC type, IoC, UTC day bucket of the first match) joined by NUL,
 * 32 hex digits (the same scheme as the detector's `alertId(rule, ...key)`).
 */
export function iocAlertId(rule: string, device: string, type: string, ioc: string, firstMatchMicros: number): string {
  const bucket = Math.floor(firstMatchMicros / DAY_MICROS);
  return createHash('sha256').update([rule, device, type, ioc, bucket].join('\u0000')).digest('hex').slice(0, 32);
}

const byTableCache = new WeakMap<IocMapping, Map<string, IocMappingEntry[]>>();

/** Entries of `mapping` for `table` (cached per mapping object). */
export function entriesFor(mapping: IocMapping, table: string): readonly IocMappingEntry[] {
  let by = byTableCache.get(mapping);
  if (!by) {
    by = new Map();
    for (const e of mapping) {
      const list = by.get(e.table);
      if (list) list.push(e);
      else by.set(e.table, [e]);
    }
    byTableCache.set(mapping, by);
  }
  return by.get(table) ?? [];
}

const TEMPLATE_FIELD = /\{([^}]+)\}/g;

function text(v: unknown): string | null {
  if (typeof v === 'string') return v === '' || v === '-' ? null : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

/** Cell of row r, column `col` (undefined when the batch has no such column). */
type Cells = (col: string, r: number) => unknown;

function valueOf(get: Cells, r: number, e: IocMappingEntry): string | null {
  if (e.template === undefined) return text(get(e.column, r));
  let missing = false;
  const out = e.template.replace(TEMPLATE_FIELD, (_m, col: string) => {
    const t = text(get(col, r));
    if (t === null) missing = true;
    return t ?? '';
  });
  return missing ? null : out;
}

function deviceOf(get: Cells, r: number, e: IocMappingEntry): string {
  const cols = e.device === undefined ? [] : typeof e.device === 'string' ? [e.device] : e.device;
  for (const c of cols) {
    const t = text(get(c, r));
    if (t !== null) return t;
  }
  return '';
}

function timeOf(v: unknown, unit: 'us' | 'ms'): number | null {
  const k = unit === 'ms' ? 1000 : 1;
  if (typeof v === 'number' && Number.isFinite(v)) return v * k;
  if (typeof v === 'bigint') return Number(v) * k;
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime() * 1000;
  return null;
}

function lookup(index: IocIndex, e: IocMappingEntry, value: string, t: number, now: number, o: MatchOptions): readonly IocHit[] {
  if (e.type === 'hostname' || e.type === 'domain') {
    return index.matchName(value, t, now, e.alsoRegisteredDomain ? o.registeredDomainOf : undefined);
  }
  return index.match(e.type, value, t, now);
}

/**
 * Decides whether a match at event time `t` for `key` alerts, updating `state`. Windows are 24 h from the match
 * that opened them: a match less than 24 h after (or, arriving late, before) the opening match is suppressed; the
 * first match at or after opening + 24 h opens the next window.
 */
export function admit(state: SuppressionState, key: string, t: number): { alert: boolean; opened: number } {
  const f = state.entries[key];
  if (f !== undefined && Math.abs(t - f) < DAY_MICROS) return { alert: false, opened: f };
  // A very late match (≥ 24 h before the open window) alerts on its own but does not move the window back.
  if (f === undefined || t > f) state.entries[key] = t;
  return { alert: true, opened: t };
}

/** Removes suppression entries whose window (plus lateness) ended before min(max event time, now). */
export function pruneSuppression(state: SuppressionState, now: number, latenessMicros = 3_600_000_000): number {
  const horizon = Math.min(state.maxEventTime, now);
  let removed = 0;
  for (const k of Object.keys(state.entries)) {
    if (state.entries[k]! + DAY_MICROS + latenessMicros <= horizon) {
      delete state.entries[k];
      removed++;
    }
  }
  state.prunedAt = horizon;
  return removed;
}

/**
 * Matches a batch of rows of `table` against the index. Returns the matches that alert (one per row, entry and
 * IoC), in row order; suppressed ones are counted. `state` is updated in place and pruned at most once per
 * minute of event time. Validity uses the row's event time; `now` (µs) ends open-ended indicators.
 */
export function matchRows(
  rows: readonly Record<string, unknown>[],
  table: string,
  mapping: IocMapping,
  index: IocIndex,
  now: number,
  state: SuppressionState,
  options: MatchOptions = {},
): MatchResult {
  return matchCells((col, r) => rows[r]![col], rows.length, table, mapping, index, now, state, options);
}

/** A column-oriented batch (the detector's `EventBatch` fits): every value of a column, or undefined. */
export interface ColumnBatch {
  readonly numRows: number;
  column(name: string): readonly unknown[] | undefined;
}

/** `matchRows` over a column-oriented batch. Arrow-backed batches give timestamps in ms: pass `timeUnit: 'ms'`. */
export function matchBatch(
  batch: ColumnBatch,
  table: string,
  mapping: IocMapping,
  index: IocIndex,
  now: number,
  state: SuppressionState,
  options: MatchOptions = {},
): MatchResult {
  const cols = new Map<string, readonly unknown[] | undefined>();
  const get: Cells = (col, r) => {
    let c = cols.get(col);
    if (c === undefined && !cols.has(col)) {
      c = batch.column(col);
      cols.set(col, c);
    }
    return c?.[r];
  };
  return matchCells(get, batch.numRows, table, mapping, index, now, state, options);
}

function matchCells(
  get: Cells,
  numRows: number,
  table: string,
  mapping: IocMapping,
  index: IocIndex,
  now: number,
  state: SuppressionState,
  options: MatchOptions,
): MatchResult {
  const entries = entriesFor(mapping, table);
  const res: MatchResult = { matches: [], suppressed: 0, noEventTime: 0 };
  if (entries.length === 0) return res;
  const rule = options.rule ?? IOC_RULE;
  const unit = options.timeUnit ?? 'us';
  // Every row moves event time forward (it drives suppression expiry), matched or not.
  const rowTimeCol = entries[0]!.time ?? options.timeColumn;
  for (let r = 0; r < numRows; r++) {
    const rowTime = rowTimeCol === undefined ? null : timeOf(get(rowTimeCol, r), unit);
    if (rowTime !== null && rowTime > state.maxEventTime) state.maxEventTime = rowTime;
    let timeCounted = false;
    for (const e of entries) {
      const value = valueOf(get, r, e);
      if (value === null) continue;
      const timeCol = e.time ?? options.timeColumn;
      let t = timeCol === rowTimeCol ? rowTime : timeCol === undefined ? null : timeOf(get(timeCol, r), unit);
      if (t === null) {
        if (!timeCounted) res.noEventTime++;
        timeCounted = true;
        t = now;
      }
      const hits = lookup(index, e, value, t, now, options);
      if (hits.length === 0) continue;
      const device = deviceOf(get, r, e);
      // Group the feed rows per IoC (the same value from several datasets is one match).
      const groups = new Map<string, IocHit[]>();
      for (const h of hits) {
        const k = `${h.type}\u0000${h.indicator}`;
        const g = groups.get(k);
        if (g) g.push(h);
        else groups.set(k, [h]);
      }
      for (const g of groups.values()) {
        const h0 = g[0]!;
        const { alert, opened } = admit(state, `${device}\u0000${h0.type}\u0000${h0.indicator}`, t);
        if (!alert) {
          res.suppressed++;
          continue;
        }
        res.matches.push({
          alertId: iocAlertId(rule, device, h0.type, h0.indicator, opened),
          rule,
          table,
          column: e.column,
          rowIndex: r,
          device,
          iocType: h0.type,
          ioc: h0.indicator,
          observed: value,
          eventTime: t,
          indicators: g,
        });
      }
    }
  }
  const horizon = Math.min(state.maxEventTime, now);
  if (horizon - state.prunedAt >= 60_000_000) pruneSuppression(state, now, options.suppressionLatenessMicros);
  return res;
}
