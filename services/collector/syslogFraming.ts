// Syslog message framing for the collector (pure, no I/O). Written here because libs/formats had no syslog framer
// when the collector's syslog input was built. TCP (RFC 6587): octet counting (`<len> <msg>`) or non-transparent
// framing (messages ended by LF, or NUL), detected per connection from its first byte (a digit means octet
// counting, as RFC 6587 §3.4.1 messages start with their length; `<` is a PRI of a newline-framed message).
// UDP (RFC 5426): one message per datagram, or several separated by newlines.
// A message longer than the limit is skipped without being buffered, and counted.

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

/** Incremental framer for one TCP connection. */
export class TcpSyslogFramer {
  private mode: 'detect' | 'octet' | 'newline' = 'detect';
  private buf: Uint8Array[] = [];
  private bufLen = 0;
  /** Octet counting: digits of the length being read, or the bytes still to read / skip. */
  private lenDigits = '';
  private remaining = -1;
  private skipping = false;

  constructor(private readonly max: number) {}

  get framing(): 'octet-counting' | 'newline' | 'unknown' {
    return this.mode === 'octet' ? 'octet-counting' : this.mode === 'newline' ? 'newline' : 'unknown';
  }

  push(chunk: Uint8Array): FramerOutput {
    const out: FramerOutput = { messages: [], dropped: 0 };
    let i = 0;
    if (this.mode === 'detect') {
      while (i < chunk.length && isSpace(chunk[i]!)) i++;
      if (i === chunk.length) return out;
      const c = chunk[i]!;
      this.mode = c >= 0x31 && c <= 0x39 ? 'octet' : 'newline';
    }
    return this.mode === 'octet' ? this.octet(chunk, i, out) : this.newline(chunk, i, out);
  }

  /** End of the connection: a last newline-framed message without its terminator still counts. */
  end(): FramerOutput {
    const out: FramerOutput = { messages: [], dropped: 0 };
    if (this.mode === 'newline' && !this.skipping && this.bufLen > 0) this.emit(out);
    else if (this.mode === 'octet' && this.remaining > 0 && this.bufLen > 0) out.dropped++; // truncated frame
    this.buf = [];
    this.bufLen = 0;
    return out;
  }

  private newline(chunk: Uint8Array, from: number, out: FramerOutput): FramerOutput {
    let start = from;
    while (start < chunk.length) {
      let end = start;
      while (end < chunk.length && chunk[end] !== LF && chunk[end] !== NUL) end++;
      const terminated = end < chunk.length;
      if (this.skipping) {
        if (terminated) this.skipping = false;
      } else {
        this.append(chunk.subarray(start, end));
        if (this.bufLen > this.max) {
          // Over the limit: forget what is buffered and skip to the end of this message.
          out.dropped++;
          this.buf = [];
          this.bufLen = 0;
          this.skipping = !terminated;
        } else if (terminated) this.emit(out);
      }
      start = end + 1;
    }
    return out;
  }

  private octet(chunk: Uint8Array, from: number, out: FramerOutput): FramerOutput {
    let i = from;
    while (i < chunk.length) {
      if (this.remaining < 0) {
        const c = chunk[i]!;
        if (this.lenDigits === '' && isSpace(c)) {
          i++; // some senders end each counted frame with a newline too
          continue;
        }
        if (c >= 0x30 && c <= 0x39 && this.lenDigits.length < 10) {
          this.lenDigits += String.fromCharCode(c);
          i++;
          continue;
        }
        if (c === SP && this.lenDigits !== '' && this.lenDigits[0] !== '0') {
          this.remaining = Number(this.lenDigits);
          this.lenDigits = '';
          this.skipping = this.remaining > this.max;
          if (this.skipping) out.dropped++;
          i++;
          if (this.remaining === 0) this.remaining = -1;
          continue;
        }
        out.error = `invalid octet count ${JSON.stringify(this.lenDigits + String.fromCharCode(c))}: expected "<length> <message>" (RFC 6587)`;
        return out;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      if (!this.skipping) this.append(chunk.subarray(i, i + take));
      this.remaining -= take;
      i += take;
      if (this.remaining === 0) {
        this.remaining = -1;
        if (this.skipping) this.skipping = false;
        else this.emit(out);
      }
    }
    return out;
  }

  private append(part: Uint8Array): void {
    if (part.length === 0) return;
    // Chunks are reused by nothing after 'data', but copy anyway so a paused socket's buffers can be freed.
    this.buf.push(Uint8Array.prototype.slice.call(part));
    this.bufLen += part.length;
  }

  private emit(out: FramerOutput): void {
    const msg = this.buf.length === 1 ? this.buf[0]! : Buffer.concat(this.buf, this.bufLen);
    this.buf = [];
    this.bufLen = 0;
    const rec = toRecord(msg);
    if (!isBlank(rec)) out.messages.push(rec);
  }
}

function isSpace(c: number): boolean {
  return c === SP || c === LF || c === CR || c === 0x09 || c === NUL;
}
