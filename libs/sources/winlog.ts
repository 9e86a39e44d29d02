// Windows event logs shipped by winlogbeat (JSON lines, e.g. through Kafka), three layouts normalised to one shape:
//   winlogbeat 6.x: top-level event_id, log_name, source_name, computer_name, record_number, event_data, user;
//   winlogbeat 7.x/8.x: winlog.{event_id, channel, provider_name, computer_name, record_id, event_data, user},
//     event.code, host.name (7.x's sysmon module moves some event_data fields to ECS: read back as fallbacks);
//   flat (Logstash-flattened, e.g. Mordor 2020): EventID, Channel, SourceName, Hostname, event data at top level.
// route: every record → `winlog`; Sysmon 1/5/18 also → `process`, Sysmon 3 also → `network_connection` (same bytes).
// decode: the normalised object whose keys are the columns of the category's table.
import { NETWORK_EVENT_IDS, PROCESS_EVENT_IDS, winlogTables } from '@sluice/tables/winlog';
import { isJsonObject, jsonKindOf, parseJsonObjectRecord } from './jsonRecords.ts';
import { RecordError, UNKNOWN_CATEGORY, type Rejected, type Routed, type RouteResult, type SourceFamily } from './sourceFamily.ts';

type Obj = Record<string, unknown>;
type Layout = 'winlogbeat6' | 'winlogbeat7' | 'flat';

const isObject = (v: unknown): v is Obj => isJsonObject(v);

function obj(v: unknown): Obj | undefined {
  return isObject(v) ? v : undefined;
}

/** A scalar as text; objects and arrays are not text. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function first(...vs: unknown[]): unknown {
  for (const v of vs) if (v !== undefined && v !== null && v !== '') return v;
  return undefined;
}

/** The parts of a Windows event every layout has, under one set of names. */
export interface WinlogHeader {
  layout: Layout;
  timestamp: unknown;
  /** Event id as a number when it is one (winlogbeat 8 writes it as text). */
  eventId: number | undefined;
  rawEventId: unknown;
  channel: string | undefined;
  provider: string | undefined;
  computer: string | undefined;
  recordId: unknown;
  eventData: Obj;
  /** The account the event was logged under (winlogbeat `user` / `winlog.user`). */
  user: Obj | undefined;
  level: unknown;
  task: unknown;
  opcode: unknown;
  version: unknown;
  providerGuid: unknown;
  processId: unknown;
  threadId: unknown;
  agentVersion: unknown;
}

/** Top-level keys of a flattened record that are header, not event data. */
const FLAT_HEADER = new Set([
  '@timestamp', '@version', '@metadata', 'TimeCreated', 'EventID', 'EventRecordID', 'RecordNumber', 'Channel', 'SourceName',
  'ProviderName', 'ProviderGuid', 'Hostname', 'Computer', 'Level', 'Task', 'Opcode', 'Keywords', 'Version', 'Message',
  'ExecutionProcessID', 'ExecutionThreadID', 'host', 'port', 'tags', 'type', 'beat', 'agent', 'ecs', 'log',
]);

function eventIdOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*\d{1,9}\s*$/.test(v)) return Number(v);
  return undefined;
}

/** The header of a winlogbeat record, or undefined when the object is in none of the known layouts. */
export function winlogHeaderOf(o: Obj): WinlogHeader | undefined {
  const w = obj(o.winlog);
  if (w) {
    const event = obj(o.event);
    const rawEventId = first(w.event_id, event?.code);
    const proc = obj(w.process);
    return {
      layout: 'winlogbeat7',
      timestamp: o['@timestamp'],
      eventId: eventIdOf(rawEventId),
      rawEventId,
      channel: text(w.channel),
      provider: text(first(w.provider_name, event?.provider)),
      computer: text(first(w.computer_name, obj(o.host)?.name)),
      recordId: w.record_id,
      eventData: obj(w.event_data) ?? obj(w.user_data) ?? {},
      user: obj(w.user),
      level: first(obj(o.log)?.level, w.level),
      task: w.task,
      opcode: w.opcode,
      version: w.version,
      providerGuid: w.provider_guid,
      processId: proc?.pid,
      threadId: obj(proc?.thread)?.id,
      agentVersion: first(obj(o.agent)?.version, obj(o['@metadata'])?.version),
    };
  }
  if (o.event_id !== undefined && (o.log_name !== undefined || o.source_name !== undefined || o.event_data !== undefined)) {
    return {
      layout: 'winlogbeat6',
      timestamp: o['@timestamp'],
      eventId: eventIdOf(o.event_id),
      rawEventId: o.event_id,
      channel: text(o.log_name),
      provider: text(o.source_name),
      computer: text(o.computer_name),
      recordId: o.record_number,
      eventData: obj(o.event_data) ?? obj(o.user_data) ?? {},
      user: obj(o.user),
      level: o.level,
      task: o.task,
      opcode: o.opcode,
      version: o.version,
      providerGuid: o.provider_guid,
      processId: o.process_id,
      threadId: o.thread_id,
      agentVersion: first(obj(o.beat)?.version, obj(o['@metadata'])?.version),
    };
  }
  if (o.EventID !== undefined && (o.Channel !== undefined || o.SourceName !== undefined)) {
    const eventData: Obj = {};
    for (const k of Object.keys(o)) {
      if (FLAT_HEADER.has(k)) continue;
      if (k === '__proto__') Object.defineProperty(eventData, k, { value: o[k], enumerable: true, writable: true, configurable: true });
      else eventData[k] = o[k];
    }
    return {
      layout: 'flat',
      timestamp: first(o['@timestamp'], o.TimeCreated),
      eventId: eventIdOf(o.EventID),
      rawEventId: o.EventID,
      channel: text(o.Channel),
      provider: text(first(o.SourceName, o.ProviderName)),
      computer: text(first(o.Hostname, o.Computer)),
      recordId: first(o.EventRecordID, o.RecordNumber),
      eventData,
      user: undefined,
      level: o.Level,
      task: o.Task,
      opcode: o.Opcode,
      version: o.Version,
      providerGuid: o.ProviderGuid,
      processId: o.ExecutionProcessID,
      threadId: o.ExecutionThreadID,
      agentVersion: undefined,
    };
  }
  return undefined;
}

const SYSMON_CHANNEL = 'microsoft-windows-sysmon/operational';
const SYSMON_PROVIDER = 'microsoft-windows-sysmon';

const CHANNEL_TYPES: ReadonlyMap<string, string> = new Map([
  [SYSMON_CHANNEL, 'sysmon'],
  ['security', 'security'],
  ['system', 'system'],
  ['application', 'application'],
  ['windows powershell', 'powershell'],
  ['microsoft-windows-powershell/operational', 'powershell'],
  ['powershellcore/operational', 'powershell'],
  ['microsoft-windows-wmi-activity/operational', 'wmi'],
  ['microsoft-windows-windows defender/operational', 'defender'],
]);

const PROVIDER_TYPES: ReadonlyMap<string, string> = new Map([
  [SYSMON_PROVIDER, 'sysmon'],
  ['microsoft-windows-security-auditing', 'security'],
  ['powershell', 'powershell'],
  ['microsoft-windows-powershell', 'powershell'],
  ['microsoft-windows-wmi-activity', 'wmi'],
  ['microsoft-windows-windows defender', 'defender'],
]);

/** Channel family for partitioning: by channel, else by provider (ForwardedEvents and custom channels), else `other`. */
export function sourceTypeOf(channel: string | undefined, provider: string | undefined): string {
  return CHANNEL_TYPES.get(channel?.toLowerCase() ?? '') ?? PROVIDER_TYPES.get(provider?.toLowerCase() ?? '') ?? 'other';
}

function isSysmon(h: WinlogHeader): boolean {
  return h.channel?.toLowerCase() === SYSMON_CHANNEL || h.provider?.toLowerCase() === SYSMON_PROVIDER;
}

const PROCESS_IDS: ReadonlySet<number> = new Set(PROCESS_EVENT_IDS);
const NETWORK_IDS: ReadonlySet<number> = new Set(NETWORK_EVENT_IDS);

function route(records: Uint8Array[]): RouteResult {
  const routed: Routed[] = [];
  const rejected: Rejected[] = [];
  for (const raw of records) {
    const parsed = parseJsonObjectRecord(raw, 'a winlogbeat event');
    if (!('value' in parsed)) {
      rejected.push(parsed);
      continue;
    }
    const h = winlogHeaderOf(parsed.value);
    if (!h) {
      // A JSON object that is no Windows event: kept in the unrouted table rather than guessed at.
      routed.push({ category: UNKNOWN_CATEGORY, record: raw });
      continue;
    }
    routed.push({ category: 'winlog', record: raw });
    if (h.eventId !== undefined && isSysmon(h)) {
      if (PROCESS_IDS.has(h.eventId)) routed.push({ category: 'process', record: raw });
      else if (NETWORK_IDS.has(h.eventId)) routed.push({ category: 'network_connection', record: raw });
    }
  }
  return { routed, rejected };
}

/** Path into a nested object, e.g. ['process', 'parent', 'pid']. */
function at(o: Obj, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/**
 * A Sysmon event-data field, falling back to where winlogbeat 7.x's sysmon module renames it (ECS fields): a record
 * processed by that module has no ProcessGuid in event_data but process.entity_id at the top level.
 */
function sysmonField(o: Obj, h: WinlogHeader, name: string): unknown {
  const v = h.eventData[name];
  if (v !== undefined && v !== null && v !== '') return v;
  // Only 7.x/8.x records carry ECS fields; a 6.x top-level `user` is the account that logged the event, not the actor.
  if (h.layout !== 'winlogbeat7') return v;
  return ecsFallback(o, name) ?? v;
}

function ecsFallback(o: Obj, name: string): unknown {
  switch (name) {
    case 'ProcessGuid':
      return at(o, 'process', 'entity_id');
    case 'ProcessId':
      return at(o, 'process', 'pid');
    case 'Image':
      return at(o, 'process', 'executable');
    case 'CommandLine': {
      const args = at(o, 'process', 'args');
      return first(at(o, 'process', 'command_line'), Array.isArray(args) ? args.join(' ') : undefined);
    }
    case 'CurrentDirectory':
      return at(o, 'process', 'working_directory');
    case 'ParentProcessGuid':
      return at(o, 'process', 'parent', 'entity_id');
    case 'ParentProcessId':
      return at(o, 'process', 'parent', 'pid');
    case 'ParentImage':
      return at(o, 'process', 'parent', 'executable');
    case 'ParentCommandLine': {
      const args = at(o, 'process', 'parent', 'args');
      return first(at(o, 'process', 'parent', 'command_line'), Array.isArray(args) ? args.join(' ') : undefined);
    }
    case 'User': {
      const name = text(at(o, 'user', 'name'));
      const domain = text(at(o, 'user', 'domain'));
      return name === undefined ? undefined : domain ? `${domain}\\${name}` : name;
    }
    case 'PipeName':
      return at(o, 'file', 'name');
    case 'Protocol':
      return at(o, 'network', 'transport');
    case 'Initiated': {
      const d = at(o, 'network', 'direction');
      return d === 'outbound' || d === 'egress' ? 'true' : d === 'inbound' || d === 'ingress' ? 'false' : undefined;
    }
    case 'SourceIp':
      return at(o, 'source', 'ip');
    case 'SourcePort':
      return at(o, 'source', 'port');
    case 'SourceHostname':
      return at(o, 'source', 'domain');
    case 'DestinationIp':
      return at(o, 'destination', 'ip');
    case 'DestinationPort':
      return at(o, 'destination', 'port');
    case 'DestinationHostname':
      return at(o, 'destination', 'domain');
    case 'DestinationPortName':
      return at(o, 'network', 'protocol');
    case 'Hashes':
      return hashesFromEcs(obj(at(o, 'process', 'hash')) ?? obj(o.hash), text(at(o, 'process', 'pe', 'imphash')));
    default:
      return undefined;
  }
}

function hashesFromEcs(hash: Obj | undefined, imphash: string | undefined): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(hash ?? {})) if (typeof v === 'string') parts.push(`${k.toUpperCase()}=${v}`);
  if (imphash && !(hash && 'imphash' in hash)) parts.push(`IMPHASH=${imphash}`);
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` → lower-case algorithm → lower-case hex. */
export function splitHashes(hashes: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof hashes !== 'string') return out;
  for (const part of hashes.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const alg = part.slice(0, eq).trim().toLowerCase();
    if (alg === 'md5' || alg === 'sha1' || alg === 'sha256' || alg === 'imphash') out[alg] = part.slice(eq + 1).trim().toLowerCase();
  }
  return out;
}

/** `DOMAIN\name` → parts; a name without a domain keeps the domain null. */
export function splitUser(user: unknown): { name: string | undefined; domain: string | undefined } {
  const u = text(user);
  if (u === undefined || u === '') return { name: undefined, domain: undefined };
  const i = u.indexOf('\\');
  return i < 0 ? { name: u, domain: undefined } : { name: u.slice(i + 1), domain: u.slice(0, i) };
}

/** Last path segment of a Windows or POSIX path. */
export function baseName(path: unknown): string | undefined {
  const p = text(path);
  if (p === undefined || p === '') return undefined;
  return p.slice(Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/')) + 1);
}

const EVENT_NAMES: Readonly<Record<number, string>> = { 1: 'ProcessCreate', 3: 'NetworkConnect', 5: 'ProcessTerminate', 18: 'PipeConnected' };

/** Columns shared by the Sysmon CIM tables. */
function sysmonCommon(o: Obj, h: WinlogHeader, data: Obj): Obj {
  const f = (n: string) => sysmonField(o, h, n);
  const image = f('Image');
  const user = splitUser(f('User'));
  return {
    event_time: first(data.UtcTime, h.timestamp),
    timestamp: h.timestamp,
    event_id: h.eventId ?? h.rawEventId,
    event_name: h.eventId !== undefined ? (EVENT_NAMES[h.eventId] ?? null) : null,
    host_name: h.computer,
    record_id: h.recordId,
    rule_name: data.RuleName,
    process_guid: f('ProcessGuid'),
    process_id: f('ProcessId'),
    process_path: image,
    process_name: baseName(image),
    user_name: user.name,
    user_domain: user.domain,
    winlog_layout: h.layout,
  };
}

function decodeProcess(o: Obj, h: WinlogHeader): Obj {
  const data = h.eventData;
  const f = (n: string) => sysmonField(o, h, n);
  const hashesText = f('Hashes');
  const hashes = splitHashes(hashesText);
  const parentImage = f('ParentImage');
  return {
    ...sysmonCommon(o, h, data),
    process_command_line: f('CommandLine'),
    process_current_directory: f('CurrentDirectory'),
    process_integrity_level: data.IntegrityLevel,
    process_parent_guid: f('ParentProcessGuid'),
    process_parent_id: f('ParentProcessId'),
    process_parent_path: parentImage,
    process_parent_name: baseName(parentImage),
    process_parent_command_line: f('ParentCommandLine'),
    process_parent_user: data.ParentUser,
    user_logon_guid: data.LogonGuid,
    user_logon_id: data.LogonId,
    user_session_id: data.TerminalSessionId,
    file_version: data.FileVersion,
    file_description: data.Description,
    file_product: data.Product,
    file_company: data.Company,
    file_original_name: data.OriginalFileName,
    file_hashes: hashesText,
    hash_md5: hashes.md5,
    hash_sha1: hashes.sha1,
    hash_sha256: hashes.sha256,
    hash_imphash: hashes.imphash,
    pipe_name: f('PipeName'),
    pipe_event_type: data.EventType,
  };
}

function decodeNetwork(o: Obj, h: WinlogHeader): Obj {
  const data = h.eventData;
  const f = (n: string) => sysmonField(o, h, n);
  return {
    ...sysmonCommon(o, h, data),
    network_protocol: f('Protocol'),
    network_initiated: f('Initiated'),
    src_is_ipv6: data.SourceIsIpv6,
    src_ip: f('SourceIp'),
    src_host_name: f('SourceHostname'),
    src_port: f('SourcePort'),
    src_port_name: data.SourcePortName,
    dst_is_ipv6: data.DestinationIsIpv6,
    dst_ip: f('DestinationIp'),
    dst_host_name: f('DestinationHostname'),
    dst_port: f('DestinationPort'),
    dst_port_name: f('DestinationPortName'),
  };
}

function decodeBronze(h: WinlogHeader): Obj {
  const u = h.user;
  return {
    timestamp: h.timestamp,
    source_type: sourceTypeOf(h.channel, h.provider),
    event_id: h.eventId ?? h.rawEventId,
    channel: h.channel,
    provider: h.provider,
    provider_guid: h.providerGuid,
    computer_name: h.computer,
    record_id: h.recordId,
    level: h.level,
    task: h.task,
    opcode: h.opcode,
    version: h.version,
    reporter_process_id: h.processId,
    reporter_thread_id: h.threadId,
    reporter_user_sid: u?.identifier,
    reporter_user_name: u?.name,
    reporter_user_domain: u?.domain,
    agent_version: h.agentVersion,
    winlog_layout: h.layout,
    event_data: h.eventData,
  };
}

const dec = new TextDecoder();

function decode(record: Uint8Array, category: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(record));
  } catch (e) {
    throw new RecordError('parse', `invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new RecordError('parse', `expected a winlogbeat event (JSON object), got ${jsonKindOf(value)}`);
  const h = winlogHeaderOf(value);
  if (!h) throw new RecordError('layout', 'not a winlogbeat event: no winlog object, no event_id with log_name/source_name/event_data, no EventID with Channel');
  switch (category) {
    case 'winlog':
      return decodeBronze(h);
    case 'process':
      return decodeProcess(value, h);
    case 'network_connection':
      return decodeNetwork(value, h);
    default:
      throw new RecordError('category', `no winlog table for category "${category}"`);
  }
}

export const winlogFamily: SourceFamily = {
  name: 'winlog',
  title: 'Windows event logs (Sysmon, Security, System, PowerShell, …) shipped by winlogbeat 6.x/7.x/8.x as JSON lines',
  tables: winlogTables,
  route: (records) => route(records),
  decode: (record, category) => decode(record, category),
};
