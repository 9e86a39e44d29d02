// The stateful runtime: partition ownership across replicas (each key handled by exactly one), replay skipping by
// per-partition floor and applied sequences, snapshot → restore in a new instance midway without lost state or
// double alerts (also when a message lost in flight was never applied before the snapshot), older snapshots without
// floors, pending alerts carried by the snapshot, bounded state (cap, TTL) and the snapshot byte codec.
import { describe, expect, it } from 'vitest';
import type { Alert } from '@sluice/slack';
import { APPLIED_MEMORY, DetectorRuntime, type PartitionSnapshot } from './detectorRuntime.ts';
import { objectBatch } from './eventBatch.ts';
import { DEFAULT_LOGIN_SOURCES, DEFAULT_NEW_NETWORK_CONFIG, newNetworkLoginRule, type UserNetworks } from './newNetworkLoginRule.ts';
import { ownedPartitions, partitionOfKey } from './partitioning.ts';
import { chunk, decodeSnapshot, encodeSnapshot, unchunk } from './snapshotCodec.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);
const TABLE = 'defender_identity_logon_events';
const NOW = new Date('2024-06-01T00:00:00Z');
const rule = () => newNetworkLoginRule({ ...DEFAULT_NEW_NETWORK_CONFIG, learningDays: 2, sources: DEFAULT_LOGIN_SOURCES });
const limits = { ttlMs: 180 * DAY, maxKeysPerPartition: 100_000 };
const P = 8;

/** A deterministic day-by-day login stream: 40 users, each usually on 2 home networks, sometimes a new one. */
function stream(): { seq: number; rows: Record<string, unknown>[] }[] {
  const msgs: { seq: number; rows: Record<string, unknown>[] }[] = [];
  let seq = 100;
  for (let day = 0; day < 20; day++) {
    const rows: Record<string, unknown>[] = [];
    for (let u = 0; u < 40; u++) {
      const net = day % 7 === 5 && u % 3 === 0 ? 50 + day : (u + day) % 2;
      rows.push({ Timestamp: T0 + day * DAY + u * 1000, ActionType: 'LogonSuccess', AccountUpn: `user${u}@corp.example`, IPAddress: `198.${net}.${u}.10`, ReportId: `${day}-${u}` });
    }
    // Every message is delivered twice within the run (duplicate traffic).
    msgs.push({ seq: seq++, rows }, { seq: seq++, rows });
  }
  return msgs;
}

function run(rt: DetectorRuntime<UserNetworks>, msgs: { seq: number; rows: Record<string, unknown>[] }[]): Alert[] {
  return msgs.flatMap((m) => rt.apply(TABLE, m.seq, objectBatch(TABLE, m.rows), NOW).alerts);
}

const ids = (a: Alert[]) => a.map((x) => x.alert_id);

describe('DetectorRuntime', () => {
  const msgs = stream();

  it('applies a message redelivered after newer ones (lost in flight), skips a repeat, and a snapshot covers what it reflects', () => {
    const rt = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
    const rows = (u: string, net: number, day: number) => [{ Timestamp: T0 + day * DAY, ActionType: 'LogonSuccess', AccountUpn: u, IPAddress: `198.${net}.1.10`, ReportId: `${u}-${day}` }];
    const apply = (seq: number, r: Record<string, unknown>[]) => rt.apply(TABLE, seq, objectBatch(TABLE, r), NOW);
    expect(apply(1, rows('a@corp.example', 1, 0)).replayed).toBe(0);
    expect(apply(3, rows('b@corp.example', 1, 0)).replayed).toBe(0);
    // Seq 2 arrives after 3: it was never applied, so it is applied now.
    const late = apply(2, rows('c@corp.example', 1, 0));
    expect(late.replayed).toBe(0);
    expect(rt.keyCount()).toBe(3);
    expect(apply(3, rows('b@corp.example', 1, 0)).replayed).toBe(1);
    // A new instance restored from a snapshot taken at seq 3 (no ack floor known: floor 0, applied 1, 2, 3) skips 2.
    const copy = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
    for (const p of ownedPartitions(P, 0, 1)) copy.restore(JSON.parse(JSON.stringify(rt.snapshot(p))) as PartitionSnapshot);
    expect(copy.apply(TABLE, 2, objectBatch(TABLE, rows('c@corp.example', 1, 0)), NOW).replayed).toBe(1);
  });
  const all = run(new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits), msgs);

  it('raises each (user, new network) once despite duplicate traffic', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(new Set(ids(all)).size).toBe(all.length);
    // Users with u % 3 == 0 get new networks on days 5, 12 and 19 (past the 2-day learning period).
    expect(all.length).toBe(14 * 3);
  });

  it('splits keys over replicas: together they raise exactly the alerts of one replica', () => {
    const replicas = [0, 1, 2].map((r) => new DetectorRuntime(rule(), P, ownedPartitions(P, r, 3), limits));
    const per = replicas.map((rt) => run(rt, msgs));
    expect(per.every((a) => a.length > 0)).toBe(true);
    expect(per.flat().map((a) => a.alert_id).sort()).toEqual(ids(all).sort());
    for (const [r, alerts] of per.entries()) for (const a of alerts) expect(partitionOfKey(a.entity, P) % 3).toBe(r);
    expect(replicas.reduce((n, rt) => n + rt.keyCount(), 0)).toBe(40);
  });

  it('restarts midway from a snapshot without losing state or raising an alert twice', () => {
    for (const cut of [1, 11, 17, 30]) {
      const a = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
      const before = run(a, msgs.slice(0, cut));
      // Every message was acked: the host reports the consumer's ack floor before the snapshot.
      a.ackFloor(TABLE, msgs[cut - 1]!.seq);
      // Snapshot (through the byte codec), then A goes on a bit and crashes: its later work is lost.
      const snaps: PartitionSnapshot[] = [...a.parts.keys()].map((p) => decodeSnapshot(unchunk(chunk(encodeSnapshot(a.snapshot(p)), 100))));
      const lost = run(a, msgs.slice(cut, cut + 5));
      const b = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
      for (const s of snaps) b.restore(s);
      const resume = b.resumeAfter(TABLE);
      expect(resume).toBe(msgs[cut - 1]!.seq);
      // The consumer redelivers from resume+1; an extra older message is ignored by position.
      const after = run(b, msgs.filter((m) => m.seq > resume - 1));
      // Exactly the alerts of an uninterrupted run, each once; what A raised after the snapshot B raises with the same ids.
      expect([...before, ...after].map((x) => x.alert_id)).toEqual(ids(all));
      for (const x of lost) expect(ids(after)).toContain(x.alert_id);
    }
  });

  it('carries unconfirmed alerts in the snapshot and drops confirmed ones', () => {
    const rt = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
    const raised = run(rt, msgs.slice(0, 12));
    expect(raised.length).toBeGreaterThan(1);
    rt.confirm(raised.slice(1));
    const b = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
    for (const p of rt.parts.keys()) b.restore(rt.snapshot(p));
    expect(ids(b.pending())).toEqual([raised[0]!.alert_id]);
    b.confirm(b.pending());
    expect(b.pending()).toEqual([]);
  });

  it('refuses a snapshot of another partition count or rule', () => {
    const a = new DetectorRuntime(rule(), 4, [0, 1, 2, 3], limits);
    const b = new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);
    expect(() => b.restore(a.snapshot(0))).toThrow(/4 partitions does not fit login_from_new_network with 8/);
  });

  it('bounds state: per-partition key cap (least recently touched first) and TTL on event time', () => {
    const rt = new DetectorRuntime(rule(), 1, [0], { ttlMs: 10 * DAY, maxKeysPerPartition: 3 });
    const login = (u: string, day: number) => ({ Timestamp: T0 + day * DAY, ActionType: 'LogonSuccess', AccountUpn: u, IPAddress: '198.51.100.1', ReportId: 'x' });
    rt.apply(TABLE, 1, objectBatch(TABLE, [login('a', 0), login('b', 0), login('c', 0), login('a', 1), login('d', 1)]), NOW);
    expect([...rt.parts.get(0)!.state.map.keys()]).toEqual(['c', 'a', 'd']);
    rt.apply(TABLE, 2, objectBatch(TABLE, [login('e', 12)]), NOW);
    // c, a and d were last seen more than 10 days before the watermark (day 12).
    expect([...rt.parts.get(0)!.state.map.keys()]).toEqual(['e']);
    // b went over the cap (the cap is enforced after each message), then c, a and d by TTL.
    expect(rt.parts.get(0)!.state.evicted).toBe(4);
  });

  it('encodes a partition page by page and decodes it back in LRU order', () => {
    const rt = new DetectorRuntime(rule(), 1, [0], limits);
    const rows = Array.from({ length: 4500 }, (_, u) => ({ Timestamp: T0 + u, ActionType: 'LogonSuccess', AccountUpn: `u${u}`, IPAddress: `198.51.${u % 256}.1`, ReportId: 'x' }));
    rt.apply(TABLE, 7, objectBatch(TABLE, rows), NOW);
    const { bytes, keys } = rt.encodeSnapshot(0);
    expect(keys).toBe(4500);
    const snap = decodeSnapshot(unchunk(chunk(bytes, 1000)));
    expect(snap).toEqual(rt.snapshot(0));
    const b = new DetectorRuntime(rule(), 1, [0], limits);
    b.restore(snap);
    expect([...b.parts.get(0)!.state.map.keys()]).toEqual(rows.map((r) => r.AccountUpn));
    expect(b.parts.get(0)!.state.get('u4499')).toEqual(rt.parts.get(0)!.state.get('u4499'));
  });
  describe('a message lost in flight before a snapshot', () => {
    const login = (u: string, net: number, day: number) => ({ Timestamp: T0 + day * DAY, ActionType: 'LogonSuccess', AccountUpn: u, IPAddress: `198.${net}.1.10`, ReportId: `${u}-${day}` });
    const users = ['lost@corp.example', ...Array.from({ length: 50 }, (_, i) => `u${101 + i}@corp.example`)];
    // 99: everyone learns network 1 on day 0; 100: lost@ from network 9 on day 5; 101…150: u<seq>@ from network 9.
    const input = [
      { seq: 99, rows: users.map((u) => login(u, 1, 0)) },
      { seq: 100, rows: [login('lost@corp.example', 9, 5)] },
      ...Array.from({ length: 50 }, (_, i) => ({ seq: 101 + i, rows: [login(`u${101 + i}@corp.example`, 9, 5)] })),
    ];
    const fresh = () => new DetectorRuntime(rule(), P, ownedPartitions(P, 0, 1), limits);

    it('is re-read after a restore: resume after the ack floor, the lost message applied, the applied ones skipped', () => {
      const ref = run(fresh(), input);
      expect(ref).toHaveLength(51);
      // Run A: 100 is delivered but lost (never applied, never acked); 101…150 are applied and acked.
      const a = fresh();
      const aAlerts = run(a, input.filter((m) => m.seq !== 100));
      expect(aAlerts).toHaveLength(50);
      // The consumer's ack floor stays at 99 (100 is unacked); then A snapshots and crashes.
      a.ackFloor(TABLE, 99);
      const snaps = [...a.parts.keys()].map((p) => decodeSnapshot(encodeSnapshot(a.snapshot(p))));
      expect(snaps[0]!.positions[TABLE]).toBe(150);
      expect(snaps[0]!.floors?.[TABLE]).toBe(99);
      // 101…150 as gaps from the floor: 2, then 1 × 49.
      expect(snaps[0]!.aboveFloor?.[TABLE]).toEqual([2, ...Array<number>(49).fill(1)]);

      const b = fresh();
      for (const s of snaps) b.restore(s);
      expect(b.resumeAfter(TABLE)).toBe(99);
      // The consumer redelivers from 100: 100 is applied (its alert raised), 101…150 are skipped as replayed.
      const res100 = b.apply(TABLE, 100, objectBatch(TABLE, input[1]!.rows), NOW);
      expect(res100).toMatchObject({ rows: 1, replayed: 0 });
      expect(res100.alerts.map((x) => x.entity)).toEqual(['lost@corp.example']);
      let replayed = 0;
      const bAlerts = [...res100.alerts];
      for (const m of input.slice(2)) {
        const r = b.apply(TABLE, m.seq, objectBatch(TABLE, m.rows), NOW);
        replayed += r.replayed;
        bAlerts.push(...r.alerts);
      }
      expect(replayed).toBe(50);
      expect(bAlerts).toHaveLength(1);
      // Together: exactly the alerts of the uninterrupted run, none twice; the state holds lost@'s two networks.
      expect([...aAlerts, ...bAlerts].map((x) => x.alert_id).sort()).toEqual(ids(ref).sort());
      expect(b.keyCount()).toBe(users.length);
      const lost = b.parts.get(partitionOfKey('lost@corp.example', P))!.state.get('lost@corp.example');
      expect(lost?.n).toHaveLength(2);

      // B's consumer acks up to 150: its next snapshot has the floor at 150 and nothing listed above it.
      b.ackFloor(TABLE, 150);
      const nexts = [...b.parts.keys()].map((p) => b.snapshot(p));
      const next = nexts[partitionOfKey('lost@corp.example', P)]!;
      expect(next.floors?.[TABLE]).toBe(150);
      expect(next.aboveFloor).toBeUndefined();
      expect(b.resumeAfter(TABLE)).toBe(150);
    });

    it('restores a snapshot without floors (older format) as reflecting everything up to its positions', () => {
      const a = fresh();
      run(a, input);
      const old = [...a.parts.keys()].map((p) => {
        const { floors: _f, aboveFloor: _a, ...rest } = a.snapshot(p);
        return decodeSnapshot(encodeSnapshot(rest));
      });
      expect(old[0]!.floors).toBeUndefined();
      const b = fresh();
      for (const s of old) b.restore(s);
      expect(b.resumeAfter(TABLE)).toBe(150);
      expect(b.apply(TABLE, 100, objectBatch(TABLE, input[1]!.rows), NOW)).toMatchObject({ alerts: [], replayed: 1 });
      expect(b.keyCount()).toBe(users.length);
    });

    it('keeps at most APPLIED_MEMORY sequences above the floor: the floor rises to the highest one dropped', () => {
      const rt = new DetectorRuntime(rule(), 1, [0], limits);
      // Sequence 1 is lost; 2 … APPLIED_MEMORY + 2 are applied (empty batches); the ack floor stays at 0.
      for (let seq = 2; seq <= APPLIED_MEMORY + 2; seq++) rt.apply(TABLE, seq, objectBatch(TABLE, []), NOW);
      rt.ackFloor(TABLE, 0);
      const snap = rt.snapshot(0);
      expect(snap.floors?.[TABLE]).toBe(2);
      expect(snap.aboveFloor?.[TABLE]).toHaveLength(APPLIED_MEMORY);
      const b = new DetectorRuntime(rule(), 1, [0], limits);
      b.restore(decodeSnapshot(encodeSnapshot(snap)));
      expect(b.resumeAfter(TABLE)).toBe(2);
      // The documented bound: past APPLIED_MEMORY newer messages, the lost one counts as applied.
      expect(b.apply(TABLE, 1, objectBatch(TABLE, [login('x', 1, 0)]), NOW).replayed).toBe(1);
      expect(b.apply(TABLE, 3, objectBatch(TABLE, [login('x', 1, 0)]), NOW).replayed).toBe(1);
    });
  });
});
