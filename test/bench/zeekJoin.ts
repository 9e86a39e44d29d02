// Benchmark of the Zeek notice ⨝ conn join (detection rule 4): feeds N conn rows and M notices spread over one
// simulated hour, arriving out of order (a conn arrives when it ends, plus delivery jitter), calls advance() after
// every batch, and prints events/s per core and the memory the join holds (peak heap after GC, RSS). Rows are
// generated as the stream goes, so the only thing that stays on the heap is what the join keeps.
// Not a test: numbers only.
// Run: npx tsx --expose-gc test/bench/zeekJoin.ts [--conns 1000000] [--notices 1000] [--window-min 5] [--lateness-s 60]
import { parseArgs } from 'node:util';
import { ZeekJoin, type ZeekRow } from '../../libs/detect/zeekJoin.ts';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({
  options: {
    conns: { type: 'string', default: '1000000' },
    notices: { type: 'string', default: '1000' },
    'window-min': { type: 'string', default: '5' },
    'lateness-s': { type: 'string', default: '60' },
    batch: { type: 'string', default: '1000' },
  },
});
const N = Number(values.conns);
const M = Number(values.notices);
const S = 1_000_000;
const HOUR = 3600 * S;
const WINDOW = Number(values['window-min']) * 60 * S;
const LATENESS = Number(values['lateness-s']) * S;
const BATCH = Number(values.batch);
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0) * 1000;
const mb = (b: number): string => (b / 1048576).toFixed(0);
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface Ev {
  at: number;
  conn: boolean;
  row: ZeekRow;
}

/** Min-heap on arrival time: holds the events generated but not yet "delivered". */
class ArrivalHeap {
  private a: Ev[] = [];
  get size(): number {
    return this.a.length;
  }
  push(e: Ev): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= e.at) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }
  peek(): number {
    return this.a.length ? this.a[0]!.at : Infinity;
  }
  pop(): Ev {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]!.at < a[l]!.at ? l + 1 : l;
        if (a[c]!.at >= last.at) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * The event stream, in arrival order: conns every 3600/N s, durations mostly short (70 % < 1 s, 25 % < 1 min, 5 %
 * up to 10 min), each arriving at ts + duration + jitter (0–45 s; 0.1 % up to 3 min, i.e. late beyond the
 * watermark); M notices on random conns at a time inside the conn, arriving with 0–10 s jitter.
 */
function* stream(seed: number, onGenerated?: () => void): Generator<Ev> {
  const rng = new Rng(seed);
  const heap = new ArrivalHeap();
  const step = HOUR / N;
  const noticeEvery = Math.max(1, Math.floor(N / M));
  for (let i = 0; i < N; i++) {
    const ts = T0 + Math.floor(i * step);
    const r = rng.next();
    const duration = r < 0.7 ? rng.next() : r < 0.95 ? rng.next() * 60 : rng.next() * 600;
    let uid = 'C';
    for (let k = 0; k < 17; k++) uid += B62[Math.floor(rng.next() * 62)];
    const row: ZeekRow = {
      ts,
      uid,
      id_orig_h: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      id_orig_p: rng.int(1024, 65535),
      id_resp_h: `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      id_resp_p: rng.pick([53, 80, 443, 443, 443, 22, 8080]),
      proto: rng.chance(0.8) ? 'tcp' : 'udp',
      service: rng.pick(['ssl', 'http', 'dns', null]),
      duration,
      orig_bytes: rng.int(0, 100_000),
      resp_bytes: rng.int(0, 1_000_000),
      conn_state: rng.pick(['SF', 'S0', 'REJ', 'RSTO', 'SH']),
      local_orig: true,
      local_resp: false,
      missed_bytes: 0,
      history: rng.pick(['ShADadFf', 'S', 'ShR', 'Dd']),
      orig_pkts: rng.int(1, 200),
      orig_ip_bytes: rng.int(40, 200_000),
      resp_pkts: rng.int(0, 900),
      resp_ip_bytes: rng.int(0, 1_200_000),
      community_id: `1:${rng.hex(27)}=`,
      _source: 'zeek-sensor-1',
      _object: `conn.${Math.floor(i / 50_000)}.log`,
      _raw_seq: i,
    };
    const jitter = rng.chance(0.001) ? rng.int(0, 180 * S) : rng.int(0, 45 * S);
    heap.push({ at: ts + Math.round(duration * S) + jitter, conn: true, row });
    if (i % noticeEvery === noticeEvery >> 1) {
      const nts = ts + Math.floor(rng.next() * duration * S);
      heap.push({
        at: nts + rng.int(0, 10 * S),
        conn: false,
        row: { ts: nts, uid, id_orig_h: row.id_orig_h, id_resp_h: row.id_resp_h, note: 'SSL::Invalid_Server_Cert', msg: `cert ${i}`, _raw_seq: i },
      });
    }
    onGenerated?.();
    while (heap.peek() <= ts) yield heap.pop();
  }
  while (heap.size) yield heap.pop();
}

const cpuSec = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
console.log(`node ${process.version}, gc exposed: ${typeof global.gc === 'function'}`);
console.log(`${N} conns + ~${M} notices over 1 h, window ±${WINDOW / 60 / S} min, lateness ${LATENESS / S} s, advance every ${BATCH} events`);

// Pass 1: generation alone, to subtract its cost (CPU) and the generator's own buffer of not-yet-arrived events (heap).
global.gc?.();
const genBase = process.memoryUsage().heapUsed;
let genPeak = 0;
let genGc = 0;
let g0 = process.cpuUsage();
let count = 0;
for (const _e of stream(1)) {
  if (++count % 50_000 === 0 && global.gc) {
    const c = process.cpuUsage();
    global.gc();
    genPeak = Math.max(genPeak, process.memoryUsage().heapUsed - genBase);
    genGc += cpuSec(process.cpuUsage(c));
  }
}
const genCpu = cpuSec(process.cpuUsage(g0)) - genGc;

// Pass 2: the join, with heap sampled after a forced GC every 50 k events (GC time excluded from the rate).
global.gc?.();
const base = process.memoryUsage();
const join = new ZeekJoin({ windowMicros: WINDOW, latenessMicros: LATENESS });
let joined = 0;
let alone = 0;
let peakHeap = 0;
let peakRss = 0;
let peakOpen = 0;
let gcCpu = 0;
let n = 0;
const tally = (rs: { kind: string }[]): void => {
  for (const r of rs) {
    if (r.kind === 'joined') joined++;
    else alone++;
  }
};
g0 = process.cpuUsage();
const w0 = performance.now();
for (const e of stream(1)) {
  const rs = e.conn ? join.addConn(e.row) : join.addNotice(e.row);
  tally(rs);
  if (++n % BATCH === 0) tally(join.advance().results);
  if (join.openConns > peakOpen) peakOpen = join.openConns;
  if (n % 50_000 === 0 && global.gc) {
    const c = process.cpuUsage();
    global.gc();
    const m = process.memoryUsage();
    gcCpu += cpuSec(process.cpuUsage(c));
    peakHeap = Math.max(peakHeap, m.heapUsed - base.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
}
tally(join.advance(Infinity).results);
const totalCpu = cpuSec(process.cpuUsage(g0)) - gcCpu;
const wall = (performance.now() - w0) / 1000;
const joinCpu = Math.max(totalCpu - genCpu, 1e-9);
console.log(`events: ${count} (${join.counters.conns} conns, ${join.counters.notices} notices)`);
console.log(
  `join: ${joined} joined, ${alone} alone; counters ${JSON.stringify(join.counters)}`,
);
console.log(`throughput: ${Math.round(count / joinCpu)} ev/s per core for the join (generation ${genCpu.toFixed(2)} s CPU subtracted; ${Math.round(count / totalCpu)} ev/s incl. generation, ${wall.toFixed(1)} s wall)`);
const held = Math.max(peakHeap - genPeak, 0);
console.log(
  `memory: peak ${peakOpen} open conns; peak heap ${mb(peakHeap)} MB, of which the generator's buffer ≈${mb(genPeak)} MB → ` +
    `join state ≈${mb(held)} MB (≈${peakOpen ? Math.round(held / peakOpen) : 0} B/open conn); peak RSS ${mb(peakRss)} MB (baseline RSS ${mb(base.rss)} MB)`,
);
