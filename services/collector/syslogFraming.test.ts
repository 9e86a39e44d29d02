// Syslog framing: octet counting and newline framing over arbitrary chunk boundaries, limits, bad counts.
import { describe, expect, it } from 'vitest';
import { frameDatagram, TcpSyslogFramer } from './syslogFraming.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const strs = (m: Uint8Array[]) => m.map((x) => dec.decode(x));

/** Feeds `input` in chunks of `size` bytes and collects every output. */
function feed(input: string, size: number, max = 1024) {
  const f = new TcpSyslogFramer(max);
  const bytes = enc.encode(input);
  const messages: string[] = [];
  let dropped = 0;
  let error: string | undefined;
  for (let i = 0; i < bytes.length && !error; i += size) {
    const o = f.push(bytes.subarray(i, i + size));
    messages.push(...strs(o.messages));
    dropped += o.dropped;
    error = o.error;
  }
  const end = f.end();
  messages.push(...strs(end.messages));
  return { messages, dropped: dropped + end.dropped, error, framing: f.framing };
}

const m1 = '<34>1 2026-11-22T10:00:00Z host app 1 ID47 - first message';
const m2 = '<13>Nov 22 10:00:01 host dhcpd[3761]: DHCPACK to 10.0.0.5 (f0:5e:0c:b2:35:bf) via eth2';
const octet = (m: string) => `${enc.encode(m).length} ${m}`;

describe('TcpSyslogFramer', () => {
  it('octet counting at every chunk size, with a multi-line message flattened to one record', () => {
    const multi = '<14>1 - h a - - - line one\nline two';
    const input = octet(m1) + octet('<14>é ünïcode') + octet(multi) + '\n' + octet(m2);
    for (const size of [1, 2, 3, 7, 64, 4096]) {
      const r = feed(input, size);
      expect(r.framing).toBe('octet-counting');
      expect(r.messages, `chunk ${size}`).toEqual([m1, '<14>é ünïcode', '<14>1 - h a - - - line one line two', m2]);
      expect(r.dropped).toBe(0);
    }
  });

  it('newline framing (LF, CRLF), blank lines skipped, last message without terminator kept at close', () => {
    for (const size of [1, 5, 4096]) {
      const r = feed(`\n${m1}\r\n\n${m2}\n${m1}\n${m2}`, size);
      expect(r.framing).toBe('newline');
      expect(r.messages, `chunk ${size}`).toEqual([m1, m2, m1, m2]);
    }
  });

  it('drops messages over the limit without buffering them, and keeps going', () => {
    const long = '<13>' + 'x'.repeat(300);
    for (const size of [1, 17, 4096]) {
      const nl = feed(`${m2}\n${long}\n${m2}\n`, size, 200);
      expect(nl.messages).toEqual([m2, m2]);
      expect(nl.dropped).toBe(1);
      const oc = feed(octet(m2) + octet(long) + octet(m2), size, 200);
      expect(oc.messages).toEqual([m2, m2]);
      expect(oc.dropped).toBe(1);
    }
  });

  it('reports a bad octet count as an error (the connection is then closed)', () => {
    expect(feed('12x <13>abc', 4096).error).toMatch(/invalid octet count/);
    expect(feed('99999999999 abc', 4096).error).toMatch(/invalid octet count/);
    // A counted frame cut by the close is dropped, not published half.
    const cut = feed(octet(m1) + '50 <13>partial', 4096);
    expect(cut.messages).toEqual([m1]);
    expect(cut.dropped).toBe(1);
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 300; k++) {
      const f = new TcpSyslogFramer(64);
      const len = Math.floor(rnd() * 400);
      const b = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
      for (let i = 0; i < b.length; i += 1 + Math.floor(rnd() * 50)) {
        const o = f.push(b.subarray(i, i + 50));
        for (const m of o.messages) expect(m.length).toBeLessThanOrEqual(64);
        if (o.error) break;
      }
      f.end();
    }
  });
});

describe('frameDatagram', () => {
  it('one message, or several newline-separated; over-limit parts dropped', () => {
    expect(strs(frameDatagram(enc.encode(m1), 1024).messages)).toEqual([m1]);
    expect(strs(frameDatagram(enc.encode(`${m1}\n`), 1024).messages)).toEqual([m1]);
    expect(strs(frameDatagram(enc.encode(`${m1}\r\n${m2}\n\n`), 1024).messages)).toEqual([m1, m2]);
    const r = frameDatagram(enc.encode(`${m1}\n${'y'.repeat(100)}\n${m2}`), 90);
    expect(strs(r.messages)).toEqual([m1, m2]);
    expect(r.dropped).toBe(1);
  });
});
