// ISC dhcpd and Infoblox NIOS DHCP over syslog: `<PRI>Mmm dd hh:mm:ss host dhcpd[pid]: DHCPACK on 10.0.0.5 to …`.
// route() sends DHCP messages (one pattern per verb) and Infoblox `r-l-e:` lease events to `lease`, every other line
// (dhcpd housekeeping, named and other daemons of the same feed) to `_unknown`. decode() applies the verb's pattern.
import { parseSyslog, type SyslogMessage } from '@sluice/formats';
import { macOrText } from '@sluice/tables/dhcp';
import { dhcpTables } from '@sluice/tables/dhcp';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext, type Rejected, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const LEASE = 'lease';
const VERB = /^DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE|DECLINE|EXPIRE|INFORM)(?= |$)/;
const LEASE_EVENT = /^r-l-e:/;

const IP = '([0-9A-Fa-f.:]+)';
const MAC = '([0-9A-Fa-f:.-]+)';
const NAME = '(?: \\(([^()]*)\\))?';
const VIA = ' via ([^\\s:]+)';
/** One pattern per message type; groups are named by the `fields` list beside it. `rest` is the optional tail. */
const PATTERNS: { type: string; re: RegExp; fields: readonly string[] }[] = [
  { type: 'DISCOVER', re: new RegExp(`^DHCPDISCOVER from ${MAC}${NAME}${VIA}(.*)$`), fields: ['mac', 'hostname', 'via', 'rest'] },
  { type: 'OFFER', re: new RegExp(`^DHCPOFFER on ${IP} to ${MAC}${NAME}${VIA}(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  {
    type: 'REQUEST',
    re: new RegExp(`^DHCPREQUEST for ${IP}(?: \\(${IP}\\))? from ${MAC}${NAME}${VIA}(.*)$`),
    fields: ['ip', 'server_ip', 'mac', 'hostname', 'via', 'rest'],
  },
  { type: 'ACK', re: new RegExp(`^DHCPACK on ${IP} to ${MAC}${NAME}${VIA}(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  // The reply to a DHCPINFORM: `DHCPACK to <ip> (<mac>) via <if>`.
  { type: 'ACK', re: new RegExp(`^DHCPACK to ${IP} \\(${MAC}\\)${VIA}(.*)$`), fields: ['ip', 'mac', 'via', 'rest'] },
  { type: 'NAK', re: new RegExp(`^DHCPNAK on ${IP} to ${MAC}${NAME}${VIA}(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  { type: 'RELEASE', re: new RegExp(`^DHCPRELEASE of ${IP} from ${MAC}${NAME}${VIA}(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  { type: 'DECLINE', re: new RegExp(`^DHCPDECLINE of ${IP} from ${MAC}${NAME}${VIA}(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  { type: 'EXPIRE', re: new RegExp(`^DHCPEXPIRE on ${IP} to ${MAC}${NAME}(?:${VIA})?(.*)$`), fields: ['ip', 'mac', 'hostname', 'via', 'rest'] },
  { type: 'INFORM', re: new RegExp(`^DHCPINFORM from ${IP}${VIA}(.*)$`), fields: ['ip', 'via', 'rest'] },
  // Infoblox lease event: r-l-e:<ip>,<state>,<hostname>,<mac>,<start epoch s>,<end epoch s>,…
  {
    type: 'LEASE',
    re: /^r-l-e:([^,]*),([^,]*),([^,]*),([^,]*),(\d*),(\d*)(?:,(.*))?$/,
    fields: ['ip', 'lease_state', 'hostname', 'mac', 'lease_start', 'lease_end', 'rest'],
  },
];

/** Optional elements after `via …`, in any order; `: text` ends the message with an error/status text. */
const TAIL = /^ +(?:relay (\S+)|lease-duration (\d+)|uid (\S+)|TransID (\S+)|(\(RENEW\))|\(([^()]*)\)|offered-duration (\d+))/;

/**
 * The message without trailing blanks and literal `\n`s. A loop, not `replace(/(?:\\n|\s)+$/)`: that regex rescans a
 * run of blanks from each of its positions when the run is not at the end (426 kB of spaces took minutes).
 */
function trimEnd(message: string): string {
  let end = message.length;
  for (;;) {
    if (end > 0 && /\s/.test(message[end - 1]!)) end--;
    else if (end >= 2 && message[end - 1] === 'n' && message[end - 2] === '\\') end -= 2;
    else return message.slice(0, end);
  }
}

/** Parses a DHCP message text (after the syslog tag) into column values; a string says why it does not match. */
export function parseDhcpMessage(message: string): Record<string, unknown> | string {
  // Some senders leave a literal `\n` or trailing spaces at the end of the line.
  const text = trimEnd(message);
  const verb = VERB.exec(text)?.[1] ?? (LEASE_EVENT.test(text) ? 'LEASE' : undefined);
  if (verb === undefined) return 'not a DHCP message';
  let hit: { type: string; m: RegExpExecArray; fields: readonly string[] } | undefined;
  for (const p of PATTERNS) {
    if (p.type !== verb) continue;
    const m = p.re.exec(text);
    if (m) {
      hit = { type: p.type, m, fields: p.fields };
      break;
    }
  }
  if (!hit) return `DHCP${verb === 'LEASE' ? ' lease event' : verb} message does not match its pattern: "${text.slice(0, 80)}"`;
  const rec: Record<string, unknown> = { event_type: hit.type };
  hit.fields.forEach((f, i) => {
    const v = hit.m[i + 1];
    if (v !== undefined && v !== '') rec[f] = v;
  });
  if (typeof rec.via === 'string') {
    // `via` names the receiving interface, or the relay agent's address for relayed messages.
    if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(rec.via)) rec.relay = rec.via;
    else rec.interface = rec.via;
  }
  delete rec.via;
  rec.mac = macOrText(rec.mac as string | undefined);
  const rest = (rec.rest as string | undefined) ?? '';
  delete rec.rest;
  if (hit.type === 'LEASE') {
    if (!/^[,$]*$/.test(rest)) rec.detail = rest; // trailing empty fields carry nothing
    return rec;
  }
  const details: string[] = [];
  let tail = rest;
  while (tail !== '') {
    if (tail.startsWith(':')) {
      details.push(tail.slice(1).trim());
      break;
    }
    const t = TAIL.exec(tail);
    if (!t) {
      details.push(tail.trim());
      break;
    }
    if (t[1] !== undefined) rec.relay = t[1];
    else if (t[2] !== undefined) rec.lease_duration = t[2];
    else if (t[3] !== undefined) rec.client_id = t[3];
    else if (t[4] !== undefined) rec.transaction_id = t[4];
    else if (t[5] !== undefined) rec.renew = true;
    else if (t[6] !== undefined) details.push(t[6]);
    else if (t[7] !== undefined) rec.lease_duration ??= t[7]; // the granted lease-duration wins over the offer
    tail = tail.slice(t[0].length);
  }
  if (details.length > 0) rec.detail = details.join('; ');
  return rec;
}

const OBJECT_DATE = /(?<!\d)((?:19|20)\d{2})([-_/.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)/;

/**
 * Reference time (epoch ms) for year-less syslog timestamps: the date in the object name when it has one
 * (`dhcpd.log-20241010`, `…/2024/10/10/…`), else the current time.
 */
export function referenceTimeFor(object: string, now: () => number): number {
  const m = OBJECT_DATE.exec(object);
  if (m) return Date.UTC(Number(m[1]), Number(m[3]) - 1, Number(m[4]));
  return now();
}

function isLeaseMessage(message: string): boolean {
  return VERB.test(message) || LEASE_EVENT.test(message);
}

function route(records: Uint8Array[]): RouteResult {
  const routed: Routed[] = [];
  const rejected: Rejected[] = [];
  for (const raw of records) {
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      rejected.push({ raw, rule: 'encoding', reason: 'record is not valid UTF-8' });
      continue;
    }
    // Routing needs no time: a fixed reference keeps it pure.
    const s = parseSyslog(text, { referenceMs: 0 });
    if (s.ok) {
      routed.push({ category: isLeaseMessage(s.message.message.trimStart()) ? LEASE : UNKNOWN_CATEGORY, record: raw });
    } else if (isLeaseMessage(text.trimStart())) {
      // A DHCP message without a syslog header: the parser quarantines it with the reason (no event time).
      routed.push({ category: LEASE, record: raw });
    } else {
      rejected.push({ raw, rule: 'parse', reason: `not a syslog line: ${s.reason}` });
    }
  }
  return { routed, rejected };
}

/** The flat object the `dhcp` columns read from. */
export function decodeDhcp(text: string, referenceMs: number): Record<string, unknown> {
  const s = parseSyslog(text, { referenceMs });
  if (!s.ok) throw new RecordError('parse', `no syslog header, so no event time: ${s.reason}`);
  const m: SyslogMessage = s.message;
  const parsed = parseDhcpMessage(m.message.trimStart());
  if (typeof parsed === 'string') throw new RecordError('parse', parsed);
  return {
    timestamp: m.timestampIso,
    host: m.hostname,
    app: m.app,
    pid: m.procid !== null && /^\d+$/.test(m.procid) ? m.procid : null,
    syslog_priority: m.priority,
    ...parsed,
    message: m.message,
  };
}

export interface DhcpFamilyOptions {
  /** Clock for year-less timestamps of objects without a date in their name (tests pass a fixed one). */
  now?: () => number;
}

export function createDhcpFamily(options: DhcpFamilyOptions = {}): SourceFamily {
  const now = options.now ?? Date.now;
  return {
    name: 'dhcp',
    title: 'ISC dhcpd / Infoblox NIOS DHCP syslog (DISCOVER, OFFER, REQUEST, ACK, NAK, RELEASE, DECLINE, EXPIRE, INFORM, r-l-e lease events)',
    tables: dhcpTables,
    route: (records) => route(records),
    decode: (record: Uint8Array, _category: string, ctx: RecordContext) => {
      let text: string;
      try {
        text = utf8.decode(record);
      } catch {
        throw new RecordError('encoding', 'record is not valid UTF-8');
      }
      return decodeDhcp(text, referenceTimeFor(ctx.object, now));
    },
  };
}

export const dhcpFamily: SourceFamily = createDhcpFamily();
