// Tests of the syslog message parser (RFC 5424, RFC 3164 variants, year resolution) and the RFC 6587 stream framing.
import { describe, expect, it } from 'vitest';
import { frameSyslog, isoOfMicros, parseSyslog, SyslogFrameDecoder, type SyslogMessage } from './syslog.ts';

const REF = Date.UTC(2024, 9, 15); // 2024-10-15
const enc = new TextEncoder();
const dec = new TextDecoder();
const micros = (iso: string): number => Date.parse(iso) * 1000;

function ok(text: string, referenceMs = REF): SyslogMessage {
  const r = parseSyslog(text, { referenceMs });
  if (!r.ok) throw new Error(`expected a message, got: ${r.reason}`);
  return r.message;
}

describe('parseSyslog RFC 5424', () => {
  it('reads every header field, structured data with escapes, and strips the BOM', () => {
    const m = ok('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ica\\]tion\\\\" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event');
    expect(m).toEqual({
      format: 'rfc5424',
      priority: 165,
      facility: 20,
      severity: 5,
      timestamp: micros('2003-10-11T22:14:15.003Z'),
      timestampIso: '2003-10-11T22:14:15.003000Z',
      timestampText: '2003-10-11T22:14:15.003Z',
      yearInferred: false,
      hostname: 'mymachine.example.com',
      app: 'evntslog',
      procid: '1234',
      msgid: 'ID47',
      structuredData: [
        { id: 'exampleSDID@32473', params: [['iut', '3'], ['eventSource', 'Appl"ica]tion\\'], ['eventID', '1011']] },
        { id: 'examplePriority@32473', params: [['class', 'high']] },
      ],
      message: 'An application event',
    });
  });

  it('maps "-" to null, keeps microseconds and offsets, allows a missing MSG', () => {
    const m = ok('<34>1 2024-10-10T12:00:00.123456+02:00 - - - - -');
    expect(m.timestamp).toBe(micros('2024-10-10T10:00:00.123Z') + 456);
    expect(m.timestampIso).toBe('2024-10-10T10:00:00.123456Z');
    expect([m.hostname, m.app, m.procid, m.msgid, m.structuredData, m.message]).toEqual([null, null, null, null, [], '']);
    expect(ok('<34>1 - host app - - - hello').timestamp).toBeNull();
  });

  it('rejects broken headers with a reason', () => {
    const bad: [string, RegExp][] = [
      ['<34>1 2024-10-10T12:00:00Z host', /truncated/],
      ['<34>1 10/10/2024 host app - - - x', /not RFC 3339/],
      ['<34>1 2024-10-10T12:00:00Z h a - - [id x="1" x', /unterminated value|malformed|not terminated/],
      ['<34>1 2024-10-10T12:00:00Z h a - - [ x="1"] m', /without SD-ID/],
      ['<34>1 2024-10-10T12:00:00Z h a - - nosd', /neither/],
      ['<34>1 2024-10-10T12:00:00Z h a - - -x', /no space/],
      ['<999>Oct 10 12:00:00 h m', /invalid PRI/],
      ['<ab>Oct 10 12:00:00 h m', /invalid PRI/],
    ];
    for (const [text, reason] of bad) {
      const r = parseSyslog(text, { referenceMs: REF });
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.reason, text).toMatch(reason);
    }
  });
});

describe('parseSyslog RFC 3164', () => {
  it('reads PRI, BSD timestamp, host, TAG[PID] and the message', () => {
    const m = ok('<30>Oct 10 12:00:00 dhcp01 dhcpd[3761]: DHCPACK to 10.0.0.5 (f0:5e:0c:b2:35:bf) via eth2');
    expect(m).toMatchObject({
      format: 'rfc3164',
      priority: 30,
      facility: 3,
      severity: 6,
      timestamp: micros('2024-10-10T12:00:00Z'),
      timestampText: 'Oct 10 12:00:00',
      yearInferred: true,
      hostname: 'dhcp01',
      app: 'dhcpd',
      procid: '3761',
      msgid: null,
      message: 'DHCPACK to 10.0.0.5 (f0:5e:0c:b2:35:bf) via eth2',
    });
  });

  it('accepts lines without PRI (syslog daemon files), space-padded and unpadded days, tags without PID', () => {
    expect(ok('Mar  7 01:02:03 host app: hi')).toMatchObject({ priority: null, timestamp: micros('2024-03-07T01:02:03Z'), hostname: 'host', app: 'app', procid: null, message: 'hi' });
    expect(ok('<14>Mar 7 01:02:03 host app: hi').timestamp).toBe(micros('2024-03-07T01:02:03Z'));
  });

  it('takes a tag right after the timestamp as the tag (sender omitted the host)', () => {
    expect(ok('<30>Oct 10 12:00:00 dhcpd[1]: DHCPINFORM from 10.0.0.5 via eth2')).toMatchObject({ hostname: null, app: 'dhcpd', procid: '1' });
  });

  it('leaves app null when no tag follows the host (Cisco ISE, relayed headers)', () => {
    const m = ok('Aug  6 17:26:31 10.34.84.145 Aug  7 00:45:43 stage-pdp01 CISE_Profiler 0000024855 1 0 x');
    expect(m).toMatchObject({ hostname: '10.34.84.145', app: null, message: 'Aug  7 00:45:43 stage-pdp01 CISE_Profiler 0000024855 1 0 x' });
  });

  it('reads ISO timestamps as rsyslog writes them, with or without PRI', () => {
    const m = ok('2024-10-10T12:00:12.250000+02:00 dhcp03 dhcpd[5]: msg');
    expect(m).toMatchObject({ timestamp: micros('2024-10-10T10:00:12.250Z'), yearInferred: false, hostname: 'dhcp03', app: 'dhcpd', procid: '5', message: 'msg' });
    expect(ok('<13>2024-10-10T12:00:00Z h a: m').priority).toBe(13);
  });

  it('reads the year of `Mmm dd yyyy hh:mm:ss` and fractional seconds', () => {
    expect(ok('<13>Oct 10 2019 12:00:00 h a: m')).toMatchObject({ timestamp: micros('2019-10-10T12:00:00Z'), yearInferred: false });
    expect(ok('<13>Oct 10 12:00:00.654321 h a: m').timestamp).toBe(micros('2024-10-10T12:00:00.654Z') + 321);
  });

  it('resolves year-less timestamps to the year closest to the reference, applying the offset option', () => {
    const jan1 = Date.UTC(2025, 0, 1, 0, 5);
    expect(ok('Dec 31 23:59:00 h a: m', jan1).timestamp).toBe(micros('2024-12-31T23:59:00Z'));
    expect(ok('Jan  1 00:01:00 h a: m', Date.UTC(2024, 11, 31, 23, 59)).timestamp).toBe(micros('2025-01-01T00:01:00Z'));
    expect(ok('Feb 29 10:00:00 h a: m', Date.UTC(2025, 1, 28)).timestamp).toBe(micros('2024-02-29T10:00:00Z'));
    const r = parseSyslog('Oct 10 12:00:00 h a: m', { referenceMs: REF, offsetMinutes: 120 });
    expect(r.ok && r.message.timestamp).toBe(micros('2024-10-10T10:00:00Z'));
  });

  it('rejects lines without a timestamp and impossible dates', () => {
    for (const [text, reason] of [
      ['', /no syslog timestamp/],
      ['hello world', /no syslog timestamp/],
      ['<30>', /no syslog timestamp/],
      ['Foo 10 12:00:00 h a: m', /impossible date/],
      ['Apr 31 12:00:00 h a: m', /impossible date/],
      ['Oct 10 25:00:00 h a: m', /impossible date/],
    ] as const) {
      const r = parseSyslog(text, { referenceMs: REF });
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
  });

  it('never throws on random input', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    const base = '<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b="c\\"d"] msg';
    for (let i = 0; i < 3000; i++) {
      const cut = base.slice(0, Math.floor(rnd() * base.length));
      let junk = '';
      for (let k = 0; k < 20; k++) junk += String.fromCharCode(Math.floor(rnd() * 128));
      expect(() => parseSyslog(cut, { referenceMs: REF })).not.toThrow();
      expect(() => parseSyslog(junk, { referenceMs: REF })).not.toThrow();
      expect(() => parseSyslog(`Oct 10 12:00:00 ${junk}`, { referenceMs: REF })).not.toThrow();
    }
  });
});

describe('isoOfMicros', () => {
  it('keeps microseconds', () => {
    expect(isoOfMicros(micros('2024-10-10T12:00:00.123Z') + 45)).toBe('2024-10-10T12:00:00.123045Z');
  });
});

const text = (out: { messages: Uint8Array[] }) => out.messages.map((m) => dec.decode(m));

describe('SyslogFrameDecoder', () => {
  it('octet counting: frames split anywhere across chunks, remainder kept', () => {
    const d = new SyslogFrameDecoder({ framing: 'octet-counted' });
    const stream = '11 <13>1 - - a9 <13>hello13 <13>1 - - é';
    const bytes = enc.encode(stream);
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i += 3) got.push(...text(d.push(bytes.subarray(i, i + 3))));
    // The third frame claims 13 bytes but only 12 arrive (`é` is two bytes): it stays buffered.
    expect(got).toEqual(['<13>1 - - a', '<13>hello']);
    expect(d.buffered).toBeGreaterThan(0);
    const end = d.end();
    expect(end.errors[0]?.reason).toMatch(/stream ended inside a frame/);
  });

  it('octet counting: messages may contain newlines; a broken count is fatal', () => {
    expect(text(frameSyslog(enc.encode('7 a\nb\nc d5 hello'), { framing: 'octet-counted' }))).toEqual(['a\nb\nc d', 'hello']);
    const d = new SyslogFrameDecoder({ framing: 'octet-counted' });
    const out = d.push(enc.encode('5 hello<13>oops'));
    expect(text(out)).toEqual(['hello']);
    expect(out.errors).toEqual([{ reason: 'invalid octet count at "<13>oops"', fatal: true }]);
    expect(d.push(enc.encode('5 hello')).messages).toEqual([]);
    expect(frameSyslog(enc.encode('05 hello'), { framing: 'octet-counted' }).errors[0]?.fatal).toBe(true);
  });

  it('octet counting: an oversized frame is reported and skipped, even when it arrives in pieces', () => {
    const d = new SyslogFrameDecoder({ framing: 'octet-counted', maxMessageBytes: 8 });
    const a = d.push(enc.encode('20 0123456789'));
    expect(a.errors).toEqual([{ reason: 'message of 20 bytes exceeds the limit of 8', fatal: false }]);
    expect(d.buffered).toBe(0);
    const b = d.push(enc.encode('0123456789'));
    expect(b.messages).toEqual([]);
    expect(text(d.push(enc.encode('3 abc')))).toEqual(['abc']);
  });

  it('newline framing: CRLF, blank lines, final unterminated line at end()', () => {
    const d = new SyslogFrameDecoder({ framing: 'newline' });
    expect(text(d.push(enc.encode('<13>a\r\n\n<13>b\n<13>c')))).toEqual(['<13>a', '<13>b']);
    expect(d.buffered).toBe(5);
    expect(text(d.end())).toEqual(['<13>c']);
  });

  it('newline framing: an overlong line is rejected without buffering it', () => {
    const d = new SyslogFrameDecoder({ framing: 'newline', maxMessageBytes: 10 });
    const a = d.push(enc.encode('x'.repeat(25)));
    expect(a.errors).toEqual([{ reason: 'line longer than the limit of 10 bytes without a newline', fatal: false }]);
    expect(d.buffered).toBe(0);
    expect(d.push(enc.encode('y'.repeat(100))).messages).toEqual([]);
    expect(d.buffered).toBe(0);
    expect(text(d.push(enc.encode('zz\nshort\n')))).toEqual(['short']);
    const e = frameSyslog(enc.encode('0123456789AB\nok\n'), { framing: 'newline', maxMessageBytes: 10 });
    expect(text(e)).toEqual(['ok']);
    expect(e.errors[0]?.reason).toBe('line of 12 bytes exceeds the limit of 10');
  });

  it('auto: decides per frame; digits without a following space are a line', () => {
    const out = frameSyslog(enc.encode('5 hello<13>line one\n2024-10-10T12:00:00Z h a: m\n3 abc'), { framing: 'auto' });
    expect(text(out)).toEqual(['hello', '<13>line one', '2024-10-10T12:00:00Z h a: m', 'abc']);
    expect(out.errors).toEqual([]);
    // A count whose digits arrive in separate chunks.
    const d = new SyslogFrameDecoder();
    expect(d.push(enc.encode('1')).messages).toEqual([]);
    expect(text(d.push(enc.encode('5 <13>hello wo')))).toEqual([]);
    expect(text(d.push(enc.encode('rld<14>next')))).toEqual(['<13>hello world']);
    expect(text(d.end())).toEqual(['<14>next']);
  });

  it('rejects a bad limit and survives random chunks without throwing or growing past the limit', () => {
    expect(() => new SyslogFrameDecoder({ maxMessageBytes: 0 })).toThrow(/positive/);
    let seed = 11;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    for (const framing of ['auto', 'newline', 'octet-counted'] as const) {
      const d = new SyslogFrameDecoder({ framing, maxMessageBytes: 64 });
      for (let i = 0; i < 2000; i++) {
        const chunk = new Uint8Array(Math.floor(rnd() * 40));
        for (let k = 0; k < chunk.length; k++) chunk[k] = rnd() < 0.3 ? 0x30 + Math.floor(rnd() * 10) : rnd() < 0.1 ? 0x0a : Math.floor(rnd() * 256);
        const out = d.push(chunk);
        for (const m of out.messages) expect(m.length).toBeLessThanOrEqual(64);
        expect(d.buffered).toBeLessThanOrEqual(64 + 11 + 40);
      }
      expect(() => d.end()).not.toThrow();
    }
  });
});

describe('SyslogFrameDecoder under one-byte packets', () => {
  it('frames the same messages as one push, buffering at most one message', () => {
    const stream = enc.encode(`<13>Mar 11 12:00:00 h a: ${'x'.repeat(30_000)}\r\n\n<13>short\n${'y'.repeat(40_000)}\n<14>last`);
    for (const framing of ['newline', 'octet-counted'] as const) {
      const input = framing === 'newline' ? stream : enc.encode(`30 ${'z'.repeat(30)}5 hello70000 ${'q'.repeat(70_000)}2 ok`);
      const whole = frameSyslog(input, { framing, maxMessageBytes: 32 * 1024 });
      const d = new SyslogFrameDecoder({ framing, maxMessageBytes: 32 * 1024 });
      const got: string[] = [];
      let errors = 0;
      let maxBuffered = 0;
      for (let i = 0; i < input.length; i++) {
        const o = d.push(input.subarray(i, i + 1));
        got.push(...text(o));
        errors += o.errors.length;
        maxBuffered = Math.max(maxBuffered, d.buffered);
      }
      const end = d.end();
      got.push(...text(end));
      errors += end.errors.length;
      expect(got).toEqual(text(whole));
      expect(errors).toBe(whole.errors.length);
      expect(maxBuffered).toBeLessThanOrEqual(32 * 1024 + 12);
    }
  });

  it('waits for the byte after a full 10-digit count that ends a packet instead of failing the stream', () => {
    const d = new SyslogFrameDecoder({ framing: 'octet-counted', maxMessageBytes: 64 });
    const first = d.push(enc.encode('4294967296'));
    expect(first.errors).toEqual([]);
    const second = d.push(enc.encode(' <13>x'));
    expect(second.errors).toEqual([{ reason: 'message of 4294967296 bytes exceeds the limit of 64', fatal: false }]);
  });
});
