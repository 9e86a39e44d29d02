// Reads stream and consumer state from JetStream: used by `sluice status` and to wait until a pipeline is idle.
import type { JetStreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@sluice/runtime';

export interface ConsumerState {
  stream: string;
  name: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  delivered: number;
  /** A durable consumer (else an ephemeral / ordered one, removed by the server after its inactivity threshold). */
  durable: boolean;
  /** Pull requests waiting: 0 on an ephemeral consumer means its client is gone (or between two pulls). */
  waiting: number;
  /** Seconds since the oldest message this consumer has not acked was stored: how far behind the stage is. */
  behindSeconds?: number;
}

export interface StreamState {
  name: string;
  messages: number;
  bytes: number;
  lastSeq: number;
  consumers: ConsumerState[];
}

/** With `lag`, also reads the oldest unacked message of each busy consumer to report how far behind it is. */
export async function readState(jsm: JetStreamManager, opts: { lag?: boolean } = {}): Promise<StreamState[]> {
  const out: StreamState[] = [];
  for (const spec of Object.values(STREAMS)) {
    const info = await jsm.streams.info(spec.name).catch(() => null);
    if (!info) continue;
    const consumers: ConsumerState[] = [];
    for await (const c of jsm.consumers.list(spec.name)) {
      const state: ConsumerState = {
        stream: spec.name,
        name: c.name,
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered,
        delivered: c.delivered.stream_seq,
        durable: Boolean(c.config.durable_name),
        waiting: c.num_waiting,
      };
      if (opts.lag && (c.num_pending > 0 || c.num_ack_pending > 0)) {
        // The first message after the ack floor is the oldest one not yet done (a filtered consumer may skip some
        // sequences: then the next stored one for its subject is at least as old as the work it has).
        const msg = await jsm.streams.getMessage(spec.name, { seq: c.ack_floor.stream_seq + 1 }).catch(() => null);
        if (msg) state.behindSeconds = Math.max(0, (Date.now() - msg.time.getTime()) / 1000);
      }
      consumers.push(state);
    }
    consumers.sort((a, b) => a.name.localeCompare(b.name));
    out.push({ name: spec.name, messages: info.state.messages, bytes: info.state.bytes, lastSeq: info.state.last_seq, consumers });
  }
  return out;
}

/** Every consumer has nothing pending and nothing unacked, twice in a row `stableMs` apart. */
export async function waitIdle(jsm: JetStreamManager, opts: { timeoutMs: number; stableMs?: number; onProgress?: (s: StreamState[]) => void }): Promise<StreamState[]> {
  const deadline = Date.now() + opts.timeoutMs;
  let quietSince = 0;
  let lastSig = '';
  for (;;) {
    const state = await readState(jsm);
    opts.onProgress?.(state);
    const busy = state.some((s) => s.consumers.some((c) => c.pending > 0 || c.ackPending > 0));
    const sig = JSON.stringify(state.map((s) => [s.lastSeq, s.consumers.map((c) => c.delivered)]));
    if (!busy && sig === lastSig) {
      if (quietSince && Date.now() - quietSince >= (opts.stableMs ?? 1500)) return state;
      quietSince ||= Date.now();
    } else quietSince = 0;
    lastSig = sig;
    if (Date.now() > deadline) throw new Error(`pipeline still busy after ${opts.timeoutMs} ms: ${describeBusy(state)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function describeBusy(state: StreamState[]): string {
  return state
    .flatMap((s) => s.consumers.filter((c) => c.pending > 0 || c.ackPending > 0).map((c) => `${s.name}/${c.name} pending=${c.pending} ack_pending=${c.ackPending}`))
    .join(', ') || 'no consumer busy but streams still changing';
}

export function formatState(state: StreamState[], rates?: Map<string, number>): string {
  const rows: string[][] = [['stream / consumer', 'messages', 'pending', 'ack pending', 'redelivered', 'msgs/s', 'behind']];
  for (const s of state) {
    rows.push([s.name, String(s.messages), '', '', '', rates ? (rates.get(s.name) ?? 0).toFixed(1) : '', '']);
    for (const c of s.consumers) {
      const behind = c.behindSeconds === undefined ? (c.pending + c.ackPending === 0 ? '0s' : '') : `${c.behindSeconds.toFixed(1)}s`;
      rows.push([`  ${c.name}`, '', String(c.pending), String(c.ackPending), String(c.redelivered), rates ? (rates.get(`${s.name}/${c.name}`) ?? 0).toFixed(1) : '', behind]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Messages/s per stream (appended) and per consumer (delivered), from two samples. */
export function rates(a: StreamState[], b: StreamState[], seconds: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const sb of b) {
    const sa = a.find((s) => s.name === sb.name);
    if (!sa) continue;
    m.set(sb.name, (sb.lastSeq - sa.lastSeq) / seconds);
    for (const cb of sb.consumers) {
      const ca = sa.consumers.find((c) => c.name === cb.name);
      if (ca) m.set(`${sb.name}/${cb.name}`, (cb.delivered - ca.delivered) / seconds);
    }
  }
  return m;
}
