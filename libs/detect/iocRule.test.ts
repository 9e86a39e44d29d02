// IoC matching as a detector rule: indicators arrive as a broadcast input, mapped rows match while the indicator is
// valid, (device, type, IoC) alerts once per 24 h, and a restart from a snapshot keeps the suppression state.
import { describe, expect, it } from 'vitest';
import { DomainLookup } from '@sluice/domains';
import { DetectorRuntime } from './detectorRuntime.ts';
import { objectBatch } from './eventBatch.ts';
import { DEFAULT_IOC_MAPPING } from './iocMapping.ts';
import { DEFAULT_IOC_RULE_CONFIG, iocRule, IOC_RULE, type DeviceSuppression } from './iocRule.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshotCodec.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 5, 3, 8);
const NET = 'defender_device_network_events';
const limits = { ttlMs: 2 * 24 * H, maxKeysPerPartition: 10_000 };
const domains = new DomainLookup();
const cfg = { ...DEFAULT_IOC_RULE_CONFIG, mapping: DEFAULT_IOC_MAPPING, registeredDomainOf: (n: string) => domains.lookup(n)?.registeredDomain ?? null };

// Times in ms, as the detector's Arrow batches give them.
const ioc = (indicator: string, type: string, first: number, extra: Record<string, unknown> = {}) => ({
  indicator,
  type,
  dataset: 'otx',
  first_seen: first,
  last_seen: null,
  confidence: 80,
  threat: 'Cobalt Strike',
  event_name: 'pulse 1',
  _ingest_time: T0,
  ...extra,
});
const conn = (device: string, ip: string, t: number, seq = 1) => ({
  Timestamp: t,
  DeviceName: device,
  DeviceId: `id-${device}`,
  RemoteIP: ip,
  RemoteUrl: null,
  _source: 'defender_xdr',
  _object: `obj-${seq}`,
  _raw_seq: seq,
});

function runtime(partitions = 4, owned = [0, 1, 2, 3]) {
  return new DetectorRuntime<DeviceSuppression>(iocRule(cfg), partitions, owned, limits);
}

describe('IoC rule', () => {
  it('out-of-order events more than 24 h apart: one alert per window, not one per event (a backfill or unordered stream)', () => {
    const rt = runtime();
    let seq = 0;
    rt.apply('iocs', ++seq, objectBatch('iocs', [ioc('203.0.113.66', 'IPv4', T0 - 72 * H)]));
    const alerts: string[] = [];
    // Event times alternate between two days (36 h apart), ten times: the old window must stay once a newer one opens.
    for (let i = 0; i < 10; i++) {
      const t = i % 2 === 0 ? T0 + 36 * H + i * 60_000 : T0 + i * 60_000;
      for (const a of rt.apply(NET, ++seq, objectBatch(NET, [conn('ws-1', '203.0.113.66', t, seq)]), new Date(T0 + 40 * H)).alerts) alerts.push(a.event_time);
    }
    expect(alerts).toEqual([new Date(T0 + 36 * H).toISOString(), new Date(T0 + 60_000).toISOString()]);
    // A day of processing time later, an event that closes both windows in event time forgets them.
    const later = rt.apply(NET, ++seq, objectBatch(NET, [conn('ws-1', '203.0.113.66', T0 + 80 * H, seq)]), new Date(T0 + 70 * H));
    expect(later.alerts).toHaveLength(1);
    const st = [...rt.parts.values()].flatMap((p) => [...p.state.map.values()]).find((x) => x.k.length > 0)!;
    expect(st.o).toEqual([(T0 + 80 * H) * 1000]);
  });

  it('fires on a valid indicator with severity, entity, lineage and next query; silent on benign rows and repeats within 24 h', () => {
    const rt = runtime();
    let seq = 0;
    expect(rt.isBroadcast('iocs')).toBe(true);
    rt.apply('iocs', ++seq, objectBatch('iocs', [ioc('203.0.113.66', 'IPv4', T0 - 24 * H), ioc('198.51.100.9', 'IPv4', T0 - H, { confidence: 20, dataset: 'misp' })]));
    expect((rt.rule as ReturnType<typeof iocRule>).index.size).toBe(2);

    const first = rt.apply(NET, ++seq, objectBatch(NET, [conn('ws-1', '10.0.0.1', T0), conn('ws-1', '::ffff:203.0.113.66', T0 + 1000, 7), conn('ws-2', '192.0.2.1', T0)]));
    expect(first.alerts).toHaveLength(1);
    const a = first.alerts[0]!;
    expect(a).toMatchObject({
      rule: IOC_RULE,
      severity: 'high',
      entity: 'ws-1',
      title: 'IPv4 indicator 203.0.113.66 seen on ws-1',
      event_time: new Date(T0 + 1000).toISOString(),
      evidence: [{ table: NET, source: 'defender_xdr', object: 'obj-7', raw_seq: 7 }],
    });
    expect(a.detail).toMatchObject({ table: NET, column: 'RemoteIP', ioc_type: 'IPv4', ioc: '203.0.113.66', observed: '::ffff:203.0.113.66', datasets: 'otx', confidence: 80, threat: 'Cobalt Strike', last_seen: null });
    expect(a.next_query).toContain(`SELECT * FROM ${NET} WHERE RemoteIP = '::ffff:203.0.113.66' AND eventDate = DATE '2024-06-03'`);

    // Same (device, IoC) 23 h later: silent. Another device: alerts. Low confidence → low severity.
    const again = rt.apply(NET, ++seq, objectBatch(NET, [conn('ws-1', '203.0.113.66', T0 + 23 * H), conn('ws-3', '203.0.113.66', T0 + 23 * H), conn('ws-1', '198.51.100.9', T0 + 23 * H)]));
    expect(again.alerts.map((x) => [x.entity, x.detail.ioc, x.severity])).toEqual([
      ['ws-3', '203.0.113.66', 'high'],
      ['ws-1', '198.51.100.9', 'low'],
    ]);
    // 24 h after the first match: the next window opens with a new id.
    const day2 = rt.apply(NET, ++seq, objectBatch(NET, [conn('ws-1', '203.0.113.66', T0 + 25 * H)]));
    expect(day2.alerts).toHaveLength(1);
    expect(day2.alerts[0]!.alert_id).not.toBe(a.alert_id);
    // A redelivered message (same sequence) is not applied twice.
    expect(rt.apply(NET, seq, objectBatch(NET, [conn('ws-9', '203.0.113.66', T0 + 25 * H)])).alerts).toHaveLength(0);
  });

  it('matches only inside the validity window; live updates move the window', () => {
    const rt = runtime();
    rt.apply('iocs', 1, objectBatch('iocs', [ioc('203.0.113.5', 'IPv4', T0, { last_seen: T0 + 10 * H })]));
    const before = rt.apply(NET, 2, objectBatch(NET, [conn('a', '203.0.113.5', T0 - 1)]));
    const after = rt.apply(NET, 3, objectBatch(NET, [conn('b', '203.0.113.5', T0 + 10 * H + 1)]));
    expect([before.alerts.length, after.alerts.length]).toEqual([0, 0]);
    const inside = rt.apply(NET, 4, objectBatch(NET, [conn('c', '203.0.113.5', T0 + 5 * H)]));
    expect(inside.alerts.map((x) => [x.entity, x.detail.last_seen])).toEqual([['c', new Date(T0 + 10 * H).toISOString()]]);
    // The feed extends the indicator (newer version): the same event now matches.
    rt.apply('iocs', 5, objectBatch('iocs', [ioc('203.0.113.5', 'IPv4', T0, { last_seen: T0 + 20 * H, _ingest_time: T0 + H })]));
    expect(rt.apply(NET, 6, objectBatch(NET, [conn('b', '203.0.113.5', T0 + 10 * H + 1)])).alerts.map((x) => x.entity)).toEqual(['b']);
    // A stale redelivery (older version) does not shorten it again.
    rt.apply('iocs', 7, objectBatch('iocs', [ioc('203.0.113.5', 'IPv4', T0, { last_seen: T0 + 10 * H, _ingest_time: T0 })]));
    expect(rt.apply(NET, 8, objectBatch(NET, [conn('d', '203.0.113.5', T0 + 15 * H)])).alerts.map((x) => x.entity)).toEqual(['d']);
  });

  it('DNS names: hostname indicators exactly, domain indicators on parents down to the registered domain; hashes case-insensitively', () => {
    const rt = runtime();
    rt.apply('iocs', 1, objectBatch('iocs', [ioc('evil.co.uk', 'domain', T0 - H), ioc('c2.example.net', 'hostname', T0 - H), ioc('a'.repeat(64), 'FileHash-SHA256', T0 - H)]));
    const dns = (q: string, host: string) => ({ timestamp: T0, ComputerName: host, aid: `aid-${host}`, DomainName: q, _source: 'fdr', _object: 'o', _raw_seq: 1 });
    const res = rt.apply('crowdstrike_dns_request', 2, objectBatch('crowdstrike_dns_request', [dns('x.y.evil.co.uk', 'h1'), dns('co.uk', 'h2'), dns('C2.Example.NET.', 'h3'), dns('sub.c2.example.net', 'h4')]));
    expect(res.alerts.map((x) => [x.entity, x.detail.ioc_type, x.detail.ioc])).toEqual([
      ['h1', 'domain', 'evil.co.uk'],
      ['h3', 'hostname', 'c2.example.net'],
    ]);
    const proc = { Timestamp: T0, DeviceName: 'ws-5', SHA256: 'A'.repeat(64), SHA1: null, MD5: null, _source: 's', _object: 'o', _raw_seq: 2 };
    const p = rt.apply('defender_device_process_events', 3, objectBatch('defender_device_process_events', [proc]));
    expect(p.alerts.map((x) => [x.entity, x.detail.ioc_type, x.detail.column])).toEqual([['ws-5', 'FileHash-SHA256', 'SHA256']]);
  });

  it('a restart from a snapshot midway keeps the suppression state: no lost state, replayed alerts keep their ids', () => {
    const feed = objectBatch('iocs', [ioc('203.0.113.66', 'IPv4', T0 - H), ioc('198.51.100.9', 'IPv4', T0 - H)]);
    const msgs = [
      objectBatch(NET, [conn('ws-1', '203.0.113.66', T0)]),
      objectBatch(NET, [conn('ws-2', '203.0.113.66', T0 + H)]),
      objectBatch(NET, [conn('ws-1', '198.51.100.9', T0 + 2 * H)]),
    ];
    // Uninterrupted run: three alerts.
    const ref = runtime();
    ref.apply('iocs', 100, feed);
    const refIds = msgs.flatMap((m, i) => ref.apply(NET, i + 1, m).alerts.map((x) => x.alert_id));
    expect(refIds).toHaveLength(3);

    // Run A: messages 1–2, snapshot every partition, message 3, crash (no snapshot).
    const a = runtime();
    a.apply('iocs', 100, feed);
    const aIds = [msgs[0]!, msgs[1]!].flatMap((m, i) => a.apply(NET, i + 1, m).alerts.map((x) => x.alert_id));
    a.confirm(a.pending());
    // The host reports the consumer's ack floor (messages 1–2 acked) before each snapshot.
    a.ackFloor(NET, 2);
    const snaps = [0, 1, 2, 3].map((p) => decodeSnapshot(encodeSnapshot(a.snapshot(p))));
    aIds.push(...a.apply(NET, 3, msgs[2]!).alerts.map((x) => x.alert_id));
    expect(aIds).toEqual(refIds);

    // Run B: the index is rebuilt from the feed; partitions from the snapshots; the consumer resumes after 2.
    const b = runtime();
    b.apply('iocs', 100, feed);
    for (const s of snaps) b.restore(s);
    expect(b.resumeAfter(NET)).toBe(2);
    expect(b.keyCount()).toBe(2);
    // Redelivery of message 2 is skipped; message 3 is re-raised with the same id (JetStream drops the copy).
    expect(b.apply(NET, 2, msgs[1]!)).toMatchObject({ alerts: [], replayed: 1 });
    expect(b.apply(NET, 3, msgs[2]!).alerts.map((x) => x.alert_id)).toEqual([refIds[2]]);
    // Repeats of pre-snapshot matches inside their 24 h stay silent.
    expect(b.apply(NET, 4, objectBatch(NET, [conn('ws-1', '203.0.113.66', T0 + 5 * H), conn('ws-2', '203.0.113.66', T0 + 6 * H)])).alerts).toEqual([]);
  });

  it('two replicas: each reads every row, the owner of the device alerts, both hold the whole index', () => {
    const feed = objectBatch('iocs', [ioc('203.0.113.66', 'IPv4', T0 - H)]);
    const r0 = runtime(4, [0, 2]);
    const r1 = runtime(4, [1, 3]);
    const devices = Array.from({ length: 20 }, (_, i) => conn(`ws-${i}`, '203.0.113.66', T0, i));
    const alerts: string[] = [];
    for (const r of [r0, r1]) {
      r.apply('iocs', 1, feed);
      expect((r.rule as ReturnType<typeof iocRule>).index.size).toBe(1);
      const res = r.apply(NET, 1, objectBatch(NET, devices));
      expect(res.notOwned + res.alerts.length).toBe(20);
      alerts.push(...res.alerts.map((x) => x.entity));
    }
    expect(alerts.sort()).toEqual(devices.map((d) => d.DeviceName).sort());
  });
});
