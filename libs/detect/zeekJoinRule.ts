// Detection 4 as a detector rule: Zeek notices joined with their connection on `uid` (zeekJoin.ts). The key is the
// uid, so a notice and its conn land in the same partition; each partition holds one ZeekJoin (its own watermark)
// as per-partition state. After every input message the partition's watermark advances and notices whose wait
// ended come out alone. Alert id = (rule, uid, note, ts): a notice alerts once, joined or alone.
import type { Alert, EvidenceRef, Severity } from '@sluice/slack';
import { alertId, isoOfMs, sqlString } from './alertId.ts';
import { str, type Cell, type EventBatch } from './eventBatch.ts';
import type { ApplyContext, DetectionRule, KeyState, PreparedBatch } from './rule.ts';
import { DEFAULT_CONN_FIELDS, noticeKey, ZeekJoin, type ZeekJoinConfig, type ZeekJoinResult, type ZeekJoinSnapshot, type ZeekRow } from './zeekJoin.ts';

export const ZEEK_JOIN_RULE = 'zeek_notice_conn';

export interface ZeekJoinRuleConfig {
  noticeTable: string;
  connTable: string;
  windowSeconds: number;
  latenessSeconds: number;
  unjoined: 'emit' | 'drop';
  late: 'emit' | 'drop';
  /** Severity per notice type (`note`), else `severity`. */
  noteSeverity: Record<string, Severity>;
  severity: Severity;
}

export const DEFAULT_ZEEK_JOIN_CONFIG: ZeekJoinRuleConfig = {
  noticeTable: 'zeek_notice',
  connTable: 'zeek_conn',
  windowSeconds: 300,
  latenessSeconds: 600,
  unjoined: 'emit',
  late: 'emit',
  noteSeverity: {},
  severity: 'medium',
};

/** Notice columns kept while a notice waits (and shown in the alert). */
const NOTICE_FIELDS = ['ts', 'uid', 'id_orig_h', 'id_orig_p', 'id_resp_h', 'id_resp_p', 'proto', 'note', 'msg', 'sub', 'src', 'dst', 'p', 'n', 'peer_descr', '_source', '_object', '_raw_seq'];
const CONN_CONTEXT = ['id_orig_h', 'id_orig_p', 'id_resp_h', 'id_resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state'];
/** Key of notices without uid (they can never join; any partition will do). */
const NO_UID = '\u0000no-uid';

function cell(v: unknown): string | number | boolean | null {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
}

export function zeekJoinRule(cfg: ZeekJoinRuleConfig): DetectionRule<KeyState, ZeekJoin> {
  const joinCfg: ZeekJoinConfig = {
    windowMicros: cfg.windowSeconds * 1e6,
    latenessMicros: cfg.latenessSeconds * 1e6,
    unjoined: cfg.unjoined,
    late: cfg.late,
    connFields: DEFAULT_CONN_FIELDS,
  };

  const toAlert = (res: ZeekJoinResult, nowIso: string): Alert => {
    const n = res.notice;
    const conn = res.kind === 'joined' ? res.conn : null;
    const ms = Math.floor(Number(n.ts) / 1000);
    const eventTime = isoOfMs(ms);
    const note = str(n.note as Cell) || 'notice';
    const rawUid = str(n.uid as Cell);
    const uid = rawUid === '-' ? '' : rawUid;
    const entity = str((n.src ?? n.id_orig_h ?? conn?.id_orig_h ?? '') as Cell) || uid || note;
    const evidence: EvidenceRef[] = [{ table: cfg.noticeTable, source: str(n._source as Cell), object: str(n._object as Cell), raw_seq: n._raw_seq == null ? null : Number(n._raw_seq) }];
    if (conn) evidence.push({ table: cfg.connTable, source: str(conn._source as Cell), object: str(conn._object as Cell), raw_seq: conn._raw_seq == null ? null : Number(conn._raw_seq) });
    const detail: Alert['detail'] = {
      note,
      msg: cell(n.msg),
      sub: cell(n.sub),
      uid: uid || null,
      src: cell(n.src),
      dst: cell(n.dst),
      p: cell(n.p),
      joined: conn !== null,
      reason: res.kind === 'alone' ? res.reason : null,
    };
    // Connection context from the conn when joined, else what the notice itself carries.
    for (const c of CONN_CONTEXT) detail[c] = cell(conn ? conn[c] : n[c]);
    if (conn) detail.conn_ts = isoOfMs(Math.floor(Number(conn.ts) / 1000));
    const day = eventTime.slice(0, 10);
    return {
      alert_id: alertId(ZEEK_JOIN_RULE, noticeKey(n)),
      rule: ZEEK_JOIN_RULE,
      severity: cfg.noteSeverity[note] ?? cfg.severity,
      title: `Zeek ${note}: ${str(n.msg as Cell) || '(no message)'}${conn ? ` (${str(conn.id_orig_h as Cell)} → ${str(conn.id_resp_h as Cell)}:${str(conn.id_resp_p as Cell)})` : ''}`,
      entity,
      event_time: eventTime,
      created_time: nowIso,
      detail,
      evidence,
      next_query: uid
        ? `SELECT * FROM ${cfg.connTable} WHERE uid = ${sqlString(uid)} AND eventDate BETWEEN DATE '${isoOfMs(ms - 86_400_000).slice(0, 10)}' AND DATE '${day}'`
        : `SELECT * FROM ${cfg.noticeTable} WHERE note = ${sqlString(note)} AND eventDate = DATE '${day}'`,
    };
  };

  const emitAll = (results: ZeekJoinResult[], ctx: ApplyContext<ZeekJoin>) => {
    for (const res of results) ctx.emit(toAlert(res, ctx.nowIso));
  };

  return {
    name: ZEEK_JOIN_RULE,
    reads: 'events',
    inputs: [cfg.noticeTable, cfg.connTable],
    encodeState: (s) => s,
    decodeState: (v) => v as KeyState,
    partitionState: {
      create: () => new ZeekJoin(joinCfg),
      afterBatch(join, ctx) {
        emitAll(join.advance().results, ctx);
      },
      encode: (join) => join.snapshot(),
      decode: (v) => ZeekJoin.restore(joinCfg, v as ZeekJoinSnapshot),
      size: (join) => join.openConns + join.waitingNotices,
    },
    prepare(batch: EventBatch): PreparedBatch<KeyState, ZeekJoin> | null {
      const isConn = batch.input === cfg.connTable;
      if (!isConn && batch.input !== cfg.noticeTable) return null;
      const uid = batch.column('uid');
      const ts = batch.column('ts');
      if (!ts) return null;
      const fields = isConn ? DEFAULT_CONN_FIELDS : NOTICE_FIELDS;
      const cols = fields.map((f) => [f, batch.column(f)] as const);
      const rowOf = (r: number): ZeekRow => {
        const row: ZeekRow = {};
        for (const [f, c] of cols) row[f] = c?.[r] ?? null;
        // Arrow timestamps arrive in ms; the join works in µs like the table.
        const t = ts[r];
        row.ts = typeof t === 'number' ? Math.round(t * 1000) : null;
        return row;
      };
      return {
        key(r) {
          if (ts[r] === null) return null;
          const u = str(uid?.[r]);
          if (u && u !== '-') return u;
          return isConn ? null : NO_UID;
        },
        eventTimeMs: (r) => Number(ts[r] ?? 0),
        apply(_prev, r, ctx) {
          const row = rowOf(r);
          emitAll(isConn ? ctx.local.addConn(row) : ctx.local.addNotice(row), ctx);
          // No per-key state: the partition's join holds it.
          return undefined;
        },
      };
    },
  };
}
