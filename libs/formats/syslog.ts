// Syslog: one message's header and body (RFC 5424, RFC 3164 as devices and syslog daemons really write it), and the
// stream framings a TCP receiver needs (RFC 6587 octet counting, newline-terminated). Pure: no I/O.
import { daysFromCivil, parseTimestampMicros } from '../tables/timestamp.ts';

/** One SD-ELEMENT of RFC 5424 structured data; params keep their order and repeats. */
export interface SdElement {
  id: string;
  params: [name: string, value: string][];
}

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  /** `<PRI>` value (facility * 8 + severity), null when the line had none (files written by syslog daemons). */
  priority: number | null;
  facility: number | null;
  severity: number | null;
  /** Event time in epoch microseconds; null for the RFC 5424 nil timestamp. */
  timestamp: number | null;
  /** The same instant as ISO-8601 UTC with microseconds (`2024-10-10T12:00:00.123000Z`), or null. */
  timestampIso: string | null;
  /** The timestamp exactly as written in the header. */
  timestampText: string | null;
  /** True when a year-less RFC 3164 timestamp got its year from the reference time. */
  yearInferred: boolean;
  hostname: string | null;
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG (`dhcpd` of `dhcpd[3761]:`). */
  app: string | null;
  procid: string | null;
  msgid: string | null;
  structuredData: SdElement[];
  /** The message text (MSG), without a leading BOM. */
  message: string;
}

export interface SyslogOptions {
  /** Time (epoch ms) year-less timestamps are resolved against; default Date.now(). */
  referenceMs?: number;
  /** UTC offset (minutes) of zone-less RFC 3164 timestamps; default 0 (UTC). */
  offsetMinutes?: number;
}

export type SyslogParse = { ok: true; message: SyslogMessage } | { ok: false; reason: string };

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const MICROS_PER_DAY = 86_400_000_000;
// `Mmm dd hh:mm:ss`, `Mmm  d hh:mm:ss`, `Mmm d hh:mm:ss.ffffff`, and Cisco's `Mmm dd yyyy hh:mm:ss`.
const BSD_TIME = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?= |$)/;
// rsyslog's RFC3339 template and other ISO timestamps in the 3164 position.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T[0-9:.,]+(?:Z|z|[+-]\d{2}(?::?\d{2})?)?(?= |$)/;
// TAG[PID]: — TAG is printable ASCII without space, '[' or ':'.
const TAG = /^([!-9;-Z\\^-~]{1,64})(?:\[([^\]\s]{0,128})\])?:(?: |$)/;

/** Parses one syslog message (either RFC), or says why it is not one. Never throws. */
export function parseSyslog(text: string, options: SyslogOptions = {}): SyslogParse {
  let i = 0;
  let priority: number | null = null;
  if (text.charCodeAt(0) === 60 /* < */) {
    const end = text.indexOf('>', 1);
    const digits = end > 1 && end <= 4 ? text.slice(1, end) : '';
    if (!/^\d{1,3}$/.test(digits) || Number(digits) > 191) return { ok: false, reason: `invalid PRI "${text.slice(0, 6)}"` };
    priority = Number(digits);
    i = end + 1;
  }
  if (priority !== null && /^[1-9]\d? /.test(text.slice(i, i + 3))) {
    return parse5424(text, i, priority);
  }
  return parse3164(text, i, priority, options);
}

function base(priority: number | null, format: SyslogMessage['format']): SyslogMessage {
  return {
    format,
    priority,
    facility: priority === null ? null : priority >> 3,
    severity: priority === null ? null : priority & 7,
    timestamp: null,
    timestampIso: null,
    timestampText: null,
    yearInferred: false,
    hostname: null,
    app: null,
    procid: null,
    msgid: null,
    structuredData: [],
    message: '',
  };
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function nilable(s: string): string | null {
  return s === '-' ? null : s;
}

/** `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`. */
function parse5424(text: string, start: number, priority: number): SyslogParse {
  const m = base(priority, 'rfc5424');
  let i = text.indexOf(' ', start) + 1; // after VERSION
  const fields: string[] = [];
  for (let k = 0; k < 5; k++) {
    const sp = text.indexOf(' ', i);
    if (sp === -1 || sp === i) return { ok: false, reason: `RFC 5424 header truncated or has an empty field (${k + 1} of 5 fields read)` };
    fields.push(text.slice(i, sp));
    i = sp + 1;
  }
  const [ts, host, app, procid, msgid] = fields as [string, string, string, string, string];
  if (ts !== '-') {
    const micros = parseTimestampMicros(ts);
    if (micros === null || !ts.includes('T')) return { ok: false, reason: `RFC 5424 timestamp "${ts.slice(0, 40)}" is not RFC 3339` };
    m.timestamp = micros;
    m.timestampIso = isoOfMicros(micros);
    m.timestampText = ts;
  }
  m.hostname = nilable(host);
  m.app = nilable(app);
  m.procid = nilable(procid);
  m.msgid = nilable(msgid);
  if (text.charCodeAt(i) === 45 /* - */) {
    i++;
  } else if (text.charCodeAt(i) === 91 /* [ */) {
    const sd = parseStructuredData(text, i);
    if ('reason' in sd) return { ok: false, reason: sd.reason };
    m.structuredData = sd.elements;
    i = sd.end;
  } else {
    return { ok: false, reason: 'RFC 5424 structured data is neither "-" nor "[...]"' };
  }
  if (i < text.length) {
    if (text.charCodeAt(i) !== 32) return { ok: false, reason: 'RFC 5424: no space between structured data and message' };
    m.message = stripBom(text.slice(i + 1));
  }
  return { ok: true, message: m };
}

const SD_NAME = /[^ =\]"]/;

/** `[id name="value" ...][id2 ...]` from `start`; values unescape `\"`, `\\` and `\]`. */
function parseStructuredData(text: string, start: number): { elements: SdElement[]; end: number } | { reason: string } {
  const elements: SdElement[] = [];
  let i = start;
  while (text.charCodeAt(i) === 91 /* [ */) {
    i++;
    let id = '';
    while (i < text.length && SD_NAME.test(text[i]!)) id += text[i++];
    if (id === '') return { reason: `structured data element without SD-ID at offset ${i}` };
    const el: SdElement = { id, params: [] };
    for (;;) {
      const c = text[i];
      if (c === ']') {
        i++;
        break;
      }
      if (c !== ' ') return { reason: `structured data element "${id}" not terminated` };
      i++;
      let name = '';
      while (i < text.length && SD_NAME.test(text[i]!)) name += text[i++];
      if (name === '' || text[i] !== '=' || text[i + 1] !== '"') return { reason: `structured data element "${id}": malformed parameter at offset ${i}` };
      i += 2;
      let value = '';
      for (;;) {
        if (i >= text.length) return { reason: `structured data element "${id}": unterminated value of "${name}"` };
        const ch = text[i]!;
        if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
          value += text[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      el.params.push([name, value]);
    }
    elements.push(el);
  }
  return { elements, end: i };
}

/** `[<PRI>]TIMESTAMP SP [HOSTNAME SP] [TAG[PID]: ]MSG`. */
function parse3164(text: string, start: number, priority: number | null, options: SyslogOptions): SyslogParse {
  const m = base(priority, 'rfc3164');
  const rest = text.slice(start);
  let len: number;
  const bsd = BSD_TIME.exec(rest);
  if (bsd) {
    const t = bsdTimestamp(bsd, options);
    if (t === null) return { ok: false, reason: `impossible date in timestamp "${bsd[0]}"` };
    m.timestamp = t.micros;
    m.yearInferred = t.inferred;
    len = bsd[0].length;
  } else {
    const iso = ISO_TIME.exec(rest);
    if (!iso) return { ok: false, reason: 'no syslog timestamp (expected "Mmm dd hh:mm:ss", an ISO timestamp or an RFC 5424 header)' };
    const micros = parseTimestampMicros(iso[0]);
    if (micros === null) return { ok: false, reason: `invalid timestamp "${iso[0].slice(0, 40)}"` };
    m.timestamp = micros;
    len = iso[0].length;
  }
  m.timestampText = rest.slice(0, len);
  m.timestampIso = isoOfMicros(m.timestamp);
  let body = rest.slice(len).replace(/^ +/, '');
  // The token after the timestamp is the host unless it already looks like a tag (`dhcpd[12]:`): senders that
  // omit the host exist (RFC 3164 relays add it, many devices do not).
  if (!TAG.test(body)) {
    const sp = body.indexOf(' ');
    const host = sp === -1 ? body : body.slice(0, sp);
    if (host !== '') m.hostname = host;
    body = sp === -1 ? '' : body.slice(sp + 1);
  }
  const tag = TAG.exec(body);
  if (tag) {
    m.app = tag[1]!;
    m.procid = tag[2] ?? null;
    body = body.slice(tag[0].length);
  }
  m.message = stripBom(body);
  return { ok: true, message: m };
}

function bsdTimestamp(match: RegExpExecArray, options: SyslogOptions): { micros: number; inferred: boolean } | null {
  const month = MONTHS[match[1]!.toLowerCase()];
  if (month === undefined) return null;
  const day = Number(match[2]);
  const hh = Number(match[4]);
  const mm = Number(match[5]);
  const ss = Number(match[6]);
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const frac = match[7] ? Number(match[7].slice(0, 6).padEnd(6, '0')) : 0;
  const offset = (options.offsetMinutes ?? 0) * 60_000_000;
  const at = (year: number): number | null => {
    if (day > daysInMonth(year, month)) return null;
    return daysFromCivil(year, month, day) * MICROS_PER_DAY + ((hh * 60 + mm) * 60 + Math.min(ss, 59)) * 1_000_000 + frac - offset;
  };
  if (match[3]) {
    const micros = at(Number(match[3]));
    return micros === null ? null : { micros, inferred: false };
  }
  return resolveYear(at, options.referenceMs ?? Date.now());
}

/** How far after the reference a year-less timestamp may lie (clock skew, a file dated at the start of its period). */
export const YEAR_LOOKAHEAD_DAYS = 30;

/**
 * Logs describe the past: a year-less timestamp gets the latest year that puts it no more than
 * YEAR_LOOKAHEAD_DAYS after the reference. A December line read on 1 January belongs to the previous year; a
 * 1 January line stamped by a clock slightly ahead of a 31 December reference to the next one. Feb 29 only exists in
 * leap years, so impossible candidates are skipped.
 */
function resolveYear(at: (year: number) => number | null, referenceMs: number): { micros: number; inferred: boolean } | null {
  const limit = (referenceMs + YEAR_LOOKAHEAD_DAYS * 86_400_000) * 1000;
  const refYear = new Date(referenceMs).getUTCFullYear();
  for (let y = refYear + 1; y > refYear - 8; y--) {
    const t = at(y);
    if (t !== null && t <= limit) return { micros: t, inferred: true };
  }
  return null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch microseconds → `YYYY-MM-DDThh:mm:ss.ffffffZ` (Date alone would drop the microseconds). */
export function isoOfMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sub = micros - ms * 1000;
  const iso = new Date(ms).toISOString(); // 2024-10-10T12:00:00.123Z
  return `${iso.slice(0, 23)}${String(sub).padStart(3, '0')}Z`;
}

// ---------------------------------------------------------------------------------------------------------------
// Stream framing (RFC 6587) for TCP receivers.

/** `octet-counted`: `LEN SP MSG`; `newline`: MSG LF; `auto`: decided per frame (a digit starts a count, as rsyslog does). */
export type SyslogFraming = 'octet-counted' | 'newline' | 'auto';

export interface FrameError {
  reason: string;
  /** The stream cannot be resynchronised (a broken octet count): the receiver should close the connection. */
  fatal: boolean;
}

export interface FrameOutput {
  messages: Uint8Array[];
  errors: FrameError[];
}

export interface FrameDecoderOptions {
  framing?: SyslogFraming;
  /** Longest accepted message in bytes (without the count or the LF); longer ones are skipped and reported. */
  maxMessageBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const MAX_COUNT_DIGITS = 10;

/**
 * Incremental framing: push() chunks as they arrive, get the complete messages; the incomplete tail stays buffered.
 * Memory stays bounded by maxMessageBytes: an oversized message is reported and its bytes dropped as they arrive.
 */
export class SyslogFrameDecoder {
  readonly framing: SyslogFraming;
  readonly maxMessageBytes: number;
  /**
   * Buffered bytes are store[head, tail): appended in place (capacity doubles) and searched for LF only past
   * `noLfBefore`, so a message trickling in one byte per packet costs linear, not quadratic, time.
   */
  private store: Uint8Array = new Uint8Array(0);
  private head = 0;
  private tail = 0;
  /** Newline framing: store[head, noLfBefore) is known to hold no LF. */
  private noLfBefore = 0;
  /** Bytes of an oversized octet-counted frame still to drop. */
  private skipCount = 0;
  /** Dropping an oversized line up to its LF. */
  private skipLine = false;
  private failed = false;

  constructor(options: FrameDecoderOptions = {}) {
    this.framing = options.framing ?? 'auto';
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 1) throw new Error('maxMessageBytes must be a positive integer');
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.tail - this.head;
  }

  private append(data: Uint8Array): void {
    if (this.tail + data.length > this.store.length) {
      const held = this.tail - this.head;
      const need = held + data.length;
      if (need <= this.store.length / 2) this.store.copyWithin(0, this.head, this.tail);
      else {
        const grown = new Uint8Array(Math.max(2 * need, 1024));
        grown.set(this.store.subarray(this.head, this.tail), 0);
        this.store = grown;
      }
      this.noLfBefore = Math.max(0, this.noLfBefore - this.head);
      this.head = 0;
      this.tail = held;
    }
    this.store.set(data, this.tail);
    this.tail += data.length;
  }

  private clear(): void {
    this.head = 0;
    this.tail = 0;
    this.noLfBefore = 0;
  }

  push(chunk: Uint8Array): FrameOutput {
    const out: FrameOutput = { messages: [], errors: [] };
    if (this.failed || chunk.length === 0) return out;
    let data = chunk;
    if (this.skipCount > 0) {
      const n = Math.min(this.skipCount, data.length);
      this.skipCount -= n;
      data = data.subarray(n);
    }
    if (this.skipLine) {
      const lf = data.indexOf(LF);
      if (lf === -1) return out;
      this.skipLine = false;
      data = data.subarray(lf + 1);
    }
    this.append(data);
    this.drain(out, false);
    return out;
  }

  /** End of stream: a final unterminated line counts as a message; a partial octet-counted frame is an error. */
  end(): FrameOutput {
    const out: FrameOutput = { messages: [], errors: [] };
    if (!this.failed) this.drain(out, true);
    if (this.buffered > 0 && !this.failed) out.errors.push({ reason: `stream ended inside a frame (${this.buffered} bytes left)`, fatal: false });
    this.clear();
    this.skipCount = 0;
    this.skipLine = false;
    return out;
  }

  private drain(out: FrameOutput, final: boolean): void {
    let p = this.head;
    const b = this.store.subarray(0, this.tail);
    while (p < b.length) {
      const c = b[p]!;
      if (c === LF || c === CR || c === 0) {
        p++; // blank lines and stray terminators between frames
        continue;
      }
      const counted = this.framing === 'octet-counted' || (this.framing === 'auto' && c >= 0x31 && c <= 0x39 && looksCounted(b, p));
      if (counted) {
        let q = p;
        let len = 0;
        while (q < b.length && q - p < MAX_COUNT_DIGITS && b[q]! >= 0x30 && b[q]! <= 0x39) len = len * 10 + (b[q++]! - 0x30);
        // Count still arriving (even with all MAX_COUNT_DIGITS digits in: the byte after them decides).
        if (q === b.length) break;
        if (q === p || b[q] !== SP || b[p] === 0x30) {
          out.errors.push({ reason: `invalid octet count at "${printable(b.subarray(p, p + 12))}"`, fatal: true });
          this.failed = true;
          this.clear();
          return;
        }
        const start = q + 1;
        if (len > this.maxMessageBytes) {
          out.errors.push({ reason: `message of ${len} bytes exceeds the limit of ${this.maxMessageBytes}`, fatal: false });
          const have = b.length - start;
          if (have >= len) {
            p = start + len;
            continue;
          }
          this.skipCount = len - have;
          p = b.length;
          break;
        }
        if (b.length - start < len) break; // message still arriving
        out.messages.push(b.slice(start, start + len));
        p = start + len;
        continue;
      }
      const lf = b.indexOf(LF, Math.max(p, this.noLfBefore));
      if (lf === -1) {
        this.noLfBefore = b.length;
        const tail = b.length - p;
        if (tail > this.maxMessageBytes) {
          out.errors.push({ reason: `line longer than the limit of ${this.maxMessageBytes} bytes without a newline`, fatal: false });
          this.skipLine = !final;
          p = b.length;
        } else if (final) {
          this.emitLine(out, b, p, b.length);
          p = b.length;
        }
        break;
      }
      this.emitLine(out, b, p, lf);
      p = lf + 1;
    }
    if (p >= b.length) this.clear();
    else this.head = p;
  }

  private emitLine(out: FrameOutput, b: Uint8Array, start: number, end: number): void {
    if (end > start && b[end - 1] === CR) end--;
    if (end - start > this.maxMessageBytes) {
      out.errors.push({ reason: `line of ${end - start} bytes exceeds the limit of ${this.maxMessageBytes}`, fatal: false });
      return;
    }
    if (end > start) out.messages.push(b.slice(start, end));
  }
}

/** In auto mode: digits then SP (or digits up to the end of what has arrived) is an octet count. */
function looksCounted(b: Uint8Array, p: number): boolean {
  let q = p;
  while (q < b.length && q - p <= MAX_COUNT_DIGITS && b[q]! >= 0x30 && b[q]! <= 0x39) q++;
  if (q === b.length) return q - p <= MAX_COUNT_DIGITS;
  return b[q] === SP && q - p <= MAX_COUNT_DIGITS;
}

function printable(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  return s;
}

/** Splits a whole buffer (a file, a request body) into messages with the given framing; errors are reported, not thrown. */
export function frameSyslog(data: Uint8Array, options: FrameDecoderOptions = {}): FrameOutput {
  const d = new SyslogFrameDecoder(options);
  const a = d.push(data);
  const b = d.end();
  return { messages: [...a.messages, ...b.messages], errors: [...a.errors, ...b.errors] };
}
