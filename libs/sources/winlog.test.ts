// Tests of the winlog family (Windows event logs through winlogbeat): the three layouts (6.x, 7.x/8.x, flattened)
// normalised to one shape, routing of every record to winlog and Sysmon 1/5/18 and 3 to the CIM tables, exact rows,
// broken input and a fuzz loop.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { compileValidator, type Validation } from '@sluice/tables';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext } from './sourceFamily.ts';
import { baseName, sourceTypeOf, splitHashes, splitUser, winlogFamily } from './winlog.ts';

const ctx: RecordContext = { source: 'winlog-kafka', object: 'winlogbeat:0', preamble: [] };
const enc = new TextEncoder();
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/winlog/${name}.ndjson`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const v6 = fixture('winlogbeat6');
const v7 = fixture('winlogbeat7');
const v8 = fixture('winlogbeat8');
const flat = fixture('flat');
const validators = new Map(Object.entries(winlogFamily.tables).map(([c, d]) => [c, compileValidator(d)]));

/** Every routed category of one record → its validation. */
function run(line: string): Record<string, Validation> {
  const r = winlogFamily.route([enc.encode(line)], ctx);
  expect(r.rejected).toEqual([]);
  const out: Record<string, Validation> = {};
  for (const x of r.routed) {
    if (x.category === UNKNOWN_CATEGORY) continue;
    out[x.category] = validators.get(x.category)!(winlogFamily.decode!(x.record, x.category, ctx));
  }
  return out;
}

const row = (line: string, category: string) => {
  const v = run(line)[category];
  expect(v?.disposition).toBe('keep');
  expect(v?.warnings).toEqual([]);
  return v!.row!;
};

describe('winlog family: routing', () => {
  it('sends every record to winlog, Sysmon 1/5/18 also to process and 3 to network_connection (same bytes)', () => {
    const all = [...v6, ...v7, ...v8, ...flat];
    const r = winlogFamily.route(all.map((l) => enc.encode(l)), ctx);
    expect(r.rejected).toEqual([]);
    const cats = r.routed.map((x) => x.category);
    expect(cats.filter((c) => c === 'winlog')).toHaveLength(all.length);
    expect(cats.filter((c) => c === 'process')).toHaveLength(3 + 1 + 2 + 1); // v6 1/5/18, v7 1, v8 1/18, flat 1
    expect(cats.filter((c) => c === 'network_connection')).toHaveLength(3); // v6, v7, v8
    expect(cats.slice(0, 3)).toEqual(['winlog', 'process', 'winlog']);
    expect(r.routed[1]!.record).toBe(r.routed[0]!.record);
  });

  it('every fixture record parses in every table it is routed to', () => {
    for (const line of [...v6, ...v7, ...v8, ...flat]) {
      for (const [category, v] of Object.entries(run(line))) expect([category, v.disposition, v.reasons]).toEqual([category, 'keep', []]);
    }
  });

  it('source_type by channel, then provider, else other', () => {
    expect(sourceTypeOf('Microsoft-Windows-Sysmon/Operational', undefined)).toBe('sysmon');
    expect(sourceTypeOf('Security', 'Microsoft-Windows-Security-Auditing')).toBe('security');
    expect(sourceTypeOf('Windows PowerShell', 'PowerShell')).toBe('powershell');
    expect(sourceTypeOf('ForwardedEvents', 'Microsoft-Windows-Sysmon')).toBe('sysmon');
    expect(sourceTypeOf('Microsoft-Windows-WMI-Activity/Operational', undefined)).toBe('wmi');
    expect(sourceTypeOf('Custom/Log', 'Something')).toBe('other');
    expect(sourceTypeOf(undefined, undefined)).toBe('other');
  });
});

describe('winlog family: winlogbeat 6.x', () => {
  it('process create → OSSEM columns with split user and hashes', () => {
    expect(row(v6[0]!, 'process')).toMatchObject({
      event_time: 1_709_287_201_234_000,
      timestamp: 1_709_287_201_500_000,
      event_id: 1,
      event_name: 'ProcessCreate',
      host_name: 'WS-07.corp.example',
      record_id: 100,
      rule_name: 'technique_id=T1059',
      process_guid: '{11111111-2222-3333-4444-555555555555}',
      process_id: 7792,
      process_path: 'C:\\Windows\\System32\\reg.exe',
      process_name: 'reg.exe',
      process_command_line: 'reg add HKLM\\x /v y',
      process_current_directory: 'C:\\Users\\alice\\',
      process_integrity_level: 'High',
      process_parent_guid: '{11111111-2222-3333-4444-000000000001}',
      process_parent_id: 4242,
      process_parent_name: 'powershell.exe',
      process_parent_command_line: 'powershell.exe -nop',
      user_name: 'alice',
      user_domain: 'CORP',
      user_logon_id: '0xc61d9',
      user_session_id: 1,
      file_original_name: 'reg.exe',
      hash_md5: 'a'.repeat(32),
      hash_sha1: '1'.repeat(40),
      hash_sha256: 'b'.repeat(64),
      hash_imphash: 'c'.repeat(32),
      winlog_layout: 'winlogbeat6',
      eventDate: 19783,
    });
  });

  it('network connection → src/dst columns, booleans from text', () => {
    expect(row(v6[1]!, 'network_connection')).toMatchObject({
      event_time: 1_709_287_201_900_000,
      event_id: 3,
      event_name: 'NetworkConnect',
      process_name: 'reg.exe',
      user_name: 'alice',
      network_protocol: 'tcp',
      network_initiated: true,
      src_is_ipv6: false,
      src_ip: '10.0.0.7',
      src_port: 50001,
      src_port_name: '',
      dst_ip: '81.2.69.142',
      dst_port: 443,
      dst_port_name: 'https',
      dst_host_name: '',
    });
  });

  it('terminate and pipe connected; the logging account is not taken as the actor', () => {
    expect(row(v6[2]!, 'process')).toMatchObject({ event_id: 5, event_name: 'ProcessTerminate', process_id: 7792, process_command_line: null, user_name: null });
    expect(row(v6[3]!, 'process')).toMatchObject({ event_id: 18, event_name: 'PipeConnected', pipe_name: '\\wkssvc', pipe_event_type: 'ConnectPipe', process_name: 'wmiprvse.exe', user_name: null });
  });

  it('winlog rows for Sysmon, Security and PowerShell with header and event_data map', () => {
    expect(row(v6[0]!, 'winlog')).toMatchObject({
      timestamp: 1_709_287_201_500_000,
      source_type: 'sysmon',
      event_id: 1,
      channel: 'Microsoft-Windows-Sysmon/Operational',
      provider: 'Microsoft-Windows-Sysmon',
      computer_name: 'WS-07.corp.example',
      record_id: 100,
      level: 'Information',
      version: 5,
      reporter_process_id: 1368,
      reporter_user_sid: 'S-1-5-18',
      reporter_user_name: 'SYSTEM',
      agent_version: '6.7.0',
      winlog_layout: 'winlogbeat6',
      eventDate: 19783,
    });
    const sec = row(v6[4]!, 'winlog');
    expect(sec).toMatchObject({ source_type: 'security', event_id: 4624, record_id: 7766668, provider: 'Microsoft-Windows-Security-Auditing' });
    expect(sec.event_data).toEqual({ TargetUserName: 'alice', TargetDomainName: 'CORP', LogonType: '3', IpAddress: '10.0.0.9', IpPort: '49593' });
    expect(row(v6[5]!, 'winlog')).toMatchObject({ source_type: 'powershell', event_id: 800, channel: 'Windows PowerShell' });
    expect(Object.keys(run(v6[6]!))).toEqual(['winlog']); // Sysmon 11 (file create): bronze only
  });
});

describe('winlog family: winlogbeat 7.x (sysmon module ECS fields) and 8.x', () => {
  it('7.x: fields the sysmon module moved to ECS are read back; UtcTime gone → @timestamp', () => {
    expect(row(v7[0]!, 'process')).toMatchObject({
      event_time: 1_709_370_000_123_000,
      event_id: 1,
      host_name: 'WS-08.corp.example',
      record_id: 200,
      process_guid: '{22222222-aaaa-bbbb-cccc-000000000001}',
      process_id: 5000,
      process_path: 'C:\\Windows\\System32\\cmd.exe',
      process_name: 'cmd.exe',
      process_command_line: 'cmd.exe /c ver',
      process_current_directory: 'C:\\Windows\\system32\\',
      process_parent_id: 4000,
      process_parent_path: 'C:\\Windows\\System32\\services.exe',
      process_parent_name: 'services.exe',
      user_name: 'Système',
      user_domain: 'AUTORITE NT',
      process_integrity_level: 'System',
      hash_md5: 'd'.repeat(32),
      hash_sha256: 'e'.repeat(64),
      hash_imphash: 'f'.repeat(32),
      winlog_layout: 'winlogbeat7',
      eventDate: 19784,
    });
    expect(row(v7[1]!, 'network_connection')).toMatchObject({
      network_protocol: 'udp',
      network_initiated: true,
      src_ip: '10.0.0.8',
      src_port: 53000,
      src_host_name: 'ws-08',
      dst_ip: '2001:db8::53',
      dst_port: 53,
      dst_host_name: 'dns.corp.example',
      dst_port_name: 'domain',
      user_name: 'bob',
      user_domain: 'CORP',
    });
    expect(row(v7[2]!, 'winlog')).toMatchObject({ source_type: 'security', event_id: 4688, reporter_user_name: 'Système', reporter_process_id: 2440, reporter_thread_id: 3144, agent_version: '7.17.1', level: 'information' });
    expect(row(v7[3]!, 'winlog')).toMatchObject({ source_type: 'wmi', event_id: 5861 });
    expect(row(v7[4]!, 'winlog')).toMatchObject({ source_type: 'system', provider: 'Service Control Manager' });
  });

  it('8.x: event id and record id as text, raw event_data, ParentUser, inbound connection', () => {
    expect(row(v8[0]!, 'process')).toMatchObject({
      event_time: 1_709_452_799_987_000,
      event_id: 1,
      record_id: 400,
      process_name: 'nc.exe',
      process_command_line: 'nc.exe -l -p 4444',
      process_parent_user: 'CORP\\carol',
      user_name: 'carol',
      user_session_id: 2,
      file_hashes: 'MD5=9999999999999999999999999999999A,SHA256=8888888888888888888888888888888888888888888888888888888888888888',
      hash_md5: '9999999999999999999999999999999a',
      hash_sha1: null,
      eventDate: 19785,
    });
    expect(row(v8[1]!, 'network_connection')).toMatchObject({ event_time: 1_709_452_800_500_000, network_initiated: false, src_ip: '198.51.100.23', dst_port: 4444 });
    expect(row(v8[2]!, 'winlog')).toMatchObject({ source_type: 'powershell', event_id: 4103, agent_version: '8.8.2' });
    // ForwardedEvents channel: Sysmon recognised by its provider.
    expect(row(v8[3]!, 'winlog')).toMatchObject({ source_type: 'sysmon', channel: 'ForwardedEvents' });
    expect(row(v8[3]!, 'process')).toMatchObject({ event_id: 18, pipe_name: '\\lsass', user_name: 'SYSTEM', user_domain: 'NT AUTHORITY' });
  });

  it('flattened records: event data at the top level, header keys left out of event_data', () => {
    expect(row(flat[0]!, 'process')).toMatchObject({ event_time: 1_709_553_600_050_000, process_id: 11124, host_name: 'WORKSTATION9', user_name: 'dave', user_domain: 'WORKSTATION9', hash_sha256: '7'.repeat(64), winlog_layout: 'flat' });
    const w = row(flat[1]!, 'winlog');
    expect(w).toMatchObject({ event_id: 10, source_type: 'sysmon', level: null, winlog_layout: 'flat' });
    expect(w.event_data).toEqual({ UtcTime: '2024-03-04 12:00:00.900', SourceProcessGUID: '{44444444-0000-0000-0000-000000000001}', GrantedAccess: '0x1000', SourceProcessId: '944' });
  });
});

describe('winlog family: helpers', () => {
  it('splits hashes, users and paths', () => {
    expect(splitHashes('SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01,BOGUS,=x')).toEqual({ sha1: 'ab', md5: 'cd', sha256: 'ef', imphash: '01' });
    expect(splitHashes(undefined)).toEqual({});
    expect(splitUser('NT AUTHORITY\\SYSTEM')).toEqual({ name: 'SYSTEM', domain: 'NT AUTHORITY' });
    expect(splitUser('alice')).toEqual({ name: 'alice', domain: undefined });
    expect(splitUser('')).toEqual({ name: undefined, domain: undefined });
    expect(baseName('C:\\a\\b.exe')).toBe('b.exe');
    expect(baseName('/usr/bin/curl')).toBe('curl');
    expect(baseName(undefined)).toBeUndefined();
  });
});

describe('winlog family: broken input', () => {
  const base = JSON.parse(v6[1]!) as Record<string, unknown>;
  const data = base.event_data as Record<string, unknown>;

  it('rejects bad JSON and non-objects; other JSON objects go to _unknown', () => {
    const bad = ['{"event_id":3,', v6[0]!.slice(0, 100), '', '[]', '7', '{"hello":"world"}'];
    const r = winlogFamily.route(bad.map((b) => enc.encode(b)), ctx);
    expect(r.rejected.map((x) => x.rule)).toEqual(['parse', 'parse', 'parse', 'parse', 'parse']);
    expect(r.rejected[3]!.reason).toBe('expected a winlogbeat event (JSON object), got array');
    expect(r.routed.map((x) => x.category)).toEqual([UNKNOWN_CATEGORY]);
    expect(winlogFamily.route([], ctx)).toEqual({ routed: [], rejected: [] });
  });

  it('decode throws RecordError for bad JSON, unknown layouts and categories', () => {
    const d = (s: string, c = 'winlog') => () => winlogFamily.decode!(enc.encode(s), c, ctx);
    expect(d('{')).toThrow(RecordError);
    expect(d('{"hello":1}')).toThrow(/^not a winlogbeat event/);
    expect(d(v6[0]!, 'dns')).toThrow('no winlog table for category "dns"');
  });

  it('quarantines missing time, bad event ids, bad ports; an event id it cannot read is not routed to a CIM table', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...base, '@timestamp': undefined }, 'winlog', 'column timestamp: required but missing'],
      [{ ...base, event_data: { ...data, UtcTime: 'soon' } }, 'network_connection', 'column event_time: expected timestamp, got string "soon"'],
      [{ ...base, event_data: { ...data, DestinationPort: '99999' } }, 'network_connection', 'expectation valid_dst_port (quarantine): dst_port is null or within 0..65535'],
      [{ ...base, event_data: { ...data, SourcePort: 'ephemeral' } }, 'network_connection', 'column src_port: expected integer, got string "ephemeral"'],
      [{ ...base, event_data: { ...data, Initiated: 'maybe' } }, 'network_connection', 'column network_initiated: expected boolean, got string "maybe"'],
      [{ ...base, event_id: 'three' }, 'winlog', 'column event_id: expected integer, got string "three"'],
    ];
    for (const [record, category, reason] of cases) {
      const v = run(JSON.stringify(record))[category];
      expect([category, v?.disposition, v?.reasons.join('; ')]).toEqual([category, 'quarantine', reason]);
    }
    expect(Object.keys(run(JSON.stringify({ ...base, event_id: 'three' })))).toEqual(['winlog']);
  });

  it('huge fields and unknown fields are kept; __proto__ in event_data stays data', () => {
    const huge = 'y'.repeat(1_000_000);
    const rec = { ...base, extra_top: { a: 1 }, event_data: { ...data, Image: huge, NewField: 'n' } };
    const out = run(JSON.stringify(rec).replace('"NewField"', '"__proto__":{"polluted":"yes"},"NewField"'));
    expect(out.network_connection!.row!.process_path).toBe(huge);
    expect(out.winlog!.row!.event_data).toMatchObject({ NewField: 'n', ['__proto__']: '{"polluted":"yes"}' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('invalid UTF-8 and binary garbage: rejected or routed, never thrown', () => {
    const r = winlogFamily.route([new Uint8Array([0xff, 0x00, 0xc3]), enc.encode(v6[0]!.replace('reg.exe', '\udc80.exe'))], ctx);
    expect(r.rejected).toHaveLength(1);
    expect(r.routed.map((x) => x.category)).toEqual(['winlog', 'process']);
  });

  it('fuzz: random bytes and truncations never make route or decode throw anything but RecordError', () => {
    const rng = new Rng(11);
    const all = [...v6, ...v7, ...v8, ...flat];
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const line = enc.encode(rng.pick(all));
      const kind = rng.int(0, 2);
      if (kind === 0) inputs.push(line.slice(0, rng.int(0, line.length)));
      else if (kind === 1) {
        const b = line.slice();
        for (let k = rng.int(1, 8); k > 0; k--) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
        inputs.push(b);
      } else inputs.push(Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255)));
    }
    const r = winlogFamily.route(inputs, ctx);
    for (const x of r.routed) {
      if (x.category === UNKNOWN_CATEGORY) continue;
      let decoded: unknown;
      try {
        decoded = winlogFamily.decode!(x.record, x.category, ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordError);
        continue;
      }
      expect(['keep', 'quarantine', 'drop']).toContain(validators.get(x.category)!(decoded).disposition);
    }
    expect(r.routed.length).toBeGreaterThan(0);
  });
});
