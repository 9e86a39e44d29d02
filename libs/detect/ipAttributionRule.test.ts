// The ip_attribution rule through the stateful runtime: hand-built DHCP and ISE sequences → exact ip_lookup rows
// (lease, renewal, release, a new holder, ISE adding the user, a lapsed lease, out-of-order events), and the
// state surviving a snapshot/restore with the same rows coming out; an Arrow round trip on the real dhcp columns.
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { DetectorRuntime } from './detectorRuntime.ts';
import { arrowBatch, objectBatch } from './eventBatch.ts';
import { ipAttributionRule, type IpHolder } from './ipAttributionRule.ts';

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

function runtime(owned = [0, 1, 2, 3]) {
  return new DetectorRuntime<IpHolder>(ipAttributionRule(), 4, owned, { ttlMs: 30 * 86_400_000, maxKeysPerPartition: 10_000 });
}
let seq = 0;
/** Feeds rows and returns the emitted ip_lookup rows (the carriers' detail). */
const feed = (rt: DetectorRuntime<IpHolder>, table: string, rows: Row[]) => rt.apply(table, ++seq, objectBatch(table, rows), NOW).alerts.map((a) => a.detail);
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
