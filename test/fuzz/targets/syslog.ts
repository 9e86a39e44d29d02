// Fuzz targets for the collector's syslog framing (services/collector/syslogFraming.ts): a TCP stream (RFC 6587
// octet counting or newline framing, as the first byte decides) fed whole and in random chunks, and UDP datagrams;
// every message out goes through parseSyslog (RFC 5424 / RFC 3164), which must answer with a message or a reason.
// Properties: the same messages for any chunking; no message over the limit, none with a newline; the decoder
// buffers at most one message; when the input's messages are known, messages + dropped = messages in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyslog, SyslogFrameDecoder } from '@sluice/formats';
import { frameDatagram, TcpSyslogFramer, toRecord, type FramerOutput } from '../../../services/collector/syslogFraming.ts';
import { bytes, concat, mutateLine, randomBytes, Rng, rngFor, text } from '../hostile.ts';
import { checkBooks, emptyOutcome, type Outcome, type Target } from '../target.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
/** Small enough that over-limit messages are cheap to make; the service's default is 64 KiB. */
const MAX = 2048;

let samples: string[] | undefined;
function sampleMessages(): string[] {
  samples ??= [
    ...readFileSync(join(FIXTURES, 'dhcp', 'dhcpd.syslog'), 'utf8').split('\n'),
    ...readFileSync(join(FIXTURES, 'ise', 'ise.syslog'), 'utf8').split('\n'),
    '<34>1 2026-11-22T10:00:00.123456+01:00 host app 1 ID47 [exampleSDID@32473 iut="3" eventSource="App" eventID="1011"][x@1 a="\\"q\\]"] \ufeffBOM message',
    '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.',
    '<13>2024-03-11T12:00:00Z host app: rsyslog RFC3339 template',
    '<13>Mar 11 2024 12:00:00 host cisco: with a year',
    'Mar 11 12:00:00 host noprio[1]: daemon file line',
  ].filter((l) => l.trim() !== '');
  return samples;
}

const isBlankByte = (c: number) => c === 0x20 || c === 0x09 || c === 0x00 || c === 0x0d || c === 0x0a;

/** What the framer must make of one message it was given whole: a message, a drop (over the limit) or nothing (blank). */
function expectedOf(m: Uint8Array, octet: boolean): 'message' | 'dropped' | 'blank' {
  let a = 0;
  let b = m.length;
  if (!octet) {
    while (a < b && (m[a] === 0x0d || m[a] === 0x00)) a++;
    if (b > a && m[b - 1] === 0x0d) b--;
  }
  if (b - a > MAX) return 'dropped';
  const r = toRecord(m.subarray(a, b));
  return r.some((c) => !isBlankByte(c)) ? 'message' : 'blank';
}

function messages(rng: Rng): { list: Uint8Array[]; how: string[] } {
  const list: Uint8Array[] = [];
  const how: string[] = [];
  for (let k = rng.int(1, 8); k > 0; k--) {
    const s = rng.pick(sampleMessages());
    if (rng.chance(0.5)) {
      const m = mutateLine(rng, s, MAX);
      list.push(m.data);
      how.push(m.how);
    } else list.push(bytes(s));
  }
  return { list, how };
}

/** A stream of octet-counted frames; sometimes a count is wrong (bigger, smaller, zero, not digits, too long). */
function octetStream(rng: Rng): { data: Uint8Array; expected?: number; how: string } {
  const { list, how } = messages(rng);
  let expected: number | undefined = 0;
  const parts: Uint8Array[] = [];
  for (const m of list) {
    let count = String(m.length);
    if (rng.chance(0.08)) {
      count = rng.pick([String(m.length + rng.int(1, 50)), String(Math.max(0, m.length - rng.int(1, 50))), '0', '007', 'x1', '99999999999', '-5', '']);
      how.push('badcount');
      expected = undefined;
    }
    if (m.length === 0) expected = undefined; // a zero count is invalid (RFC 6587: NONZERO-DIGIT)
    parts.push(bytes(`${count} `), m);
    if (expected !== undefined) expected += expectedOf(m, true) === 'blank' ? 0 : 1;
  }
  return { data: concat(parts), expected, how: `octet:${how.join('+')}` };
}

function newlineStream(rng: Rng): { data: Uint8Array; expected?: number; how: string } {
  const { list, how } = messages(rng);
  let expected: number | undefined = 0;
  const parts: Uint8Array[] = [];
  for (const m of list) {
    if (m.includes(0x0a)) expected = undefined;
    parts.push(m, bytes(rng.pick(['\n', '\r\n', '\n\n'])));
    if (expected !== undefined) expected += expectedOf(m, false) === 'blank' ? 0 : 1;
  }
  const data = concat(parts);
  // The first byte decides the framing: a newline stream that starts with a digit is read as octet counting.
  const first = data.find((c) => !(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x00));
  if (first !== undefined && first >= 0x31 && first <= 0x39) expected = undefined;
  return { data, expected, how: `newline:${how.join('+')}` };
}

/** Chunk sizes for `n` bytes: one-byte packets (small inputs only), small, or up to 4 KiB, drawn from `seed`. */
function chunking(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  const sizes: number[] = [];
  const mode = n > 20_000 ? rng.int(1, 2) : rng.int(0, 2);
  for (let left = n; left > 0; ) {
    const s = Math.min(left, mode === 0 ? 1 : mode === 1 ? rng.int(1, 64) : rng.int(1, 4096));
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

function collect(outs: FramerOutput[]): { messages: string[]; dropped: number; error?: string } {
  const messages: string[] = [];
  let dropped = 0;
  let error: string | undefined;
  for (const o of outs) {
    for (const m of o.messages) messages.push(Buffer.from(m).toString('latin1'));
    dropped += o.dropped;
    error ??= o.error;
  }
  return { messages, dropped, error };
}

/** parseSyslog on each framed message: a message or a non-empty reason, never an exception. */
function parseAll(msgs: Uint8Array[], out: Outcome): void {
  for (const m of msgs) {
    const r = parseSyslog(text(m), { referenceMs: Date.UTC(2024, 2, 11) });
    if (r.ok) out.rows++;
    else if (r.reason) out.rejected++;
    else out.problems.push('parseSyslog: not ok without a reason');
  }
}

export const syslogTcpTarget: Target = {
  name: 'syslog-tcp',
  title: 'collector syslog TCP framing (octet counting / newline, any chunking) + parseSyslog',
  generate(seed, i) {
    const rng = rngFor(seed, 'syslog-tcp', i);
    const r = rng.next();
    const s = r < 0.15 ? { data: randomBytes(rng, rng.chance(0.9) ? 4096 : 100_000), how: 'random-bytes', expected: undefined } : r < 0.55 ? octetStream(rng) : newlineStream(rng);
    return { data: s.data, meta: { gen: s.how, expected: s.expected, chunkSeed: rng.int(0, 2 ** 31) } };
  },
  run(c) {
    const out = emptyOutcome();
    const whole = new TcpSyslogFramer(MAX);
    const w = collect([whole.push(c.data), whole.end()]);
    const chunked = new TcpSyslogFramer(MAX);
    const outs: FramerOutput[] = [];
    const bounded = new SyslogFrameDecoder({ framing: whole.framing === 'octet-counting' ? 'octet-counted' : 'newline', maxMessageBytes: MAX });
    let off = 0;
    const lead = c.data.findIndex((b) => !(b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x00));
    for (const size of chunking(Number(c.meta.chunkSeed ?? 0), c.data.length)) {
      const chunk = c.data.subarray(off, off + size);
      off += size;
      outs.push(chunked.push(chunk));
      // Memory bound: the decoder holds at most one message (plus its count) whatever the input.
      if (lead >= 0 && off > lead) {
        bounded.push(chunk.subarray(Math.max(0, lead - (off - size))));
        if (bounded.buffered > MAX + 12) out.problems.push(`decoder buffers ${bounded.buffered} bytes (limit ${MAX})`);
      }
    }
    outs.push(chunked.end());
    const ch = collect(outs);
    // The error text quotes the bytes at the bad count, which depend on chunk boundaries: compare only that it happened.
    const same = (x: typeof w) => JSON.stringify({ ...x, error: Boolean(x.error) });
    if (same(ch) !== same(w)) {
      out.problems.push(`chunking changes the result: whole ${w.messages.length} messages/${w.dropped} dropped/${w.error ?? 'no error'}, chunked ${ch.messages.length}/${ch.dropped}/${ch.error ?? 'no error'}`);
    }
    const msgs = outs.flatMap((o) => o.messages);
    for (const m of msgs) {
      if (m.length > MAX) out.problems.push(`message of ${m.length} bytes over the limit ${MAX}`);
      if (m.includes(0x0a) || m.includes(0x0d)) out.problems.push('message contains CR/LF');
      if (!m.some((x) => !isBlankByte(x))) out.problems.push('blank message');
    }
    const expected = c.meta.expected as number | undefined;
    if (expected !== undefined && !w.error && w.messages.length + w.dropped !== expected) {
      out.problems.push(`${expected} messages sent, ${w.messages.length} framed + ${w.dropped} dropped`);
    }
    out.records = msgs.length + ch.dropped;
    out.rejected += ch.dropped;
    parseAll(msgs, out);
    checkBooks(out, 'messages');
    return out;
  },
};

export const syslogUdpTarget: Target = {
  name: 'syslog-udp',
  title: 'collector syslog UDP datagrams (one or several messages per datagram) + parseSyslog',
  generate(seed, i) {
    const rng = rngFor(seed, 'syslog-udp', i);
    if (rng.chance(0.15)) return { data: randomBytes(rng, rng.chance(0.9) ? 4096 : 65_000), meta: { gen: 'random-bytes' } };
    const { list, how } = messages(rng);
    return { data: concat(list.flatMap((m, k) => (k === 0 ? [m] : [bytes(rng.pick(['\n', '\r\n', '\n\n'])), m]))), meta: { gen: how.join('+') || 'valid' } };
  },
  run(c) {
    const out = emptyOutcome();
    const r = frameDatagram(c.data, MAX);
    // Oracle: every LF-separated part is a message, a drop (over the limit) or blank.
    let want = 0;
    let wantDropped = 0;
    let start = 0;
    while (start <= c.data.length) {
      let nl = c.data.indexOf(0x0a, start);
      if (nl === -1) nl = c.data.length;
      const part = toRecord(c.data.subarray(start, nl));
      if (part.length > MAX) wantDropped++;
      else if (part.some((x) => !isBlankByte(x))) want++;
      start = nl + 1;
    }
    if (r.messages.length !== want || r.dropped !== wantDropped) out.problems.push(`datagram: ${want} messages + ${wantDropped} over the limit expected, got ${r.messages.length} + ${r.dropped}`);
    for (const m of r.messages) {
      if (m.length > MAX) out.problems.push(`message of ${m.length} bytes over the limit ${MAX}`);
      if (m.includes(0x0a) || m.includes(0x0d)) out.problems.push('message contains CR/LF');
    }
    out.records = want + wantDropped;
    out.rejected += r.dropped;
    parseAll(r.messages, out);
    checkBooks(out, 'messages');
    return out;
  },
};
