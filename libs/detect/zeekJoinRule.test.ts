// Zeek notice ⨝ conn as a detector rule: joins in either order inside the window, duplicates join once, unjoined
// notices come out alone when the partition's watermark passes them, and the per-partition join survives a restart.
import { describe, expect, it } from 'vitest';
import type { KeyState } from './rule.ts';
import { DetectorRuntime } from './detectorRuntime.ts';
import { objectBatch } from './eventBatch.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshotCodec.ts';
import type { ZeekJoin } from './zeekJoin.ts';
import { DEFAULT_ZEEK_JOIN_CONFIG, ZEEK_JOIN_RULE, zeekJoinRule, type ZeekJoinRuleConfig } from './zeekJoinRule.ts';

const S = 1000;
const T0 = Date.UTC(2024, 5, 3, 8);
const limits = { ttlMs: 86_400_000, maxKeysPerPartition: 10_000 };
// Window 5 min, lateness 10 min (defaults).
const notice = (uid: string, t: number, note = 'SSL::Invalid_Server_Cert', extra: Record<string, unknown> = {}) => ({
  ts: t,
  uid,
  id_orig_h: null,
  note,
  msg: `msg ${uid}`,
  sub: 'CN=evil',
  src: '10.0.0.5',
  dst: '203.0.113.7',
  p: 443,
  _source: 'zeek',
  _object: 'notice.log',
  _raw_seq: 11,
  ...extra,
});
const conn = (uid: string, t: number, duration = 30) => ({
  ts: t,
  uid,
  id_orig_h: '10.0.0.5',
  id_orig_p: 50123,
  id_resp_h: '203.0.113.7',
  id_resp_p: 443,
  proto: 'tcp',
  service: 'ssl',
  duration,
  orig_bytes: 1200,
  resp_bytes: 45000,
  conn_state: 'SF',
  _source: 'zeek',
  _object: 'conn.log',
  _raw_seq: 22,
});

function runtime(over: Partial<ZeekJoinRuleConfig> = {}, partitions = 1) {
  return new DetectorRuntime<KeyState, ZeekJoin>(zeekJoinRule({ ...DEFAULT_ZEEK_JOIN_CONFIG, ...over }), partitions, Array.from({ length: partitions }, (_, i) => i), limits);
}
const N = (rows: ReturnType<typeof notice>[]) => objectBatch('zeek_notice', rows);
const C = (rows: ReturnType<typeof conn>[]) => objectBatch('zeek_conn', rows);

describe('Zeek notice ⨝ conn rule', () => {
  it('joins notice-then-conn and conn-then-notice with the connection context; a duplicate notice joins once', () => {
    const rt = runtime({ noteSeverity: { 'SSL::Invalid_Server_Cert': 'high' } });
    expect(rt.apply('zeek_notice', 1, N([notice('Cabc', T0 + 10 * S)])).alerts).toEqual([]);
    const joined = rt.apply('zeek_conn', 1, C([conn('Cabc', T0), conn('Cother', T0)])).alerts;
    expect(joined).toHaveLength(1);
    expect(joined[0]).toMatchObject({
      rule: ZEEK_JOIN_RULE,
      severity: 'high',
      entity: '10.0.0.5',
      title: 'Zeek SSL::Invalid_Server_Cert: msg Cabc (10.0.0.5 → 203.0.113.7:443)',
      event_time: new Date(T0 + 10 * S).toISOString(),
      evidence: [
        { table: 'zeek_notice', source: 'zeek', object: 'notice.log', raw_seq: 11 },
        { table: 'zeek_conn', source: 'zeek', object: 'conn.log', raw_seq: 22 },
      ],
    });
    expect(joined[0]!.detail).toMatchObject({
      note: 'SSL::Invalid_Server_Cert',
      msg: 'msg Cabc',
      sub: 'CN=evil',
      joined: true,
      reason: null,
      id_orig_h: '10.0.0.5',
      id_orig_p: 50123,
      id_resp_h: '203.0.113.7',
      id_resp_p: 443,
      proto: 'tcp',
      service: 'ssl',
      orig_bytes: 1200,
      resp_bytes: 45000,
    });
    expect(joined[0]!.next_query).toBe("SELECT * FROM zeek_conn WHERE uid = 'Cabc' AND eventDate BETWEEN DATE '2024-06-02' AND DATE '2024-06-03'");
    // Conn first, then its notice (out of order: the notice is older than the newest event, within lateness).
    rt.apply('zeek_conn', 2, C([conn('Cdef', T0 + 60 * S)]));
    const second = rt.apply('zeek_notice', 2, N([notice('Cdef', T0 + 50 * S, 'Scan::Port_Scan')])).alerts;
    expect(second.map((a) => [a.detail.uid, a.detail.joined, a.severity])).toEqual([['Cdef', true, 'medium']]);
    // The same notice again (redelivered in another message): silent.
    expect(rt.apply('zeek_notice', 3, N([notice('Cdef', T0 + 50 * S, 'Scan::Port_Scan')])).alerts).toEqual([]);
  });

  it('an unjoined notice comes out alone once the partition watermark passes its window; "drop" keeps it silent', () => {
    for (const unjoined of ['emit', 'drop'] as const) {
      const rt = runtime({ unjoined });
      rt.apply('zeek_notice', 1, N([notice('Clonely', T0), notice('-', T0, 'Scan::Address_Scan')]));
      // Watermark = newest − 10 min: a conn 14 min later keeps the notice waiting (T0 + 5 min window > wm).
      const early = rt.apply('zeek_conn', 1, C([conn('Cx', T0 + 14 * 60 * S)])).alerts;
      expect(early).toEqual([]);
      const late = rt.apply('zeek_conn', 2, C([conn('Cy', T0 + 16 * 60 * S)])).alerts;
      if (unjoined === 'drop') expect(late).toEqual([]);
      else expect(late.map((a) => [a.detail.uid, a.detail.joined, a.detail.reason, a.detail.id_resp_h])).toEqual([['Clonely', false, 'expired', null]]);
    }
    // Notices without uid follow `unjoined` at once.
    const rt = runtime();
    const alone = rt.apply('zeek_notice', 1, N([notice('-', T0, 'Scan::Address_Scan')])).alerts;
    expect(alone.map((a) => [a.detail.note, a.detail.reason, a.next_query])).toEqual([
      ['Scan::Address_Scan', 'no_uid', "SELECT * FROM zeek_notice WHERE note = 'Scan::Address_Scan' AND eventDate = DATE '2024-06-03'"],
    ]);
  });

  it('state stays bounded: conns leave once the watermark passes their window', () => {
    const rt = runtime({}, 4);
    rt.apply('zeek_conn', 1, C(Array.from({ length: 200 }, (_, i) => conn(`C${i}`, T0 + i * S, 1))));
    expect(rt.keyCount()).toBe(200);
    // One hour later in every partition: everything older than its window + lateness is gone.
    rt.apply('zeek_conn', 2, C(Array.from({ length: 40 }, (_, i) => conn(`D${i}`, T0 + 3600 * S, 1))));
    expect(rt.keyCount()).toBe(40);
  });

  it('restart from a snapshot midway: a waiting notice survives and joins once; replayed alerts keep their ids', () => {
    const msgs: [string, number, ReturnType<typeof objectBatch>][] = [
      ['zeek_notice', 1, N([notice('Ckeep', T0 + 5 * S), notice('Cnow', T0 + 6 * S)])],
      ['zeek_conn', 1, C([conn('Cnow', T0)])],
      ['zeek_conn', 2, C([conn('Ckeep', T0 + S)])],
    ];
    const ref = runtime({}, 2);
    const refIds = msgs.flatMap(([i, s, b]) => ref.apply(i, s, b).alerts.map((a) => a.alert_id));
    expect(refIds).toHaveLength(2);

    const a = runtime({}, 2);
    const aIds = msgs.slice(0, 2).flatMap(([i, s, b]) => a.apply(i, s, b).alerts.map((x) => x.alert_id));
    a.confirm(a.pending());
    const snaps = [0, 1].map((p) => decodeSnapshot(encodeSnapshot(a.snapshot(p))));
    expect(snaps.some((s) => (s.local as { pending: unknown[] }).pending.length === 1)).toBe(true);

    const b = runtime({}, 2);
    for (const s of snaps) b.restore(s);
    expect(b.keyCount()).toBe(2); // the Cnow conn and the waiting Ckeep notice
    // Redelivered old messages are skipped; the conn after the snapshot joins the restored notice.
    expect(b.apply('zeek_conn', 1, msgs[1]![2]).alerts).toEqual([]);
    const after = b.apply('zeek_conn', 2, msgs[2]![2]).alerts;
    expect([...aIds, ...after.map((x) => x.alert_id)]).toEqual(refIds);
    expect(after[0]!.detail).toMatchObject({ uid: 'Ckeep', joined: true });
  });
});
