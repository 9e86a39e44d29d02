import { describe, expect, it } from 'vitest';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { noticeKey, ZeekJoin, type ZeekJoinConfig, type ZeekJoinResult, type ZeekJoinSnapshot, type ZeekRow } from './zeekJoin.ts';

const S = 1_000_000;
const MIN = 60 * S;
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0) * 1000;
const CFG: ZeekJoinConfig = { windowMicros: 5 * MIN, latenessMicros: MIN };

const conn = (uid: string, ts: number, extra: ZeekRow = {}): ZeekRow => ({
  ts,
  uid,
  id_orig_h: '10.0.0.5',
  id_orig_p: 51000,
  id_resp_h: '203.0.113.9',
  id_resp_p: 443,
  proto: 'tcp',
  duration: 10,
  conn_state: 'SF',
  orig_pkts: 12,
  _source: 'zeek-a',
  _raw_seq: 7,
  ...extra,
});
const notice = (uid: string | null, ts: number, note = 'SSL::Invalid_Server_Cert', extra: ZeekRow = {}): ZeekRow => ({
  ts,
  uid,
  note,
  msg: 'bad cert',
  ...extra,
});
const summary = (rs: ZeekJoinResult[]) => rs.map((r) => (r.kind === 'joined' ? `joined ${String(r.notice.uid)} ${String(r.notice.note)}` : `alone ${String(r.notice.uid)} ${r.reason}`));

describe('ZeekJoin', () => {
  it('joins a notice with a conn that arrived before it (in order)', () => {
    const j = new ZeekJoin(CFG);
    expect(j.addConn(conn('C1', T0))).toEqual([]);
    const [r] = j.addNotice(notice('C1', T0 + 5 * S));
    expect(r).toEqual({
      kind: 'joined',
      key: noticeKey(notice('C1', T0 + 5 * S)),
      notice: notice('C1', T0 + 5 * S),
      // The configured conn columns (orig_pkts is not one of them; absent ones are null).
      conn: {
        ts: T0,
        uid: 'C1',
        id_orig_h: '10.0.0.5',
        id_orig_p: 51000,
        id_resp_h: '203.0.113.9',
        id_resp_p: 443,
        proto: 'tcp',
        service: null,
        duration: 10,
        orig_bytes: null,
        resp_bytes: null,
        conn_state: 'SF',
        history: null,
        community_id: null,
        _source: 'zeek-a',
        _object: null,
        _raw_seq: 7,
      },
    });
    expect(j.counters.joined).toBe(1);
  });

  it('joins a notice whose conn arrives later (out of order)', () => {
    const j = new ZeekJoin(CFG);
    expect(j.addNotice(notice('C1', T0 + 5 * S))).toEqual([]);
    expect(j.waitingNotices).toBe(1);
    j.addConn(conn('C2', T0 + 2 * MIN));
    expect(j.advance().results).toEqual([]); // watermark T0+1min: the notice still waits
    expect(summary(j.addConn(conn('C1', T0)))).toEqual(['joined C1 SSL::Invalid_Server_Cert']);
    expect(j.waitingNotices).toBe(0);
  });

  it('joins within [conn.ts − window, conn.ts + duration + window] and not outside', () => {
    const j = new ZeekJoin(CFG);
    j.addConn(conn('C1', T0, { duration: 600 })); // ends at T0 + 10 min
    expect(summary(j.addNotice(notice('C1', T0 - 5 * MIN)))).toEqual(['joined C1 SSL::Invalid_Server_Cert']);
    expect(summary(j.addNotice(notice('C1', T0 + 15 * MIN, 'A')))).toEqual(['joined C1 A']);
    expect(j.addNotice(notice('C1', T0 - 5 * MIN - 1, 'B'))).toEqual([]); // waits (the conn does not fit)
    expect(j.addNotice(notice('C1', T0 + 15 * MIN + 1, 'C'))).toEqual([]);
    expect(j.waitingNotices).toBe(2);
  });

  it('emits a notice alone once the watermark passes its ts + window, or drops it when configured', () => {
    for (const unjoined of ['emit', 'drop'] as const) {
      const j = new ZeekJoin({ ...CFG, unjoined });
      j.addNotice(notice('C9', T0));
      j.addConn(conn('C5', T0 + 6 * MIN)); // watermark → T0 + 5 min: not past yet
      expect(j.advance()).toMatchObject({ watermark: T0 + 5 * MIN, results: [], droppedNotices: 0 });
      j.addConn(conn('C6', T0 + 6 * MIN + 1));
      const a = j.advance();
      expect(a.watermark).toBe(T0 + 5 * MIN + 1);
      expect(summary(a.results)).toEqual(unjoined === 'emit' ? ['alone C9 expired'] : []);
      expect(a.droppedNotices).toBe(unjoined === 'emit' ? 0 : 1);
      expect(j.waitingNotices).toBe(0);
      expect(j.counters.expiredNotices).toBe(1);
      // Its conn arriving now is late and joins nothing.
      expect(j.addConn(conn('C9', T0, { duration: 0 }))).toEqual([]);
      expect(j.counters.lateConns).toBe(1);
    }
  });

  it('handles events late beyond the watermark', () => {
    const j = new ZeekJoin(CFG);
    j.addConn(conn('C1', T0 + 60 * MIN));
    j.advance(); // watermark T0 + 59 min
    // A notice whose whole window is behind the watermark can no longer join: alone, reason late.
    expect(summary(j.addNotice(notice('C0', T0)))).toEqual(['alone C0 late']);
    expect(j.counters.lateNotices).toBe(1);
    expect(new ZeekJoin({ ...CFG, late: 'drop' }).addNotice(notice('X', T0))).toHaveLength(0);
    // A late notice still joins a conn held in state; a notice behind the watermark but within its window waits.
    j.addConn(conn('C2', T0 + 56 * MIN));
    expect(summary(j.addNotice(notice('C2', T0 + 56 * MIN)))).toEqual(['joined C2 SSL::Invalid_Server_Cert']);
    expect(j.addNotice(notice('C3', T0 + 55 * MIN))).toEqual([]);
    expect(summary(j.addConn(conn('C3', T0 + 54 * MIN)))).toEqual(['joined C3 SSL::Invalid_Server_Cert']);
    // A conn whose window is entirely behind the watermark is not kept.
    expect(j.addConn(conn('C4', T0))).toEqual([]);
    expect(j.openConns).toBe(3);
    expect(j.counters.lateConns).toBe(1);
  });

  it('joins a duplicated notice once; distinct notices on one uid each join', () => {
    const j = new ZeekJoin(CFG);
    j.addNotice(notice('C1', T0 + S));
    expect(j.addNotice(notice('C1', T0 + S))).toEqual([]); // duplicate while waiting
    expect(summary(j.addConn(conn('C1', T0)))).toEqual(['joined C1 SSL::Invalid_Server_Cert']);
    expect(j.addNotice(notice('C1', T0 + S))).toEqual([]); // duplicate after the join
    expect(summary(j.addNotice(notice('C1', T0 + 2 * S, 'Weird::Activity')))).toEqual(['joined C1 Weird::Activity']);
    expect(j.addConn(conn('C1', T0))).toEqual([]); // duplicate conn
    expect(j.counters).toMatchObject({ joined: 2, duplicateNotices: 2, duplicateConns: 1 });
  });

  it('emits notices without uid alone at once', () => {
    const j = new ZeekJoin(CFG);
    expect(summary(j.addNotice(notice(null, T0, 'Scan::Port_Scan')))).toEqual(['alone null no_uid']);
    expect(summary(j.addNotice(notice('-', T0, 'Scan::Port_Scan')))).toEqual(['alone - no_uid']);
    expect(new ZeekJoin({ ...CFG, unjoined: 'drop' }).addNotice(notice(null, T0))).toEqual([]);
  });

  it('keeps state bounded: conns expire when the watermark passes ts + duration + window', () => {
    const j = new ZeekJoin(CFG);
    j.addConn(conn('C1', T0, { duration: 60 })); // expires after T0 + 6 min
    j.addConn(conn('C2', T0 + MIN, { duration: 0 })); // after T0 + 6 min
    j.addConn(conn('C3', T0 + 2 * MIN, { duration: null })); // after T0 + 7 min
    expect(j.advance(T0 + 6 * MIN).expiredConns).toBe(0);
    expect(j.advance(T0 + 6 * MIN + 1).expiredConns).toBe(2);
    expect(j.openConns).toBe(1);
    expect(j.advance(T0).watermark).toBe(T0 + 6 * MIN + 1); // never moves back
    expect(j.advance(T0 + 7 * MIN + 1).expiredConns).toBe(1);
    expect(j.openConns).toBe(0);
    expect(j.counters.expiredConns).toBe(3);
    expect(summary(j.addNotice(notice('C1', T0 + S)))).toEqual(['alone C1 late']);
  });

  it('counts rows without ts or uid as invalid', () => {
    const j = new ZeekJoin(CFG);
    expect(j.addConn({ uid: 'C1' })).toEqual([]);
    expect(j.addConn({ ts: T0 })).toEqual([]);
    expect(j.addNotice({ uid: 'C1', ts: 'yesterday' })).toEqual([]);
    expect(j.counters.invalid).toBe(3);
    expect(j.openConns).toBe(0);
  });

  it('restores from a JSON snapshot and carries on', () => {
    const j = new ZeekJoin(CFG);
    j.addConn(conn('C1', T0, { orig_bytes: 5n }));
    j.addNotice(notice('C1', T0 + S));
    j.addNotice(notice('C2', T0 + 2 * S));
    j.addConn(conn('C3', T0 + 3 * MIN));
    j.advance();
    const snap = JSON.parse(JSON.stringify(j.snapshot())) as ZeekJoinSnapshot;
    expect(snap.conns.map((c) => [c.row.uid, c.joined.length])).toEqual([
      ['C1', 1],
      ['C3', 0],
    ]);
    expect(snap.conns[0]!.row.orig_bytes).toBe(5);
    const r = ZeekJoin.restore(CFG, snap);
    expect(r.watermark).toBe(T0 + 2 * MIN);
    expect(r.openConns).toBe(2);
    expect(r.waitingNotices).toBe(1);
    expect(r.addNotice(notice('C1', T0 + S))).toEqual([]); // already joined before the restart
    expect(summary(r.addConn(conn('C2', T0)))).toEqual(['joined C2 SSL::Invalid_Server_Cert']);
    expect(r.advance(T0 + 8 * MIN + 1).expiredConns).toBe(2); // C1 (and C2, ends T0+10s) expire; C3 stays
    expect(r.openConns).toBe(1);
    expect(r.counters.joined).toBe(2);
    // A fresh join's snapshot (watermark −∞) survives JSON too.
    const empty = ZeekJoin.restore(CFG, JSON.parse(JSON.stringify(new ZeekJoin(CFG).snapshot())) as ZeekJoinSnapshot);
    expect(empty.watermark).toBe(-Infinity);
    expect(empty.addNotice(notice('C1', T0))).toEqual([]);
  });

  it('joins every notice exactly once when events arrive shuffled within the allowed lateness', () => {
    const rng = new Rng(11);
    const j = new ZeekJoin({ windowMicros: 2 * MIN, latenessMicros: 30 * S });
    const events: { at: number; kind: 'conn' | 'notice'; row: ZeekRow }[] = [];
    const wanted = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const ts = T0 + i * S + rng.int(0, S / 2);
      const duration = rng.int(0, 30);
      const uid = `C${i}`;
      // Conns are logged when they end; arrival adds up to 20 s jitter (below the 30 s lateness).
      events.push({ at: ts + duration * S + rng.int(0, 20 * S), kind: 'conn', row: conn(uid, ts, { duration }) });
      if (i % 10 === 0) {
        const n = notice(uid, ts + rng.int(0, duration * S));
        events.push({ at: n.ts as number, kind: 'notice', row: n });
        events.push({ at: (n.ts as number) + rng.int(0, 20 * S), kind: 'notice', row: n }); // redelivered copy
        wanted.add(uid);
      }
    }
    events.sort((a, b) => a.at - b.at);
    const joined: string[] = [];
    const alone: string[] = [];
    let maxOpen = 0;
    for (const [i, e] of events.entries()) {
      const rs = e.kind === 'conn' ? j.addConn(e.row) : j.addNotice(e.row);
      if (i % 50 === 0) rs.push(...j.advance().results);
      for (const r of rs) (r.kind === 'joined' ? joined : alone).push(String(r.notice.uid));
      maxOpen = Math.max(maxOpen, j.openConns);
    }
    alone.push(...summary(j.advance(Infinity).results));
    expect(alone).toEqual([]);
    expect(joined.sort()).toEqual([...wanted].sort());
    expect(j.counters.duplicateNotices).toBe(wanted.size);
    expect(j.openConns).toBe(0);
    // Bounded: conns held ≈ rate × (window + lateness + duration), far below the 2000 fed.
    expect(maxOpen).toBeLessThan(300);
  });
});
