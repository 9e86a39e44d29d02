// Syslog message framing for the collector (pure, no I/O). TCP (RFC 6587): octet counting (`<len> <msg>`) or
// non-transparent framing (messages ended by LF), detected per connection from its first byte (a digit means octet
// counting, as RFC 6587 §3.4.1 frames start with their length; `<` is the PRI of a newline-framed message); the
// framing itself is libs/formats' SyslogFrameDecoder. UDP (RFC 5426): one message per datagram, or several
// separated by newlines. A message longer than the limit is skipped without being buffered, and counted.
import { SyslogFrameDecoder } from '@sluice/formats';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;

export interface FramerOutput {
  messages: Uint8Array[];
  /** Messages skipped for being over the limit. */
  dropped: number;
  /** A framing error that makes the rest of the connection unreadable (bad octet count); close it. */
  error?: string;
}

/** Copies a message, turning embedded CR/LF into spaces: a raw record is one NDJSON envelope line. */
export function toRecord(msg: Uint8Array): Uint8Array {
  let end = msg.length;
  while (end > 0 && (msg[end - 1] === LF || msg[end - 1] === CR || msg[end - 1] === NUL)) end--;
  const out = Uint8Array.prototype.slice.call(msg, 0, end);
  for (let i = 0; i < out.length; i++) if (out[i] === LF || out[i] === CR) out[i] = SP;
  return out;
}

/** Messages of one UDP datagram (newline-separated when it holds several), each within `max` bytes. */
export function frameDatagram(d: Uint8Array, max: number): FramerOutput {
  const messages: Uint8Array[] = [];
  let dropped = 0;
  let start = 0;
  while (start <= d.length) {
    let nl = d.indexOf(LF, start);
    if (nl === -1) nl = d.length;
    const part = toRecord(d.subarray(start, nl));
    if (part.length > max) dropped++;
    else if (!isBlank(part)) messages.push(part);
    start = nl + 1;
  }
  return { messages, dropped };
}

function isBlank(b: Uint8Array): boolean {
  for (const c of b) if (c !== SP && c !== 0x09 && c !== NUL) return false;
  return true;
}

/** Incremental framer for one TCP connection: framing fixed by the connection's first byte. */
export class TcpSyslogFramer {
  private decoder: SyslogFrameDecoder | undefined;

  constructor(private readonly max: number) {}

  get framing(): 'octet-counting' | 'newline' | 'unknown' {
    const f = this.decoder?.framing;
    return f === 'octet-counted' ? 'octet-counting' : f === 'newline' ? 'newline' : 'unknown';
  }

  push(chunk: Uint8Array): FramerOutput {
    if (!this.decoder) {
      let i = 0;
      while (i < chunk.length && isSpace(chunk[i]!)) i++;
      if (i === chunk.length) return { messages: [], dropped: 0 };
      const c = chunk[i]!;
      this.decoder = new SyslogFrameDecoder({ framing: c >= 0x31 && c <= 0x39 ? 'octet-counted' : 'newline', maxMessageBytes: this.max });
      chunk = chunk.subarray(i);
    }
    return convert(this.decoder.push(chunk));
  }

  /** End of the connection: a last newline-framed message without its terminator still counts. */
  end(): FramerOutput {
    return this.decoder ? convert(this.decoder.end()) : { messages: [], dropped: 0 };
  }
}

function convert(o: { messages: Uint8Array[]; errors: { reason: string; fatal: boolean }[] }): FramerOutput {
  const out: FramerOutput = { messages: [], dropped: 0 };
  for (const m of o.messages) {
    const r = toRecord(m);
    if (!isBlank(r)) out.messages.push(r);
  }
  for (const e of o.errors) {
    // Non-fatal errors are skipped messages (over the limit, or cut by the end of the stream).
    if (e.fatal) out.error = e.reason;
    else out.dropped++;
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === SP || c === LF || c === CR || c === 0x09 || c === NUL;
}
