// Tests of the CrowdStrike FDR family: routing by event_simpleName, decode (booleans, rescued fields, secondary
// records), exact typed rows of the hand-written fixture, broken inputs, and a fuzz loop over bytes and truncations.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { compileValidator, type Validation } from '@sluice/tables';
import { crowdstrikeFamily } from './crowdstrike.ts';
import { RecordError, type RecordContext } from './sourceFamily.ts';

const ctx: RecordContext = { source: 'fdr', object: 's3://fdr/data/part-0001.gz', preamble: [] };
const enc = new TextEncoder();
const FIXTURE = new URL('../../test/fixtures/crowdstrike/fdr-events.ndjson', import.meta.url);
const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
const validators = new Map(Object.entries(crowdstrikeFamily.tables).map(([c, d]) => [c, compileValidator(d)]));

/** route → decode → validate of one record; the validation of its single routed category. */
function run(record: string | Record<string, unknown>): Validation & { category: string } {
  const bytes = enc.encode(typeof record === 'string' ? record : JSON.stringify(record));
  const r = crowdstrikeFamily.route([bytes], ctx);
  expect(r.rejected).toEqual([]);
  expect(r.routed).toHaveLength(1);
  const { category, record: routed } = r.routed[0]!;
  return { ...validators.get(category)!(crowdstrikeFamily.decode!(routed, category, ctx)), category };
}

const byName = (name: string) => JSON.parse(lines.find((l) => l.includes(`"event_simpleName":"${name}"`))!) as Record<string, unknown>;

describe('crowdstrike family: routing', () => {
  it('routes each fixture event to its category and keeps the original bytes', () => {
    const r = crowdstrikeFamily.route(lines.map((l) => enc.encode(l)), ctx);
    expect(r.rejected).toEqual([]);
    expect(r.routed.map((x) => x.category)).toEqual([
      'process', 'process', 'process', 'dns_request', 'network_connect', 'network_listen', 'network_listen',
      'network_accept', 'user_logon', 'user_logon', 'file_write', 'file_write', 'other', 'other',
    ]);
    expect(new TextDecoder().decode(r.routed[0]!.record)).toBe(lines[0]);
  });

  it('every fixture event parses and is kept', () => {
    const out = lines.map((l) => run(l));
    expect(out.map((v) => [v.category, v.disposition, v.reasons, v.warnings])).toEqual(out.map((v) => [v.category, 'keep', [], []]));
  });
});

describe('crowdstrike family: typed rows', () => {
  it('ProcessRollup2: ms and s timestamps, numbers from strings, 64-bit ids as text, hashes', () => {
    const v = run(lines[0]!);
    expect(v.row).toMatchObject({
      event_simpleName: 'ProcessRollup2',
      name: 'ProcessRollup2V19',
      timestamp: 1_700_000_000_123_000,
      ContextTimeStamp: 1_700_000_000_100_000,
      ProcessStartTime: 1_700_000_000_050_000,
      ProcessEndTime: null, // "" is missing for non-string columns
      aid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      aip: '81.2.69.160',
      ComputerName: 'WS-0042',
      TargetProcessId: '18446744073709551615',
      RawProcessId: 4242,
      SessionId: 1,
      IntegrityLevel: 8192,
      TokenType: 1,
      ProcessCreateFlags: 525324,
      MD5HashData: '0123456789abcdef0123456789abcdef',
      SHA256HashData: 'a'.repeat(64),
      CommandLine: 'cmd.exe /c whoami',
      eventDate: 19675,
    });
    expect(v.row!._rescued_data).toEqual({ EffectiveTransmissionClass: '2' });
  });

  it('EndOfProcess: exit code beyond 32 bits as long, end time in seconds', () => {
    expect(run(byName('EndOfProcess')).row).toMatchObject({ ExitCode: 3_221_225_786, ProcessEndTime: 1_700_000_001_998_000, UserTime: 2_968_750, _rescued_data: null });
  });

  it('DnsRequest: "1" becomes true, record type and status typed', () => {
    expect(run(byName('DnsRequest')).row).toMatchObject({ DomainName: 'updates.example.net', RequestType: 28, QueryStatus: 0, DualRequest: true, FirstIP4Record: '192.0.2.10', DnsRequestCount: 1 });
  });

  it('NetworkListenIP4/IP6: the listening port and protocol the detector reads', () => {
    const v4 = run(byName('NetworkListenIP4'));
    expect(v4.category).toBe('network_listen');
    expect(v4.row).toMatchObject({ event_simpleName: 'NetworkListenIP4', LocalAddressIP4: '0.0.0.0', LocalPort: 3389, Protocol: 6, ComputerName: 'WS-0042', InContext: false, RemotePort: 0 });
    expect(run(byName('NetworkListenIP6')).row).toMatchObject({ event_simpleName: 'NetworkListenIP6', LocalAddressIP6: '::', LocalPort: 445, LocalAddressIP4: null });
  });

  it('NetworkConnectIP4 and NetworkReceiveAcceptIP4: remote address and ports', () => {
    expect(run(byName('NetworkConnectIP4')).row).toMatchObject({ RemoteAddressIP4: '81.2.69.142', RemotePort: 443, LocalPort: 50123, InContext: true, ConnectionDirection: 0 });
    expect(run(byName('NetworkReceiveAcceptIP4')).row).toMatchObject({ RemoteAddressIP4: '198.51.100.7', RemotePort: 61000, LocalPort: 22, ConnectionDirection: 1 });
  });

  it('UserLogon / UserLogonFailed2: admin flag, logon time, NTSTATUS as long', () => {
    expect(run(byName('UserLogon')).row).toMatchObject({ UserName: 'alice', LogonType: 10, LogonTime: 1_700_000_007_250_000, PasswordLastSet: 1_690_000_000_000_000, UserIsAdmin: true, RemoteAddressIP4: '203.0.113.9' });
    expect(run(byName('UserLogonFailed2')).row).toMatchObject({ UserName: 'bob', UserIsAdmin: false, Status: 3_221_225_578, SubStatus: 3_221_225_572, RemotePort: 51515 });
  });

  it('file writes: size, hashes, removable-disk flag', () => {
    expect(run(byName('NewExecutableWritten')).row).toMatchObject({
      event_simpleName: 'NewExecutableWritten',
      TargetFileName: '\\Device\\HarddiskVolume3\\Users\\alice\\Downloads\\tool.exe',
      Size: 41152,
      MD5HashData: 'fedcba9876543210fedcba9876543210',
      IsOnNetwork: false,
      IsOnRemovableDisk: true,
    });
    expect(run(byName('SuspiciousPeFileWritten')).row).toMatchObject({ SHA256HashData: 'd'.repeat(64), Size: null });
  });

  it('other: generic columns plus every field as a map', () => {
    const v = run(byName('SensorHeartbeat'));
    expect(v.category).toBe('other');
    expect(v.row).toMatchObject({ event_simpleName: 'SensorHeartbeat', timestamp: 1_700_000_012_000_000, aid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', ComputerName: null });
    expect(v.row!.fields).toMatchObject({ NetworkContainmentState: '0', ConfigStateHash: '3802125890', event_simpleName: 'SensorHeartbeat' });
  });

  it('secondary records without event_simpleName (aidmaster) go to other, timed by Time (epoch seconds)', () => {
    const v = run(lines[lines.length - 1]!);
    expect(v.category).toBe('other');
    expect(v.disposition).toBe('keep');
    expect(v.row).toMatchObject({ event_simpleName: null, timestamp: 1_700_000_013_026_000, ComputerName: 'WS-0042', eventDate: 19675 });
    expect(v.row!.fields).toMatchObject({ AgentVersion: '7.10.17706.0', Time: '1700000013.026' });
  });
});

describe('crowdstrike family: broken input', () => {
  const good = byName('NetworkListenIP4');

  it('rejects bad JSON, truncated lines, empty lines and non-objects in route, with a reason', () => {
    const bad = ['{"event_simpleName":"DnsRequest",', lines[0]!.slice(0, 80), '', 'null', '[1,2]', '"text"', '42'];
    const r = crowdstrikeFamily.route(bad.map((b) => enc.encode(b)), ctx);
    expect(r.routed).toEqual([]);
    expect(r.rejected.map((x) => x.rule)).toEqual(Array(bad.length).fill('parse'));
    expect(r.rejected[0]!.reason).toMatch(/^invalid JSON: /);
    expect(r.rejected.slice(3).map((x) => x.reason)).toEqual([
      'expected an FDR event (JSON object), got null',
      'expected an FDR event (JSON object), got array',
      'expected an FDR event (JSON object), got string',
      'expected an FDR event (JSON object), got number',
    ]);
    expect(crowdstrikeFamily.route([], ctx)).toEqual({ routed: [], rejected: [] });
  });

  it('decode throws RecordError for bad JSON, non-objects and unknown categories', () => {
    const d = (s: string, c = 'process') => () => crowdstrikeFamily.decode!(enc.encode(s), c, ctx);
    expect(d('{"a":')).toThrow(RecordError);
    expect(d('[]')).toThrow('expected an FDR event (JSON object), got array');
    expect(d('{}', 'nope')).toThrow('no CrowdStrike table for category "nope"');
  });

  it('quarantines a missing timestamp or aid, non-numeric ports, ports out of range and bad booleans', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, timestamp: undefined }, 'column timestamp: required but missing'],
      [{ ...good, timestamp: 'yesterday' }, 'column timestamp: expected timestamp, got string "yesterday"'],
      [{ ...good, aid: '' }, 'expectation aid_present (quarantine): aid (agent id) is a non-empty string'],
      [{ ...good, LocalPort: 'rdp' }, 'column LocalPort: expected integer, got string "rdp"'],
      [{ ...good, LocalPort: '70000' }, 'expectation valid_LocalPort (quarantine): LocalPort is null or within 0..65535'],
      [{ ...good, InContext: '2' }, 'column InContext: expected boolean, got string "2"'],
      [{ ...good, LocalPort: 3389 }, ''],
    ];
    for (const [record, reason] of cases) {
      const v = run(record);
      expect([v.disposition, v.reasons.join('; ')]).toEqual([reason === '' ? 'keep' : 'quarantine', reason]);
    }
  });

  it('keeps unknown fields in _rescued_data (objects as JSON text), huge fields intact, __proto__ as a plain key', () => {
    const huge = 'x'.repeat(1_000_000);
    const v = run(`{"event_simpleName":"ProcessRollup2","timestamp":"1700000000000","aid":"a1","CommandLine":"${huge}","NewField":"n","Nested":{"k":[1]},"__proto__":{"polluted":"yes"}}`);
    expect(v.disposition).toBe('keep');
    expect((v.row!.CommandLine as string).length).toBe(1_000_000);
    expect(v.row!._rescued_data).toEqual({ NewField: 'n', Nested: '{"k":[1]}', ['__proto__']: '{"polluted":"yes"}' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives invalid UTF-8 and binary garbage: a readable rejection, never an exception', () => {
    const garbage = [new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])];
    const r = crowdstrikeFamily.route(garbage, ctx);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.reason).toMatch(/^invalid JSON/);
    // The second is valid JSON once decoded (U+FFFD replaces the bad byte): an object without event fields → other, quarantined for its missing timestamp.
    expect(r.routed.map((x) => x.category)).toEqual(['other']);
    const v = validators.get('other')!(crowdstrikeFamily.decode!(r.routed[0]!.record, 'other', ctx));
    expect([v.disposition, v.reasons]).toEqual(['quarantine', ['column timestamp: required but missing']]);
  });

  it('fuzz: random bytes and truncations never make route or decode throw anything but RecordError', () => {
    const rng = new Rng(7);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const line = enc.encode(rng.pick(lines));
      const kind = rng.int(0, 2);
      if (kind === 0) inputs.push(line.slice(0, rng.int(0, line.length)));
      else if (kind === 1) {
        const b = line.slice();
        for (let k = rng.int(1, 8); k > 0; k--) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
        inputs.push(b);
      } else inputs.push(Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255)));
    }
    const r = crowdstrikeFamily.route(inputs, ctx);
    expect(r.routed.length + r.rejected.length).toBe(inputs.length);
    for (const x of r.routed) {
      let decoded: unknown;
      try {
        decoded = crowdstrikeFamily.decode!(x.record, x.category, ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordError);
        continue;
      }
      expect(['keep', 'quarantine', 'drop']).toContain(validators.get(x.category)!(decoded).disposition);
    }
  });
});
