// Tests of the DHCP family: one pattern per dhcpd message type into `dhcp` rows, the null rules for IP and MAC,
// year resolution of BSD timestamps, routing of non-DHCP lines and robustness against broken input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dhcpLeases } from '../tables/dhcp/dhcpLeases.ts';
import { compileValidator } from '@sluice/tables';
import { createDhcpFamily, parseDhcpMessage, referenceTimeFor } from './dhcp.ts';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext } from './sourceFamily.ts';

const enc = new TextEncoder();
const NOW = Date.UTC(2024, 9, 20); // 2024-10-20: year-less Oct 10 lines resolve to 2024
const family = createDhcpFamily({ now: () => NOW });
const ctx: RecordContext = { source: 'dhcp', object: 'tcp:10.2.2.2:601', preamble: [] };
const validate = compileValidator(dhcpLeases);
const fixture = readFileSync(new URL('../../test/fixtures/dhcp/dhcpd.syslog', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
const micros = (iso: string): number => Date.parse(iso) * 1000;

function rowOf(line: string, c: RecordContext = ctx) {
  const v = validate(family.decode!(enc.encode(line), 'lease', c));
  return v;
}

describe('dhcp route', () => {
  it('routes DHCP messages and r-l-e lease events to lease, other lines to _unknown, never rejecting syslog lines', () => {
    const r = family.route(fixture.map((l) => enc.encode(l)), ctx);
    expect(r.rejected).toEqual([]);
    expect(r.routed.map((x) => x.category)).toEqual([
      ...Array<string>(11).fill('lease'),
      UNKNOWN_CATEGORY, // Wrote 0 leases to leases file.
      UNKNOWN_CATEGORY, // named
      'lease',
      'lease',
      'lease',
      'lease',
    ]);
    expect(r.routed[0]!.record).toEqual(enc.encode(fixture[0]!));
  });

  it('rejects non-syslog garbage and invalid UTF-8; routes a header-less DHCP message for the parser to quarantine', () => {
    const r = family.route([enc.encode('hello'), new Uint8Array([0xff, 0x00]), new Uint8Array(0), enc.encode('DHCPACK on 10.0.0.1 to 00:11:22:33:44:55 via eth0')], ctx);
    expect(r.rejected.map((x) => [x.rule, x.reason])).toEqual([
      ['parse', expect.stringMatching(/^not a syslog line: no syslog timestamp/)],
      ['encoding', 'record is not valid UTF-8'],
      ['parse', expect.stringMatching(/^not a syslog line/)],
    ]);
    expect(r.routed.map((x) => x.category)).toEqual(['lease']);
    expect(() => family.decode!(r.routed[0]!.record, 'lease', ctx)).toThrow(/no syslog header, so no event time/);
    expect(family.route([], ctx)).toEqual({ routed: [], rejected: [] });
  });
});

describe('dhcp decode: one pattern per message type', () => {
  const rows = fixture.map((l) => (l.includes('Wrote') || l.includes('named[') ? null : rowOf(l)));

  it('every fixture DHCP line is kept without failed expectations', () => {
    for (const [i, v] of rows.entries()) {
      if (!v) continue;
      expect(v.disposition, fixture[i]).toBe('keep');
      expect(v.failed, fixture[i]).toEqual([]);
    }
  });

  it('DISCOVER: MAC and host name, no IP', () => {
    expect(rows[0]!.row).toMatchObject({
      timestamp: micros('2024-10-10T12:00:00Z'),
      eventDate: Math.floor(Date.UTC(2024, 9, 10) / 86_400_000),
      host: 'dhcp01',
      app: 'dhcpd',
      pid: 3761,
      syslog_priority: 30,
      event_type: 'DISCOVER',
      ip: null,
      mac: 'f0:5e:0c:b2:35:bf',
      hostname: 'host1',
      interface: 'eth2',
      relay: null,
      message: 'DHCPDISCOVER from f0:5e:0c:b2:35:bf (host1) via eth2',
    });
  });

  it('OFFER, REQUEST with server id, ACK with relay and lease-duration (MAC normalised)', () => {
    expect(rows[1]!.row).toMatchObject({ event_type: 'OFFER', ip: '10.0.0.5', mac: 'f0:5e:0c:b2:35:bf', hostname: 'host1', interface: 'eth2' });
    expect(rows[2]!.row).toMatchObject({ event_type: 'REQUEST', ip: '10.0.0.5', server_ip: '10.0.0.1', mac: 'f0:5e:0c:b2:35:bf', hostname: 'host1' });
    expect(rows[3]!.row).toMatchObject({
      timestamp: micros('2024-10-10T12:00:01Z'),
      event_type: 'ACK',
      ip: '10.0.0.5',
      mac: 'f0:5e:0c:b2:35:bf',
      hostname: 'host1',
      interface: 'eth2',
      relay: '10.1.1.1',
      lease_duration: 3600,
    });
  });

  it('INFORM has an IP but no MAC; its ACK names the MAC in parentheses', () => {
    expect(rows[4]!.row).toMatchObject({ event_type: 'INFORM', ip: '10.0.0.5', mac: null, interface: 'eth2' });
    expect(rows[5]!.row).toMatchObject({ event_type: 'ACK', ip: '10.0.0.5', mac: 'f0:5e:0c:b2:35:bf', hostname: null });
  });

  it('NAK via a relay address, DECLINE with status, RELEASE (found), EXPIRE without via, DISCOVER error tail', () => {
    expect(rows[6]!.row).toMatchObject({ event_type: 'NAK', ip: '10.0.0.9', mac: '00:11:22:33:44:55', interface: null, relay: '10.1.1.1' });
    expect(rows[7]!.row).toMatchObject({ event_type: 'DECLINE', ip: '10.0.0.7', hostname: 'printer', syslog_priority: 28, detail: 'abandoned' });
    expect(rows[8]!.row).toMatchObject({ event_type: 'RELEASE', ip: '10.0.0.5', mac: 'f0:5e:0c:b2:35:bf', detail: 'found' });
    expect(rows[9]!.row).toMatchObject({ event_type: 'EXPIRE', ip: '10.0.0.8', mac: '00:11:22:33:44:77', interface: null });
    expect(rows[10]!.row).toMatchObject({ event_type: 'DISCOVER', mac: '00:11:22:33:44:88', detail: 'network 10.0.0.0/24: no free leases' });
  });

  it('Infoblox variants: uid + (RENEW) via relay, r-l-e lease events, no PRI and no PID, TransID, ISO header', () => {
    expect(rows[13]!.row).toMatchObject({
      timestamp: micros('2024-10-09T23:59:59Z'),
      host: '10.2.2.2',
      event_type: 'REQUEST',
      ip: '10.0.1.20',
      relay: '10.1.1.1',
      client_id: '01:00:aa:bb:cc:dd:ee',
      renew: true,
      hostname: 'SEP00AABBCCDDEE',
    });
    expect(rows[14]!.row).toMatchObject({
      event_type: 'LEASE',
      ip: '10.0.1.20',
      mac: '00:aa:bb:cc:dd:ee',
      hostname: 'SEP00AABBCCDDEE',
      lease_state: 'Issued',
      lease_start: 1_728_561_610_000_000,
      lease_end: 1_728_648_010_000_000,
      detail: null,
    });
    expect(rows[15]!.row).toMatchObject({ syslog_priority: null, app: 'dhcpd', pid: null, event_type: 'ACK', transaction_id: '5b2c00aa', interface: 'eth0' });
    expect(rows[16]!.row).toMatchObject({ timestamp: micros('2024-10-10T10:00:12.250Z'), event_type: 'OFFER', lease_duration: 600, interface: 'eth1' });
  });
});

describe('dhcp expectations and errors', () => {
  it('ip_present and mac_present quarantine when the pattern matched but the field is not an address', () => {
    // r-l-e lines carry empty fields: no IP and no MAC is not an attributable lease.
    const v = rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: r-l-e:,Freed,,,1,2,,');
    expect(v.disposition).toBe('quarantine');
    expect(v.failed).toEqual(['ip_present', 'mac_present']);
    const w = rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: DHCPACK on 10.0.0.300 to 00:11 via eth0');
    expect(w.disposition).toBe('keep');
    expect(w.failed).toEqual(['ip_format', 'mac_format']);
  });

  it('a truncated message of a known verb is a RecordError naming the verb', () => {
    expect(() => rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: DHCPACK some text')).toThrow(RecordError);
    expect(() => rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: DHCPACK some text')).toThrow('DHCPACK message does not match its pattern: "DHCPACK some text"');
    expect(() => rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: Wrote 0 leases to leases file.')).toThrow('not a DHCP message');
    expect(() => family.decode!(new Uint8Array([0xe2, 0x82]), 'lease', ctx)).toThrow('record is not valid UTF-8');
  });

  it('strips trailing spaces and a literal \\n before matching, but keeps the message as sent', () => {
    const v = rowOf('<30>Oct 10 12:00:10 h dhcpd[1]: DHCPREQUEST for 10.0.0.5 from 00:11:22:33:44:55 via eth2 \\n');
    expect(v.row).toMatchObject({ event_type: 'REQUEST', interface: 'eth2', detail: null, message: 'DHCPREQUEST for 10.0.0.5 from 00:11:22:33:44:55 via eth2 \\n' });
  });

  it('resolves year-less timestamps against the date in the object name, else the clock', () => {
    expect(referenceTimeFor('/var/log/dhcpd.log-20230105', () => NOW)).toBe(Date.UTC(2023, 0, 5));
    expect(referenceTimeFor('s3://logs/dhcp/2022/12/31/part-1.gz', () => NOW)).toBe(Date.UTC(2022, 11, 31));
    expect(referenceTimeFor('udp:10.0.0.1:514', () => NOW)).toBe(NOW);
    const line = '<30>Dec 31 23:00:00 h dhcpd[1]: DHCPINFORM from 10.0.0.5 via eth2';
    expect(rowOf(line, { ...ctx, object: '/logs/dhcpd.log-20230105' }).row!.timestamp).toBe(micros('2022-12-31T23:00:00Z'));
    expect(rowOf(line).row!.timestamp).toBe(micros('2023-12-31T23:00:00Z'));
  });

  it('parseDhcpMessage handles any tail order and keeps unknown tail text as detail', () => {
    expect(parseDhcpMessage('DHCPOFFER on 10.0.0.5 to 00:11:22:33:44:55 via eth1 uid 01:aa TransID 0x1 relay eth1 lease-duration 120 offered-duration 3600')).toMatchObject({
      client_id: '01:aa',
      transaction_id: '0x1',
      relay: 'eth1',
      lease_duration: '120',
    });
    expect(parseDhcpMessage('DHCPREQUEST for 10.0.0.5 from 00:11:22:33:44:55 via eth2: ignored (not authoritative).')).toMatchObject({ detail: 'ignored (not authoritative).' });
    expect(parseDhcpMessage('DHCPRELEASE of 10.0.0.5 from 00:11:22:33:44:55 via eth2 (not found) extra words')).toMatchObject({ detail: 'not found; extra words' });
  });

  it('route never throws and decode throws only RecordError on truncations and random bytes', () => {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    const samples = fixture.map((l) => enc.encode(l));
    for (let i = 0; i < 3000; i++) {
      const s = samples[Math.floor(rnd() * samples.length)]!;
      const b = s.slice(0, Math.floor(rnd() * (s.length + 1)));
      if (rnd() < 0.4 && b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const r = family.route([b], ctx);
      expect(r.routed.length + r.rejected.length).toBe(1);
      for (const x of r.routed) {
        if (x.category === UNKNOWN_CATEGORY) continue;
        try {
          validate(family.decode!(x.record, x.category, ctx));
        } catch (e) {
          expect(e).toBeInstanceOf(RecordError);
        }
      }
    }
  });
});

describe('hostile DHCP messages', () => {
  it('parses a message with 400 kB of blanks inside it (trailing-blank trim once rescanned them: quadratic) and trims literal \\n', () => {
    const rec = parseDhcpMessage(`DHCPDECLINE of 10.0.0.7 from 00:11:22:33:44:66 (${' '.repeat(400_000)}printer) via eth2: abandoned \\n \\n`);
    expect(rec).toMatchObject({ event_type: 'DECLINE', ip: '10.0.0.7', interface: 'eth2', detail: 'abandoned' });
  });
});
