// The ip_attribution rule through the stateful runtime: hand-built DHCP and ISE sequences → exact ip_lookup rows
// (lease, renewal, release, a new holder, ISE adding the user, a lapsed lease, out-of-order events), and the
// state surviving a snapshot/restore with the same rows coming out; an Arrow round trip on the real dhcp columns.
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { DetectorRuntime } from './detectorRuntime.ts';
import { arrowBatch, objectBatch } from './eventBatch.ts';
import { ipAttributionRule, radiusIdentity, type IpAttributionRuleConfig } from './ipAttributionRule.ts';

type Row = Record<string, string | number | boolean | null>;
const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 13, 9, 0, 0);
const NOW = new Date('2024-03-14T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const dhcp = (type: string, ip: string, mac: string, t: number, over: Row = {}): Row => ({
  timestamp: t, event_type: type, ip, mac, hostname: null, lease_duration: null, lease_end: null, lease_state: null,
  _source: 'dhcp_syslog', _object: 'inbox/dhcpd.log', _raw_seq: 7, ...over,
});
const ise = (table: string, ip: string, mac: string | null, user: string | null, t: number, over: Row = {}): Row => ({
  timestamp: t, endpoint_ip: ip, endpoint_mac: mac, user_name: user, _source: 'ise_syslog', _object: 'inbox/ise.log', _raw_seq: 9, ...over,
});

function runtime(owned = [0, 1, 2, 3], cfg?: Partial<IpAttributionRuleConfig>) {
  const rule = ipAttributionRule(cfg && { dhcpTable: 'dhcp', iseTables: ['ise_posture', 'ise_profiler', 'ise_radius_accounting'], ...cfg });
  return new DetectorRuntime(rule, 4, owned, { ttlMs: 30 * 86_400_000, maxKeysPerPartition: 10_000 });
}
let seq = 0;
/** Feeds rows and returns the emitted ip_lookup rows (the carriers' detail). */
const feed = (rt: ReturnType<typeof runtime>, table: string, rows: Row[]) => rt.apply(table, ++seq, objectBatch(table, rows), NOW).alerts.map((a) => a.detail);
const pick = (r: Record<string, unknown>) => ({ ip: r.ip, mac: r.mac, user: r.user, hostname: r.hostname, source: r.source, valid_from: r.valid_from, valid_to: r.valid_to, closed_by: r.closed_by, revision: r.revision });

describe('ip attribution rule', () => {
  it('opens an interval on ACK, keeps it through renewals, closes it on RELEASE', () => {
    const rt = runtime();
    const opened = feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0, { hostname: 'laptop-1', lease_duration: 3600 })]);
    expect(opened.map(pick)).toEqual([{ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: 'laptop-1', source: 'dhcp', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 0 }]);
    expect(opened[0]!.lease_expires).toBe(iso(T0 + 3600_000));
    expect(JSON.parse(String(opened[0]!.evidence))).toEqual([{ table: 'dhcp', source: 'dhcp_syslog', object: 'inbox/dhcpd.log', raw_seq: 7 }]);
    // Renewals of the same MAC within the lease: no row. Non-lease messages (REQUEST, DISCOVER): ignored.
    expect(feed(rt, 'dhcp', [dhcp('REQUEST', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + 30 * MIN), dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + 30 * MIN, { hostname: 'laptop-1', lease_duration: 3600 })])).toEqual([]);
    const closed = feed(rt, 'dhcp', [dhcp('RELEASE', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + 80 * MIN)]);
    expect(closed.map(pick)).toEqual([{ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: 'laptop-1', source: 'dhcp', valid_from: iso(T0), valid_to: iso(T0 + 80 * MIN), closed_by: 'release', revision: 1 }]);
    // The renewal extended the expected end; both revisions share the interval id.
    expect(closed[0]!.lease_expires).toBe(iso(T0 + 90 * MIN));
    expect(closed[0]!.interval_id).toBe(opened[0]!.interval_id);
    // Nothing open any more: a second RELEASE is silent.
    expect(feed(rt, 'dhcp', [dhcp('RELEASE', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + 81 * MIN)])).toEqual([]);
  });

  it('a new holder closes the previous interval at its first event and opens its own', () => {
    const rt = runtime();
    feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0, { lease_duration: 7200 })]);
    const rows = feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:02', T0 + 60 * MIN, { hostname: 'phone', lease_duration: 7200 })]);
    expect(rows.map(pick)).toEqual([
      { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: null, source: 'dhcp', valid_from: iso(T0), valid_to: iso(T0 + 60 * MIN), closed_by: 'new_holder', revision: 1 },
      { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:02', user: null, hostname: 'phone', source: 'dhcp', valid_from: iso(T0 + 60 * MIN), valid_to: null, closed_by: null, revision: 0 },
    ]);
    // A RELEASE by the old MAC is stale: the current holder stays.
    expect(feed(rt, 'dhcp', [dhcp('RELEASE', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + 61 * MIN)])).toEqual([]);
  });

  it('a lease that ran out before the next holder appeared ends at its expiry (lease_lapsed)', () => {
    const rt = runtime();
    feed(rt, 'dhcp', [dhcp('ACK', '10.9.9.9', 'aa:bb:cc:00:00:01', T0, { lease_duration: 600 })]);
    const rows = feed(rt, 'dhcp', [dhcp('ACK', '10.9.9.9', 'aa:bb:cc:00:00:01', T0 + 60 * MIN, { lease_duration: 600 })]);
    expect(rows.map((r) => [r.valid_from, r.valid_to, r.closed_by, r.revision])).toEqual([
      [iso(T0), iso(T0 + 10 * MIN), 'lease_lapsed', 1],
      [iso(T0 + 60 * MIN), null, null, 0],
    ]);
    // EXPIRE closes it.
    expect(feed(rt, 'dhcp', [dhcp('EXPIRE', '10.9.9.9', 'aa:bb:cc:00:00:01', T0 + 70 * MIN)]).map((r) => [r.valid_to, r.closed_by])).toEqual([[iso(T0 + 70 * MIN), 'expire']]);
  });

  it('ISE adds the user to the DHCP interval (a new revision); a different user on the same MAC is a new holder', () => {
    const rt = runtime();
    const [open] = feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0, { hostname: 'laptop-1' })]);
    const upd = feed(rt, 'ise_posture', [ise('ise_posture', '10.1.2.3', 'aa:bb:cc:00:00:01', 'alice', T0 + 5 * MIN)]);
    expect(upd.map(pick)).toEqual([{ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1', source: 'dhcp', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 1 }]);
    expect(upd[0]!.interval_id).toBe(open!.interval_id);
    expect(JSON.parse(String(upd[0]!.evidence)).map((e: { table: string }) => e.table)).toEqual(['dhcp', 'ise_posture']);
    // The same user again (profiler): nothing new.
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '10.1.2.3', 'aa:bb:cc:00:00:01', null, T0 + 6 * MIN, { endpoint_hostname: 'laptop-1' })])).toEqual([]);
    const bob = feed(rt, 'ise_posture', [ise('ise_posture', '10.1.2.3', 'aa:bb:cc:00:00:01', 'bob', T0 + 20 * MIN)]);
    expect(bob.map(pick)).toEqual([
      { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1', source: 'dhcp', valid_from: iso(T0), valid_to: iso(T0 + 20 * MIN), closed_by: 'new_holder', revision: 2 },
      { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'bob', hostname: null, source: 'ise', valid_from: iso(T0 + 20 * MIN), valid_to: null, closed_by: null, revision: 0 },
    ]);
  });

  it('an ISE row with a user but no MAC fills the user of the DHCP interval', () => {
    const rt = runtime();
    feed(rt, 'dhcp', [dhcp('ACK', '10.4.4.4', 'aa:bb:cc:00:00:04', T0)]);
    expect(feed(rt, 'ise_posture', [ise('ise_posture', '10.4.4.4', null, 'carol', T0 + MIN, { system_name: 'ws-carol' })]).map(pick)).toEqual([
      { ip: '10.4.4.4', mac: 'aa:bb:cc:00:00:04', user: 'carol', hostname: 'ws-carol', source: 'dhcp', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 1 },
    ]);
  });

  it('ISE alone opens an interval; rows without an IP or without MAC and user are ignored', () => {
    const rt = runtime();
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '', 'aa:bb:cc:00:00:05', null, T0), ise('ise_profiler', '10.0.0.5', null, null, T0)])).toEqual([]);
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'AA:BB:CC:00:00:05', null, T0)]).map(pick)).toEqual([
      { ip: '10.0.0.5', mac: 'aa:bb:cc:00:00:05', user: null, hostname: null, source: 'ise', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 0 },
    ]);
  });

  it('out of order: an older event of another holder becomes a closed past interval; an older close is ignored', () => {
    const rt = runtime();
    feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:02', T0 + 60 * MIN)]);
    const late = feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0, { lease_duration: 7200 })]);
    expect(late.map(pick)).toEqual([{ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: null, source: 'dhcp', valid_from: iso(T0), valid_to: iso(T0 + 60 * MIN), closed_by: 'new_holder', revision: 0 }]);
    expect(feed(rt, 'dhcp', [dhcp('RELEASE', '10.1.2.3', 'aa:bb:cc:00:00:02', T0 + 30 * MIN)])).toEqual([]);
    // The same holder late: nothing (the open interval already covers it from its own start).
    expect(feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:02', T0 + 50 * MIN)])).toEqual([]);
  });

  it('a snapshot restored elsewhere continues the same intervals; replayed input emits nothing twice', () => {
    const a = runtime();
    seq = 100;
    a.apply('dhcp', 101, objectBatch('dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0)]), NOW);
    const snaps = [0, 1, 2, 3].map((p) => JSON.parse(JSON.stringify(a.snapshot(p))) as ReturnType<typeof a.snapshot>);
    const b = runtime();
    for (const s of snaps) b.restore(s);
    expect(b.apply('dhcp', 101, objectBatch('dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0)]), NOW).alerts).toEqual([]);
    const rows = b.apply('dhcp', 102, objectBatch('dhcp', [dhcp('RELEASE', '10.1.2.3', 'aa:bb:cc:00:00:01', T0 + MIN)]), NOW).alerts.map((x) => x.detail);
    expect(rows.map((r) => [r.valid_from, r.valid_to, r.revision])).toEqual([[iso(T0), iso(T0 + MIN), 1]]);
  });

  it('reads the real dhcp table columns through Arrow (timestamps as epoch ms, lease_end in seconds)', () => {
    const def = allTables().find((t) => t.name === 'dhcp')!;
    const b = new ColumnBuilder(fullColumnsOf(def));
    const us = T0 * 1000;
    b.append({ timestamp: us, event_type: 'LEASE', ip: '10.2.0.7', mac: 'aa:bb:cc:00:00:07', lease_state: 'Issued', lease_end: us + 3_600_000_000, message: 'r-l-e', _source: 'infoblox', _object: 'o', _raw_seq: 3, eventDate: 19795 });
    b.append({ timestamp: us + 600_000_000, event_type: 'LEASE', ip: '10.2.0.7', mac: 'aa:bb:cc:00:00:07', lease_state: 'Freed', message: 'r-l-e', _source: 'infoblox', _object: 'o', _raw_seq: 3, eventDate: 19795 });
    const batch = arrowBatch('dhcp', decodeIpc(encodeIpc(b.build())));
    const rows = runtime().apply('dhcp', 1, batch, NOW).alerts.map((x) => x.detail);
    expect(rows.map((r) => [r.ip, r.mac, r.valid_from, r.valid_to, r.lease_expires, r.closed_by])).toEqual([
      ['10.2.0.7', 'aa:bb:cc:00:00:07', iso(T0), null, iso(T0 + 3_600_000), null],
      ['10.2.0.7', 'aa:bb:cc:00:00:07', iso(T0), iso(T0 + 10 * MIN), iso(T0 + 3_600_000), 'release'],
    ]);
  });
});

const radius = (status: string, ip: string | null, mac: string | null, user: string | null, t: number, over: Row = {}): Row => ({
  timestamp: t, acct_status_type: status, endpoint_ip: ip, endpoint_mac: mac, user_name: user, nas_port_type: 'Ethernet', acct_session_id: 's1',
  _source: 'ise_syslog', _object: 'inbox/ise-acct.log', _raw_seq: 11, ...over,
});
const RA = 'ise_radius_accounting';

describe('ip attribution from RADIUS accounting', () => {
  it('Start opens (source radius, user + MAC), Interim-Update refreshes silently, Stop closes; a Start without an IP is ignored', () => {
    const rt = runtime();
    expect(feed(rt, RA, [radius('Start', null, 'aa:bb:cc:00:00:02', 'bob', T0)])).toEqual([]);
    expect(feed(rt, RA, [radius('Interim-Update', '10.1.9.40', 'aa:bb:cc:00:00:02', 'bob', T0 + 5 * MIN)]).map(pick)).toEqual([
      { ip: '10.1.9.40', mac: 'aa:bb:cc:00:00:02', user: 'bob', hostname: null, source: 'radius', valid_from: iso(T0 + 5 * MIN), valid_to: null, closed_by: null, revision: 0 },
    ]);
    expect(feed(rt, RA, [radius('Interim-Update', '10.1.9.40', 'aa:bb:cc:00:00:02', 'bob', T0 + 15 * MIN)])).toEqual([]);
    // A Stop of another user is not this session's end.
    expect(feed(rt, RA, [radius('Stop', '10.1.9.40', 'aa:bb:cc:00:00:02', 'mallory', T0 + 20 * MIN)])).toEqual([]);
    const stop = feed(rt, RA, [radius('Stop', '10.1.9.40', 'aa:bb:cc:00:00:02', 'bob', T0 + 30 * MIN)]);
    expect(stop.map(pick)).toEqual([
      { ip: '10.1.9.40', mac: 'aa:bb:cc:00:00:02', user: 'bob', hostname: null, source: 'radius', valid_from: iso(T0 + 5 * MIN), valid_to: iso(T0 + 30 * MIN), closed_by: 'stop', revision: 1 },
    ]);
    expect(JSON.parse(String(stop[0]!.evidence)).map((e: { table: string }) => e.table)).toEqual([RA, RA]);
  });

  it('VPN sessions (NAS-Port-Type Virtual) hold by user without a MAC; MAB and machine sessions are no user', () => {
    const rt = runtime();
    const vpn = feed(rt, RA, [radius('Start', '10.200.0.15', null, 'carol', T0, { nas_port_type: 'Virtual' })]);
    expect(vpn.map(pick)).toEqual([{ ip: '10.200.0.15', mac: null, user: 'carol', hostname: null, source: 'vpn', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 0 }]);
    // The pool hands the address to dave after carol's Stop.
    feed(rt, RA, [radius('Stop', '10.200.0.15', null, 'carol', T0 + 60 * MIN, { nas_port_type: 'Virtual' })]);
    expect(feed(rt, RA, [radius('Start', '10.200.0.15', null, 'dave', T0 + 61 * MIN, { nas_port_type: 'Virtual' })]).map((r) => [r.user, r.valid_from, r.revision])).toEqual([['dave', iso(T0 + 61 * MIN), 0]]);
    const mab = feed(rt, RA, [radius('Interim-Update', '10.3.0.33', 'aa:bb:cc:00:00:33', 'AA-BB-CC-00-00-33', T0)]);
    const machine = feed(rt, RA, [radius('Interim-Update', '10.1.9.77', 'aa:bb:cc:00:00:42', 'host/WS-0042.example.com', T0)]);
    expect([...mab, ...machine].map((r) => [r.mac, r.user, r.hostname])).toEqual([
      ['aa:bb:cc:00:00:33', null, null],
      ['aa:bb:cc:00:00:42', null, 'WS-0042.example.com'],
    ]);
    expect(radiusIdentity('aabb.cc00.0033')).toEqual({ user: null, host: null });
    expect(radiusIdentity('alice@example.com')).toEqual({ user: 'alice@example.com', host: null });
  });

  it('a RADIUS session on a DHCP lease of the same MAC adds the user to that interval', () => {
    const rt = runtime();
    const [open] = feed(rt, 'dhcp', [dhcp('ACK', '10.1.2.3', 'aa:bb:cc:00:00:01', T0, { hostname: 'laptop-1', lease_duration: 86_400 })]);
    const upd = feed(rt, RA, [radius('Start', '10.1.2.3', 'aa:bb:cc:00:00:01', 'alice', T0 + MIN)]);
    expect(upd.map(pick)).toEqual([{ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1', source: 'dhcp', valid_from: iso(T0), valid_to: null, closed_by: null, revision: 1 }]);
    expect(upd[0]!.interval_id).toBe(open!.interval_id);
  });

  it('the real ise_radius_accounting rows from the fixture through Arrow → the intervals they imply', async () => {
    const { readFileSync } = await import('node:fs');
    const { iseFamily } = await import('@sluice/sources');
    const { compileValidator } = await import('@sluice/tables');
    const def = allTables().find((t) => t.name === RA)!;
    const lines = readFileSync(new URL('../../test/fixtures/ise/radius_accounting.syslog', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
    const ctx = { source: 'ise', object: 'fixture', preamble: [] };
    const validate = compileValidator(def);
    const b = new ColumnBuilder(fullColumnsOf(def));
    for (const r of iseFamily.route(lines.map((l) => new TextEncoder().encode(l)), ctx).routed) {
      b.append({ ...validate(iseFamily.decode!(r.record, r.category, ctx)).row!, _source: 'ise', _object: 'fixture', _raw_seq: 1, _input_seq: 1, _ingest_time: 0, _parser_version: 't', _raw: '' });
    }
    const rows = runtime().apply(RA, 1, arrowBatch(RA, decodeIpc(encodeIpc(b.build()))), NOW).alerts.map((x) => x.detail);
    expect(rows.map((r) => [r.ip, r.mac, r.user, r.hostname, r.source, r.valid_from, r.valid_to, r.closed_by])).toEqual([
      ['10.1.2.3', 'aa:bb:cc:00:00:01', 'alice', null, 'radius', '2024-03-13T09:00:00.250Z', null, null],
      ['10.1.9.40', 'aa:bb:cc:00:00:02', 'bob@example.com', null, 'radius', '2024-03-13T09:06:00.000Z', null, null],
      ['10.1.2.3', 'aa:bb:cc:00:00:01', 'alice', null, 'radius', '2024-03-13T09:00:00.250Z', '2024-03-13T10:30:00.000Z', 'stop'],
      ['10.200.0.15', null, 'carol', null, 'vpn', '2024-03-13T11:00:00.000Z', null, null],
      ['10.3.0.33', 'aa:bb:cc:00:00:33', null, null, 'radius', '2024-03-13T11:05:00.000Z', null, null],
      ['10.1.9.77', 'aa:bb:cc:00:00:42', null, 'WS-0042.example.com', 'radius', '2024-03-13T11:06:00.000Z', null, null],
    ]);
  });
});

describe('ip attribution: lapsed leases and silent intervals close', () => {
  const cfg = { maxSilenceHours: 1 };

  it('the next event for the IP after the silence closes the interval at last event + max silence and opens a new one', () => {
    const rt = runtime(undefined, cfg);
    feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0)]);
    // Confirmed at +50 min: the silence counts from there.
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0 + 50 * MIN)])).toEqual([]);
    const rows = feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0 + 5 * 60 * MIN)]);
    expect(rows.map((r) => [r.valid_from, r.valid_to, r.closed_by, r.revision])).toEqual([
      [iso(T0), iso(T0 + 110 * MIN), 'silence', 1],
      [iso(T0 + 300 * MIN), null, null, 0],
    ]);
  });

  it("any later event time passes the end: other IPs' events close silent intervals and lapsed leases", () => {
    const rt = runtime(undefined, cfg);
    feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0)]);
    feed(rt, 'dhcp', [dhcp('ACK', '10.0.0.6', 'aa:bb:cc:00:00:06', T0, { lease_duration: 7200 })]);
    // 59 min later nothing has ended.
    expect(feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.1', 'aa:bb:cc:00:09:01', T0 + 59 * MIN, { lease_duration: 86_400 })]).map((r) => r.ip)).toEqual(['10.9.0.1']);
    // 61 min: the ISE interval (no expiry) is silent for more than an hour; the 2 h lease runs on.
    const at61 = feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.2', 'aa:bb:cc:00:09:02', T0 + 61 * MIN, { lease_duration: 86_400 })]);
    expect(at61.map((r) => [r.ip, r.valid_to, r.closed_by])).toEqual([
      ['10.9.0.2', null, null],
      ['10.0.0.5', iso(T0 + 60 * MIN), 'silence'],
    ]);
    const at3h = feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.3', 'aa:bb:cc:00:09:03', T0 + 180 * MIN, { lease_duration: 86_400 })]);
    expect(at3h.map((r) => [r.ip, r.valid_to, r.closed_by, r.revision])).toEqual([
      ['10.9.0.3', null, null, 0],
      ['10.0.0.6', iso(T0 + 120 * MIN), 'lease_lapsed', 1],
    ]);
    // The closed intervals are not closed twice; the IP's next event opens a new interval.
    expect(feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.4', 'aa:bb:cc:00:09:04', T0 + 240 * MIN, { lease_duration: 86_400 })]).map((r) => r.ip)).toEqual(['10.9.0.4']);
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0 + 241 * MIN)]).map((r) => [r.valid_from, r.valid_to, r.revision])).toEqual([[iso(T0 + 241 * MIN), null, 0]]);
  });

  it("the holder's own Stop after the silence close corrects the end; a renewal before the end keeps it open", () => {
    const rt = runtime(undefined, cfg);
    const [open] = feed(rt, RA, [radius('Start', '10.200.0.15', null, 'carol', T0, { nas_port_type: 'Virtual' })]);
    feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.1', 'aa:bb:cc:00:09:01', T0 + 2 * 60 * MIN, { lease_duration: 86_400 })]);
    const stop = feed(rt, RA, [radius('Stop', '10.200.0.15', null, 'carol', T0 + 3 * 60 * MIN, { nas_port_type: 'Virtual' })]);
    expect(stop.map((r) => [r.interval_id, r.valid_to, r.closed_by, r.revision])).toEqual([[open!.interval_id, iso(T0 + 180 * MIN), 'stop', 2]]);
    // Interim updates every 30 min keep a session open past the max silence.
    feed(rt, RA, [radius('Start', '10.1.9.40', 'aa:bb:cc:00:00:02', 'bob', T0 + 200 * MIN)]);
    for (let m = 230; m <= 380; m += 30) expect(feed(rt, RA, [radius('Interim-Update', '10.1.9.40', 'aa:bb:cc:00:00:02', 'bob', T0 + m * MIN)])).toEqual([]);
  });

  it('the silence queue survives a snapshot restored elsewhere', () => {
    const a = runtime(undefined, cfg);
    feed(a, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0)]);
    const b = runtime(undefined, cfg);
    for (const p of [0, 1, 2, 3]) b.restore(JSON.parse(JSON.stringify(a.snapshot(p))) as ReturnType<typeof a.snapshot>);
    const rows = feed(b, 'dhcp', [dhcp('ACK', '10.9.0.1', 'aa:bb:cc:00:09:01', T0 + 2 * 60 * MIN, { lease_duration: 86_400 })]);
    expect(rows.map((r) => [r.ip, r.valid_to, r.closed_by, r.revision])).toEqual([
      ['10.9.0.1', null, null, 0],
      ['10.0.0.5', iso(T0 + 60 * MIN), 'silence', 1],
    ]);
  });

  it('maxSilenceHours 0 keeps intervals without an expiry open', () => {
    const rt = runtime(undefined, { maxSilenceHours: 0 });
    feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0)]);
    expect(feed(rt, 'dhcp', [dhcp('ACK', '10.9.0.1', 'aa:bb:cc:00:09:01', T0 + 100 * 60 * MIN)]).map((r) => r.ip)).toEqual(['10.9.0.1']);
    expect(feed(rt, 'ise_profiler', [ise('ise_profiler', '10.0.0.5', 'aa:bb:cc:00:00:05', null, T0 + 101 * 60 * MIN)])).toEqual([]);
  });
});
