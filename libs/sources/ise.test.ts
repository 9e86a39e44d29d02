// Tests of the Cisco ISE family: routing by logging category, multi-segment reassembly, decoding of the event header
// and key=value body into ise_profiler / ise_posture rows, and robustness against broken input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileValidator, type Validation } from '@sluice/tables';
import { iseFamily, MAX_SEGMENTS } from './ise.ts';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext } from './sourceFamily.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const ctx: RecordContext = { source: 'ise', object: 'udp:10.9.9.9:514', preamble: [] };
const fixture = readFileSync(new URL('../../test/fixtures/ise/ise.syslog', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
const micros = (iso: string): number => Date.parse(iso) * 1000;
const day = (iso: string): number => Math.floor(Date.parse(iso) / 86_400_000);

const validators = Object.fromEntries(Object.entries(iseFamily.tables).map(([k, t]) => [k, compileValidator(t)]));

function rowsOf(lines: string[]): { category: string; v: Validation; raw: string }[] {
  const r = iseFamily.route(lines.map((l) => enc.encode(l)), ctx);
  expect(r.rejected).toEqual([]);
  return r.routed.map((x) => ({
    category: x.category,
    raw: dec.decode(x.record),
    v: x.category === UNKNOWN_CATEGORY ? (null as unknown as Validation) : validators[x.category]!(iseFamily.decode!(x.record, x.category, ctx)),
  }));
}

describe('ise route + decode over the fixture', () => {
  const rows = rowsOf(fixture);

  it('routes by category, reassembles the two-segment posture message, keeps single lines byte-identical', () => {
    expect(rows.map((r) => r.category)).toEqual(['profiler', 'posture', UNKNOWN_CATEGORY, 'posture']);
    expect(rows[0]!.raw).toBe(fixture[0]);
    expect(rows[2]!.raw).toBe(fixture[3]);
    expect(rows[1]!.raw).toBe(fixture[1]! + fixture[2]!.split(' 2 1 ')[1]!);
    expect(rows[1]!.raw).toContain('OperationStatus=SUCCESS, AdminName=alice@example.com');
  });

  it('profiler: header, endpoint columns, normalised MAC, EndpointProperty map, attributes map', () => {
    const { v } = rows[0]!;
    expect(v.disposition).toBe('keep');
    expect(v.warnings).toEqual([]);
    expect(v.row).toMatchObject({
      timestamp: micros('2024-10-10T12:00:00.123Z'),
      eventDate: day('2024-10-10'),
      host: 'ise-psn01',
      relay_host: null,
      category: 'CISE_Profiler',
      message_id: '0000012345',
      segment_total: 1,
      sequence_number: '0000123001',
      message_code: 80002,
      severity_level: 'INFO',
      syslog_priority: 181,
      message_class: 'Profiler',
      message_text: 'Profiler: Profiler EndPoint profiling event occurred',
      config_version_id: 57,
      endpoint_mac: 'f0:5e:0c:b2:35:bf',
      endpoint_ip: '10.20.30.40',
      user_name: null,
      nas_ip: '10.20.0.2',
      endpoint_policy: 'Windows10-Workstation',
      endpoint_matched_policy: 'Microsoft-Workstation',
      endpoint_certainty: 30,
      endpoint_identity_group: 'Workstation',
      endpoint_oui: 'Example Networks, Inc.',
      endpoint_source_event: 'DHCP Probe',
      endpoint_hostname: 'WS-0042',
      profiler_server: 'ise-psn01.example.com',
      endpoint_properties: { StaticAssignment: 'false', 'host-name': 'WS-0042', 'dhcp-class-identifier': 'MSFT 5.0', PortalUser: '' },
    });
    expect(v.row!.attributes).toMatchObject({ EndpointMacAddress: 'F0-5E-0C-B2-35-BF', ConfigVersionId: '57', EndpointOUI: 'Example Networks, Inc.' });
  });

  it('posture (reassembled): offset applied, MAC from the EPS operation target, repeated keys as JSON array text', () => {
    const { v } = rows[1]!;
    expect(v.disposition).toBe('keep');
    expect(v.row).toMatchObject({
      timestamp: micros('2024-10-10T12:00:01.500Z'),
      eventDate: day('2024-10-10'),
      segment_total: 2,
      message_code: 87751,
      severity_level: 'NOTICE',
      message_class: 'EPS',
      user_name: 'alice@example.com',
      endpoint_mac: 'f0:5e:0c:b2:35:bf',
      endpoint_ip: null,
      operation_id: 'ise-psn01.example.com:7',
      operation_type: 'CLEAR_POLICY_BY_MAC:F0:5E:0C:B2:35:BF',
      operation_status: 'SUCCESS',
      posture_status: null,
    });
    expect((v.row!.attributes as Record<string, string>)['cisco-av-pair']).toBe('["audit-session-id=0a14001e000001","posture-token=Healthy"]');
  });

  it('posture behind a relay header: inner host, relay host, user, MAC from Calling-Station-ID, posture status', () => {
    const { v } = rows[3]!;
    expect(v.disposition).toBe('keep');
    expect(v.row).toMatchObject({
      timestamp: micros('2024-10-10T17:00:03Z'),
      host: 'ise-psn01',
      relay_host: '10.9.9.9',
      syslog_priority: null,
      message_class: 'Posture',
      user_name: 'carol',
      endpoint_mac: 'aa:bb:cc:00:11:22',
      endpoint_ip: '10.20.30.41',
      nas_ip: '10.20.0.3',
      posture_status: 'NonCompliant',
      posture_policy: 'AV-Required',
      operating_system: 'Windows 11 Enterprise 64-bit',
    });
  });
});

describe('ise RADIUS accounting (CISE_RADIUS_Accounting → ise_radius_accounting)', () => {
  const lines = readFileSync(new URL('../../test/fixtures/ise/radius_accounting.syslog', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
  const rows = rowsOf(lines);
  const pick = (i: number, keys: string[]) => Object.fromEntries(keys.map((k) => [k, rows[i]!.v.row![k]]));
  const ID = ['acct_status_type', 'endpoint_ip', 'endpoint_mac', 'user_name', 'acct_session_id'];

  it('routes every accounting message to its table and keeps every row without warnings', () => {
    expect(rows.map((r) => r.category)).toEqual(lines.map(() => 'radius_accounting'));
    for (const r of rows) expect([r.v.disposition, r.v.warnings]).toEqual(['keep', []]);
    expect(iseFamily.tables.radius_accounting!.name).toBe('ise_radius_accounting');
  });

  it('Start: framed IP, user, MAC from Calling-Station-ID, session ids, Event-Timestamp, NAS', () => {
    expect(rows[0]!.v.row).toMatchObject({
      timestamp: micros('2024-03-13T09:00:00.250Z'),
      eventDate: day('2024-03-13'),
      category: 'CISE_RADIUS_Accounting',
      message_code: 3000,
      message_class: 'Radius-Accounting',
      acct_status_type: 'Start',
      endpoint_ip: '10.1.2.3',
      endpoint_mac: 'aa:bb:cc:00:00:01',
      user_name: 'alice',
      nas_ip: '10.10.0.2',
      acct_session_id: '000000A1',
      audit_session_id: '0A0A0002000000AA65F1C0DE',
      event_timestamp: micros('2024-03-13T09:00:00Z'),
      calling_station_id: 'AA-BB-CC-00-00-01',
      called_station_id: '00-11-22-aa-bb-01',
      network_device_name: 'sw-floor2-01',
      nas_identifier: 'sw-floor2-01',
      nas_port_type: 'Ethernet',
      acct_session_time: null,
      acct_terminate_cause: null,
    });
  });

  it('a wireless Start before DHCP has no IP; its Interim-Update brings it (UTC offset applied); counters typed', () => {
    expect(pick(1, ID)).toEqual({ acct_status_type: 'Start', endpoint_ip: null, endpoint_mac: 'aa:bb:cc:00:00:02', user_name: 'bob@example.com', acct_session_id: '65f1c10c/aa:bb:cc:00:00:02/2201' });
    expect(rows[1]!.v.row!.audit_session_id).toBe('0a140005000000bb65f1c10c'); // from cisco-av-pair
    expect(pick(2, [...ID, 'timestamp', 'acct_session_time', 'acct_input_octets', 'acct_output_octets', 'acct_input_packets', 'acct_output_packets', 'acct_delay_time'])).toEqual({
      acct_status_type: 'Interim-Update',
      endpoint_ip: '10.1.9.40',
      endpoint_mac: 'aa:bb:cc:00:00:02',
      user_name: 'bob@example.com',
      acct_session_id: '65f1c10c/aa:bb:cc:00:00:02/2201',
      timestamp: micros('2024-03-13T09:06:00Z'),
      acct_session_time: 300,
      acct_input_octets: 52000,
      acct_output_octets: 910000,
      acct_input_packets: 410,
      acct_output_packets: 780,
      acct_delay_time: 0,
    });
  });

  it('Stop: terminate cause and session totals', () => {
    expect(pick(3, [...ID, 'acct_terminate_cause', 'acct_session_time', 'acct_delay_time'])).toEqual({
      acct_status_type: 'Stop', endpoint_ip: '10.1.2.3', endpoint_mac: 'aa:bb:cc:00:00:01', user_name: 'alice', acct_session_id: '000000A1',
      acct_terminate_cause: 'User Request', acct_session_time: 5400, acct_delay_time: 2,
    });
  });

  it('VPN: Calling-Station-ID is the client public IP, so no MAC; MAB and machine sessions keep User-Name as sent; relay header', () => {
    expect(pick(4, [...ID, 'calling_station_id', 'nas_port_type', 'audit_session_id'])).toEqual({
      acct_status_type: 'Start', endpoint_ip: '10.200.0.15', endpoint_mac: null, user_name: 'carol', acct_session_id: 'C0A8010A0001F000',
      calling_station_id: '198.51.100.23', nas_port_type: 'Virtual', audit_session_id: 'c0000a0a00010000',
    });
    expect(pick(5, ID)).toEqual({ acct_status_type: 'Interim-Update', endpoint_ip: '10.3.0.33', endpoint_mac: 'aa:bb:cc:00:00:33', user_name: 'AA-BB-CC-00-00-33', acct_session_id: '000000B7' });
    expect(pick(6, [...ID, 'host', 'relay_host'])).toMatchObject({ user_name: 'host/WS-0042.example.com', endpoint_ip: '10.1.9.77', host: 'ise-psn01', relay_host: '10.9.9.9' });
  });

  it('warns on an unknown status type and a missing session id', () => {
    const head = '<181>Mar 13 09:00:00 ise1 CISE_RADIUS_Accounting 1 1 0 2024-03-13 09:00:00 +00:00 1 3002 NOTICE Radius-Accounting: x, ';
    const v = validators.radius_accounting!(iseFamily.decode!(enc.encode(`${head}Acct-Status-Type=Bogus, Framed-IP-Address=10.0.0.1`), 'radius_accounting', ctx));
    expect(v.disposition).toBe('keep');
    expect([...v.warnings].sort()).toEqual([expect.stringContaining('acct_session_id_present'), expect.stringContaining('acct_status_type_known')]);
  });
});

const seg = (id: string, total: number, n: number, body: string, host = 'ise1') =>
  `<181>Oct 10 12:00:00 ${host} CISE_Profiler ${id} ${total} ${n} ${body}`;
const HEAD = '2024-10-10 12:00:00.000 +00:00 0000000001 80002 INFO  Profiler: event, ';

describe('ise multi-segment reassembly', () => {
  it('joins segments that arrive out of order and interleaved with other messages', () => {
    const lines = [
      seg('9', 3, 2, 'EndpointPolicy=Apple-Device,'),
      fixture[0]!,
      seg('9', 3, 0, `${HEAD}EndpointMacAddress=00:11:22:33:44:55, Endpoint`),
      seg('9', 3, 1, 'IPAddress=10.0.0.9, '),
    ];
    const r = iseFamily.route(lines.map((l) => enc.encode(l)), ctx);
    expect(r.rejected).toEqual([]);
    expect(r.routed.map((x) => x.category)).toEqual(['profiler', 'profiler']);
    const row = validators.profiler!(iseFamily.decode!(r.routed[0]!.record, 'profiler', ctx)).row!;
    expect(row).toMatchObject({ endpoint_mac: '00:11:22:33:44:55', endpoint_ip: '10.0.0.9', endpoint_policy: 'Apple-Device', segment_total: 3 });
  });

  it('rejects an incomplete set, duplicates and mismatched totals; keeps nodes apart', () => {
    const lines = [
      seg('5', 3, 0, `${HEAD}A=1,`),
      seg('5', 3, 2, 'C=3,'),
      seg('5', 3, 0, `${HEAD}A=again,`),
      seg('5', 2, 1, 'B=2,'),
      seg('5', 2, 1, 'B=2,', 'ise2'),
    ];
    const r = iseFamily.route(lines.map((l) => enc.encode(l)), ctx);
    expect(r.routed).toEqual([]);
    expect(r.rejected.map((x) => [x.rule, x.reason])).toEqual([
      ['segments', 'duplicate segment 0 of message 5'],
      ['segments', 'segment total 2 differs from 3 of earlier segments of message 5'],
      ['segments', 'incomplete multi-segment message (have 2 of 3)'],
      ['segments', 'incomplete multi-segment message (have 2 of 3)'],
      ['segments', 'incomplete multi-segment message (have 1 of 2)'],
    ]);
    expect(dec.decode(r.rejected[2]!.raw)).toBe(lines[0]);
  });

  it('rejects impossible segment headers', () => {
    const r = iseFamily.route([enc.encode(seg('1', 2, 2, 'x')), enc.encode(seg('1', MAX_SEGMENTS + 1, 0, 'x')), enc.encode(seg('1', 0, 0, 'x'))], ctx);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      'segment number 2 not below the segment total 2',
      `segment total ${MAX_SEGMENTS + 1} out of range 1..${MAX_SEGMENTS}`,
      `segment total 0 out of range 1..${MAX_SEGMENTS}`,
    ]);
  });
});

describe('ise header variants', () => {
  it('accepts a message whose syslog header was stripped upstream, and an RFC 5424 header with the category as APP-NAME', () => {
    const bare = `CISE_Profiler 0000000001 1 0 ${HEAD}EndpointMacAddress=00:11:22:33:44:55`;
    const rfc5424 = `<181>1 2024-10-10T12:00:00Z ise3 CISE_Profiler - - - 0000000002 1 0 ${HEAD}EndpointMacAddress=00:11:22:33:44:56`;
    const r = iseFamily.route([enc.encode(bare), enc.encode(rfc5424)], ctx);
    expect(r.rejected).toEqual([]);
    const rows = r.routed.map((x) => validators.profiler!(iseFamily.decode!(x.record, x.category, ctx)).row!);
    expect(rows.map((x) => [x.host, x.message_id, x.endpoint_mac, x.syslog_priority, x.timestamp])).toEqual([
      [null, '0000000001', '00:11:22:33:44:55', null, micros('2024-10-10T12:00:00Z')],
      ['ise3', '0000000002', '00:11:22:33:44:56', 181, micros('2024-10-10T12:00:00Z')],
    ]);
  });
});

describe('ise broken input', () => {
  it('rejects non-ISE lines, invalid UTF-8 and empty records with readable reasons; empty envelopes are fine', () => {
    const r = iseFamily.route(
      [enc.encode('<30>Oct 10 12:00:00 host app: hi'), new Uint8Array([0x3c, 0x31, 0x3e, 0xff, 0xfe]), new Uint8Array(0), enc.encode('garbage')],
      ctx,
    );
    expect(r.routed).toEqual([]);
    expect(r.rejected.map((x) => [x.rule, x.reason])).toEqual([
      ['parse', 'not a Cisco ISE message: no "CISE_<category> <message id> <total> <segment>" after the syslog header'],
      ['encoding', 'record is not valid UTF-8'],
      ['parse', expect.stringMatching(/^not a Cisco ISE message: no syslog timestamp/)],
      ['parse', expect.stringMatching(/^not a Cisco ISE message: no syslog timestamp/)],
    ]);
    expect(iseFamily.route([], ctx)).toEqual({ routed: [], rejected: [] });
  });

  it('decode: RecordError for a first segment without the event header and for invalid UTF-8', () => {
    expect(() => iseFamily.decode!(enc.encode(seg('1', 1, 0, 'no header here')), 'profiler', ctx)).toThrow(RecordError);
    expect(() => iseFamily.decode!(enc.encode(seg('1', 1, 0, 'no header here')), 'profiler', ctx)).toThrow(
      'ISE CISE_Profiler message 1 segment 0: no event header (date time offset sequence code severity)',
    );
    expect(() => iseFamily.decode!(new Uint8Array([0xc3]), 'profiler', ctx)).toThrow('record is not valid UTF-8');
  });

  it('wrong types and a missing MAC are quarantined with the column or rule named', () => {
    const badType = validators.profiler!(iseFamily.decode!(enc.encode(seg('1', 1, 0, `${HEAD}ConfigVersionId=abc, EndpointMacAddress=00:11:22:33:44:55`)), 'profiler', ctx));
    expect(badType.disposition).toBe('quarantine');
    expect(badType.reasons.join()).toMatch(/config_version_id/);
    const noMac = validators.profiler!(iseFamily.decode!(enc.encode(seg('1', 1, 0, `${HEAD}EndpointIPAddress=10.0.0.1`)), 'profiler', ctx));
    expect(noMac.disposition).toBe('quarantine');
    expect(noMac.failed).toEqual(['endpoint_mac_present']);
    const oddMac = validators.profiler!(iseFamily.decode!(enc.encode(seg('1', 1, 0, `${HEAD}EndpointMacAddress=not-a-mac, EndpointIPAddress=999.1.1.1`)), 'profiler', ctx));
    expect(oddMac.disposition).toBe('keep');
    expect(oddMac.row!.endpoint_mac).toBe('not-a-mac');
    expect(oddMac.failed).toEqual(['endpoint_mac_format', 'endpoint_ip_format']);
  });

  it('a huge attribute value is kept whole', () => {
    const big = 'x'.repeat(200_000);
    const v = validators.profiler!(iseFamily.decode!(enc.encode(seg('1', 1, 0, `${HEAD}EndpointMacAddress=00:11:22:33:44:55, Big=${big}`)), 'profiler', ctx));
    expect(v.disposition).toBe('keep');
    expect((v.row!.attributes as Record<string, string>).Big).toHaveLength(200_000);
  });

  it('route never throws and decode throws only RecordError on truncations and random bytes', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    const samples = [...fixture.map((l) => enc.encode(l)), enc.encode(seg('3', 2, 0, HEAD)), enc.encode(seg('3', 2, 1, 'A=1'))];
    for (let i = 0; i < 1500; i++) {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 4; k++) {
        const s = samples[Math.floor(rnd() * samples.length)]!;
        const b = s.slice(0, Math.floor(rnd() * (s.length + 1)));
        if (rnd() < 0.3 && b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        batch.push(b);
      }
      const r = iseFamily.route(batch, ctx);
      for (const x of r.routed) {
        if (x.category === UNKNOWN_CATEGORY) continue;
        try {
          validators[x.category]!(iseFamily.decode!(x.record, x.category, ctx));
        } catch (e) {
          expect(e).toBeInstanceOf(RecordError);
        }
      }
    }
  });
});
