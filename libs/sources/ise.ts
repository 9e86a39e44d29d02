// Cisco ISE over syslog: `<PRI>Mmm dd hh:mm:ss host CISE_<Category> <msgid> <total> <n> <body>`, optionally behind a
// relay's own header. Categories with a table: Profiler, Posture and Client Provisioning Audit, RADIUS Accounting. Messages longer than the ISE segment size arrive as several segments of one message id;
// route() reassembles them within an envelope. decode() reads the event header of segment 0
// (`2024-10-10 12:00:00.123 +00:00 <seq> <code> <SEVERITY> <Class>: <text>, key=value, ...`) and the key=value body.
import { firstValue, parseKeyValues, type KeyValues } from '@sluice/formats';
import { parseSyslog } from '@sluice/formats';
import { macOrText, normalizeMac } from '@sluice/tables/dhcp';
import { ISE_CATEGORY_TOKENS, iseTables } from '@sluice/tables/ise';
import { RecordError, UNKNOWN_CATEGORY, type Rejected, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** Segments per message above this are treated as a corrupt header (ISE splits at >= 1 KiB, messages stay < 64 KiB). */
export const MAX_SEGMENTS = 256;

const ISE_HEADER = /^(CISE_[A-Za-z0-9_]+) (\d{1,12}) (\d{1,6}) (\d{1,6})(?: |$)/;
const RELAYED = /^[A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} /;
const EVENT_HEADER = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ?([+-]\d{2}:?\d{2}|Z)? (\d+) (\d+) ([A-Za-z]+) +/;

/** The syslog and ISE segment header of one line. */
export interface IseSegment {
  category: string;
  messageId: string;
  total: number;
  segment: number;
  /** Text after the segment header: the event header and body (segment 0) or a continuation. */
  body: string;
  host: string | null;
  relayHost: string | null;
  priority: number | null;
}

/** Reads the syslog header(s) and the ISE segment header; a string is the reason it is not an ISE message. */
export function parseIseSegment(text: string): IseSegment | string {
  let msg = text;
  let host: string | null = null;
  let relayHost: string | null = null;
  let priority: number | null = null;
  // The syslog timestamp is not used (the event header has a full one), so a fixed reference keeps this pure.
  const outer = parseSyslog(text, { referenceMs: 0 });
  if (outer.ok) {
    const m = outer.message;
    priority = m.priority;
    host = m.hostname;
    msg = m.app?.startsWith('CISE_') ? `${m.app} ${m.message}` : m.message;
    if (RELAYED.test(msg)) {
      const inner = parseSyslog(msg, { referenceMs: 0 });
      if (inner.ok) {
        relayHost = host;
        host = inner.message.hostname;
        msg = inner.message.app?.startsWith('CISE_') ? `${inner.message.app} ${inner.message.message}` : inner.message.message;
      }
    }
  }
  const h = ISE_HEADER.exec(msg);
  if (!h) {
    return outer.ok
      ? `not a Cisco ISE message: no "CISE_<category> <message id> <total> <segment>" after the syslog header`
      : `not a Cisco ISE message: ${outer.reason}`;
  }
  const total = Number(h[3]);
  const segment = Number(h[4]);
  if (total < 1 || total > MAX_SEGMENTS) return `segment total ${total} out of range 1..${MAX_SEGMENTS}`;
  if (segment >= total) return `segment number ${segment} not below the segment total ${total}`;
  return { category: h[1]!, messageId: h[2]!, total, segment, body: msg.slice(h[0].length), host, relayHost, priority };
}

interface Pending {
  /** Output slot of the first segment seen, so messages keep the envelope's order. */
  slot: number;
  total: number;
  category: string;
  parts: Map<number, { raw: Uint8Array; text: string; body: string }>;
}

function categoryToken(category: string): string {
  return Object.hasOwn(ISE_CATEGORY_TOKENS, category) ? ISE_CATEGORY_TOKENS[category]! : UNKNOWN_CATEGORY;
}

function route(records: Uint8Array[]): RouteResult {
  const slots: (Routed | null)[] = [];
  const rejected: Rejected[] = [];
  const pending = new Map<string, Pending>();
  for (const raw of records) {
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      rejected.push({ raw, rule: 'encoding', reason: 'record is not valid UTF-8' });
      continue;
    }
    const seg = parseIseSegment(text);
    if (typeof seg === 'string') {
      rejected.push({ raw, rule: 'parse', reason: seg });
      continue;
    }
    if (seg.total === 1) {
      slots.push({ category: categoryToken(seg.category), record: raw });
      continue;
    }
    // Message ids count per ISE node, so the node is part of the key.
    const key = `${seg.host ?? ''}\u0000${seg.category}\u0000${seg.messageId}`;
    let p = pending.get(key);
    if (!p) {
      p = { slot: slots.length, total: seg.total, category: seg.category, parts: new Map() };
      pending.set(key, p);
      slots.push(null);
    }
    if (seg.total !== p.total) {
      rejected.push({ raw, rule: 'segments', reason: `segment total ${seg.total} differs from ${p.total} of earlier segments of message ${seg.messageId}` });
    } else if (p.parts.has(seg.segment)) {
      rejected.push({ raw, rule: 'segments', reason: `duplicate segment ${seg.segment} of message ${seg.messageId}` });
    } else {
      p.parts.set(seg.segment, { raw, text, body: seg.body });
    }
  }
  for (const p of pending.values()) {
    if (p.parts.size < p.total) {
      const reason = `incomplete multi-segment message (have ${p.parts.size} of ${p.total})`;
      for (const part of p.parts.values()) rejected.push({ raw: part.raw, rule: 'segments', reason });
      continue;
    }
    // Segment 0 keeps its headers; the continuations' bodies follow it as sent (ISE cuts at arbitrary points).
    let text = p.parts.get(0)!.text;
    for (let n = 1; n < p.total; n++) text += p.parts.get(n)!.body;
    slots[p.slot] = { category: categoryToken(p.category), record: enc.encode(text) };
  }
  const routed = slots.filter((r): r is Routed => r !== null);
  return { routed, rejected };
}

const pick = (values: KeyValues, keys: readonly string[]): string | undefined => {
  for (const k of keys) {
    const v = firstValue(values, k);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
};

const MAC_KEYS = ['EndpointMacAddress', 'EndPointMACAddress', 'EndPointMacAddress', 'Endpoint Mac Address', 'MACAddress', 'macAddress', 'Calling-Station-ID'];
const IP_KEYS = ['EndpointIPAddress', 'EndPointIPAddress', 'Endpoint IP Address', 'Framed-IP-Address', 'ipAddress', 'IpAddress'];
const USER_KEYS = ['UserName', 'User-Name', 'User Name', 'AdminName', 'SystemUser'];
const NAS_KEYS = ['NAS-IP-Address', 'EndpointNADAddress', 'Device IP Address'];
const OPERATION_TARGET = /_BY_(IP|MAC):(\S+)$/;

/** The flat object the ise_* columns read from (column names as keys). */
export function decodeIse(text: string): Record<string, unknown> {
  const seg = parseIseSegment(text);
  if (typeof seg === 'string') throw new RecordError('parse', seg);
  const ev = EVENT_HEADER.exec(seg.body);
  if (!ev) {
    throw new RecordError('parse', `ISE ${seg.category} message ${seg.messageId} segment ${seg.segment}: no event header (date time offset sequence code severity)`);
  }
  const offset = ev[3] ?? 'Z';
  const kv = parseKeyValues(seg.body.slice(ev[0].length));
  const v = kv.values;
  const colon = kv.text.indexOf(': ');
  const rec: Record<string, unknown> = {
    timestamp: `${ev[1]}T${ev[2]}${offset}`,
    host: seg.host,
    relay_host: seg.relayHost,
    category: seg.category,
    message_id: seg.messageId,
    segment_total: seg.total,
    sequence_number: ev[4],
    message_code: ev[5],
    severity_level: ev[6]!.toUpperCase(),
    syslog_priority: seg.priority,
    message_class: colon > 0 ? kv.text.slice(0, colon) : null,
    message_text: kv.text === '' ? null : kv.text,
    config_version_id: firstValue(v, 'ConfigVersionId'),
    endpoint_mac: macOrText(pick(v, MAC_KEYS)),
    endpoint_ip: pick(v, IP_KEYS),
    user_name: pick(v, USER_KEYS),
    nas_ip: pick(v, NAS_KEYS),
    attributes: v,
  };
  if (seg.category === 'CISE_Profiler') {
    const props = firstValue(v, 'EndpointProperty');
    const pv = props === undefined ? undefined : parseKeyValues(props).values;
    Object.assign(rec, {
      endpoint_policy: firstValue(v, 'EndpointPolicy'),
      endpoint_matched_policy: firstValue(v, 'EndpointMatchedPolicy'),
      endpoint_certainty: firstValue(v, 'EndpointCertainityMetric') ?? firstValue(v, 'EndpointCertaintyMetric'),
      endpoint_identity_group: firstValue(v, 'EndpointIdentityGroup'),
      endpoint_oui: firstValue(v, 'EndpointOUI'),
      endpoint_source_event: firstValue(v, 'EndpointSourceEvent'),
      endpoint_hostname: pv ? pick(pv, ['host-name', 'hostname']) : undefined,
      profiler_server: firstValue(v, 'ProfilerServer'),
      endpoint_properties: pv,
    });
    if (rec.endpoint_ip === undefined && pv) rec.endpoint_ip = pick(pv, ['Framed-IP-Address', 'EndpointIPAddress']);
  } else if (seg.category === 'CISE_RADIUS_Accounting') {
    Object.assign(rec, radiusAccountingFields(v));
  } else if (seg.category === 'CISE_Posture_and_Client_Provisioning_Audit') {
    const opType = firstValue(v, 'OperationType');
    Object.assign(rec, {
      posture_status: pick(v, ['PostureStatus', 'PostureAssessmentStatus', 'Posture Status']),
      posture_policy: pick(v, ['PolicyName', 'PostureReport', 'PosturePolicy']),
      operating_system: pick(v, ['OperatingSystem', 'Operating System', 'OS']),
      system_name: pick(v, ['SystemName', 'SystemName ']),
      system_domain: firstValue(v, 'SystemDomain'),
      operation_id: firstValue(v, 'OperationID'),
      operation_type: opType,
      operation_status: firstValue(v, 'OperationStatus'),
    });
    // EPS/ANC operations name their target in the type: CLEAR_POLICY_BY_IP:10.0.0.5, QUARANTINE_BY_MAC:aa:bb:…
    const target = opType === undefined ? null : OPERATION_TARGET.exec(opType);
    if (target?.[1] === 'IP' && rec.endpoint_ip === undefined) rec.endpoint_ip = target[2];
    if (target?.[1] === 'MAC' && rec.endpoint_mac === undefined) rec.endpoint_mac = normalizeMac(target[2]!) ?? target[2];
  }
  return rec;
}

const DIGITS = /^\d{1,12}$/;
const AUDIT_SESSION = /^audit-session-id=(.+)$/;

/**
 * RADIUS accounting columns. The client MAC is Calling-Station-ID only when it is a MAC: VPN head-ends send the
 * client's public IP there (kept in calling_station_id).
 */
function radiusAccountingFields(v: KeyValues): Record<string, unknown> {
  const calling = firstValue(v, 'Calling-Station-ID');
  const eventTs = firstValue(v, 'Event-Timestamp');
  let audit = firstValue(v, 'CPMSessionID');
  if (audit === undefined && Object.hasOwn(v, 'cisco-av-pair')) {
    for (const p of ([] as string[]).concat(v['cisco-av-pair']!)) audit ??= AUDIT_SESSION.exec(p)?.[1];
  }
  const macKey = pick(v, MAC_KEYS.filter((k) => k !== 'Calling-Station-ID'));
  return {
    endpoint_mac: (calling === undefined ? undefined : normalizeMac(calling)) ?? macOrText(macKey),
    acct_status_type: firstValue(v, 'Acct-Status-Type'),
    acct_session_id: firstValue(v, 'Acct-Session-Id'),
    audit_session_id: audit,
    // Epoch seconds as a number (the coercer reads numeric timestamps with the column's unit).
    event_timestamp: eventTs !== undefined && DIGITS.test(eventTs) ? Number(eventTs) : eventTs,
    acct_session_time: firstValue(v, 'Acct-Session-Time'),
    acct_delay_time: firstValue(v, 'Acct-Delay-Time'),
    acct_input_octets: firstValue(v, 'Acct-Input-Octets'),
    acct_output_octets: firstValue(v, 'Acct-Output-Octets'),
    acct_input_packets: firstValue(v, 'Acct-Input-Packets'),
    acct_output_packets: firstValue(v, 'Acct-Output-Packets'),
    acct_terminate_cause: firstValue(v, 'Acct-Terminate-Cause'),
    calling_station_id: calling,
    called_station_id: firstValue(v, 'Called-Station-ID'),
    network_device_name: firstValue(v, 'NetworkDeviceName'),
    nas_identifier: firstValue(v, 'NAS-Identifier'),
    nas_port_type: firstValue(v, 'NAS-Port-Type'),
    framed_ipv6_address: firstValue(v, 'Framed-IPv6-Address'),
  };
}

function decode(record: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(record);
  } catch {
    throw new RecordError('encoding', 'record is not valid UTF-8');
  }
  return decodeIse(text);
}

export const iseFamily: SourceFamily = {
  name: 'ise',
  title: 'Cisco ISE syslog (Profiler, Posture/Client Provisioning Audit and RADIUS Accounting categories)',
  tables: iseTables,
  route: (records) => route(records),
  decode: (record) => decode(record),
};
