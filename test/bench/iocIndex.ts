// Benchmark of the IoC index (detection rule 3) at scale: builds an index of N generated indicators of mixed types,
// then runs N lookups with ~0.1 % hits, and matchRows over DeviceProcessEvents-like rows (6 hash columns each).
// Prints build time, memory (RSS / heap) and lookups/s per core (lookups / CPU seconds). Not a test: numbers only.
// Run: npx tsx --expose-gc test/bench/iocIndex.ts [--indicators 1000000] [--lookups 1000000]
import { parseArgs } from 'node:util';
import { IOC_TYPES, type IocType } from '../../libs/tables/threatintel/iocTypes.ts';
import { IocIndex, type IocRow } from '../../libs/detect/iocIndex.ts';
import { DEFAULT_IOC_MAPPING, matchRows, newSuppressionState } from '../../libs/detect/iocMapping.ts';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({
  options: { indicators: { type: 'string', default: '1000000' }, lookups: { type: 'string', default: '1000000' } },
});
const N = Number(values.indicators);
const L = Number(values.lookups);
const DAY = 86_400_000_000;
const NOW = Date.UTC(2026, 10, 22) * 1000;
const gc = (): void => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
};
const mb = (b: number): string => (b / 1048576).toFixed(0);
const mem = (): { rss: number; heap: number; ext: number } => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, ext: m.external + m.arrayBuffers };
};
const cpu = (f: () => void): { cpu: number; wall: number } => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 };
};

// Type mix of real feeds: mostly hashes (MalwareBazaar gives three per sample) and URLs (URLhaus).
const MIX: [IocType, number][] = [
  ['FileHash-SHA256', 30],
  ['FileHash-SHA1', 15],
  ['FileHash-MD5', 15],
  ['URL', 18],
  ['domain', 7],
  ['hostname', 5],
  ['IPv4', 8],
  ['IPv6', 1],
  ['email', 1],
];
const TLDS = ['com', 'net', 'org', 'ru', 'cn', 'xyz', 'top', 'co.uk', 'info', 'io'];
const DATASETS = ['otx', 'urlhaus', 'malwarebazaar', 'misp', 'stix'];

function valueOf(rng: Rng, type: IocType): string {
  switch (type) {
    case 'FileHash-SHA256':
      return rng.hex(64);
    case 'FileHash-SHA1':
      return rng.hex(40);
    case 'FileHash-MD5':
      return rng.hex(32);
    case 'URL':
      return `http://${rng.hex(8)}.${rng.pick(TLDS)}${rng.chance(0.2) ? ':8080' : ''}/${rng.hex(6)}/${rng.pick(['x.sh', 'bins/mips', 'a.exe', 'index.php?id=' + rng.int(1, 999)])}`;
    case 'domain':
    case 'hostname':
      return `${type === 'hostname' ? 'cdn' + rng.int(1, 9) + '.' : ''}${rng.hex(10)}.${rng.pick(TLDS)}`;
    case 'IPv4':
      return `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    case 'IPv6':
      return `2001:db8:${rng.hex(4)}:${rng.hex(4)}::${rng.hex(3)}`;
    default:
      return `${rng.hex(8)}@${rng.hex(6)}.com`;
  }
}

function indicatorRow(rng: Rng, i: number): IocRow {
  const type = rng.weighted(MIX);
  const first = NOW - rng.int(1, 365) * DAY;
  return {
    indicator: valueOf(rng, type),
    type,
    dataset: rng.pick(DATASETS),
    first_seen: first,
    last_seen: rng.chance(0.4) ? first + rng.int(1, 400) * DAY : null,
    confidence: rng.chance(0.5) ? rng.int(0, 100) : null,
    threat: rng.chance(0.6) ? `family${rng.int(1, 500)}` : null,
    event_name: rng.chance(0.5) ? `pulse ${i % 20000}` : null,
  };
}

console.log(`node ${process.version}, gc exposed: ${typeof global.gc === 'function'}`);
const m0 = mem();
const index = new IocIndex();
const rng = new Rng(42);
const hitPool: IocRow[] = []; // every 1000th indicator, reused for the hit lookups
let buildCpu = 0;
let buildWall = 0;
const CHUNK = 10_000;
for (let done = 0; done < N; done += CHUNK) {
  const rows: IocRow[] = [];
  for (let i = done; i < Math.min(N, done + CHUNK); i++) {
    const r = indicatorRow(rng, i);
    rows.push(r);
    if (i % 1000 === 0) hitPool.push(r);
  }
  const t = cpu(() => index.upsert(rows));
  buildCpu += t.cpu;
  buildWall += t.wall;
}
const m1 = mem();
console.log(`build: ${N} indicators (${index.keys} keys, ${index.size} entries) in ${buildWall.toFixed(2)} s wall, ${buildCpu.toFixed(2)} s CPU (${Math.round(N / buildCpu)} upserts/s per core)`);
console.log(
  `memory of the index: RSS +${mb(m1.rss - m0.rss)} MB, heap +${mb(m1.heap - m0.heap)} MB, typed arrays ${mb(index.arrayBytes())} MB ` +
    `(${Math.round((m1.heap - m0.heap + index.arrayBytes()) / N)} B/indicator); totals RSS ${mb(m1.rss)} MB, heap ${mb(m1.heap)} MB`,
);

// Lookups: ~0.1 % hits (values from the pool, at a time inside their window), the rest random values of the mix.
const qrng = new Rng(7);
const queries: { type: IocType; value: string; t: number }[] = [];
for (let i = 0; i < L; i++) {
  if (i % 1000 === 0) {
    const r = hitPool[(i / 1000) % hitPool.length]!;
    const type = r.type as IocType;
    // Observed values are not normalised: upper-case hashes, upper-case URL hosts.
    queries.push({ type, value: type.startsWith('FileHash') ? r.indicator.toUpperCase() : r.indicator, t: r.first_seen + 1 });
  } else {
    const type = qrng.weighted(MIX);
    queries.push({ type, value: valueOf(qrng, type), t: NOW - DAY });
  }
}
let hits = 0;
const warm = Math.min(L, 50_000);
for (let i = 0; i < warm; i++) index.match(queries[i]!.type, queries[i]!.value, queries[i]!.t, NOW);
const lk = cpu(() => {
  for (const q of queries) {
    if (q.type === 'hostname' || q.type === 'domain') hits += index.matchName(q.value, q.t, NOW).length > 0 ? 1 : 0;
    else hits += index.match(q.type, q.value, q.t, NOW).length > 0 ? 1 : 0;
  }
});
console.log(`lookups: ${L} (${hits} hits) in ${lk.wall.toFixed(2)} s wall, ${lk.cpu.toFixed(2)} s CPU: ${Math.round(L / lk.cpu)} lookups/s per core`);
const perType = new Map<string, number>();
for (const t of IOC_TYPES) {
  const qs = queries.filter((q) => q.type === t).slice(0, 100_000);
  if (qs.length === 0) continue;
  const r = cpu(() => {
    for (const q of qs) {
      if (t === 'hostname' || t === 'domain') index.matchName(q.value, q.t, NOW);
      else index.match(q.type, q.value, q.t, NOW);
    }
  });
  perType.set(t, Math.round(qs.length / r.cpu));
}
console.log(`  per type (lookups/s per core): ${[...perType].map(([t, n]) => `${t} ${n}`).join(', ')}`);

// matchRows over DeviceProcessEvents-like rows: 6 hash columns (SHA1/SHA256/MD5 + InitiatingProcess ones) each.
const R = Math.min(L, 200_000);
const rows: Record<string, unknown>[] = [];
const rrng = new Rng(9);
for (let i = 0; i < R; i++) {
  rows.push({
    Timestamp: NOW - DAY + i,
    DeviceName: `ws-${rrng.int(1, 2000)}`,
    DeviceId: rrng.hex(40),
    SHA1: rrng.hex(40),
    SHA256: rrng.hex(64),
    MD5: rrng.hex(32),
    InitiatingProcessSHA1: rrng.hex(40),
    InitiatingProcessSHA256: rrng.hex(64),
    InitiatingProcessMD5: rrng.hex(32),
  });
}
const state = newSuppressionState();
let matched = 0;
const mr = cpu(() => {
  for (let i = 0; i < R; i += 1000) matched += matchRows(rows.slice(i, i + 1000), 'defender_device_process_events', DEFAULT_IOC_MAPPING, index, NOW, state).matches.length;
});
console.log(`matchRows: ${R} DeviceProcessEvents rows × 6 hash columns (${matched} matches) in ${mr.cpu.toFixed(2)} s CPU: ${Math.round(R / mr.cpu)} events/s per core`);
const m2 = mem();
console.log(`final: RSS ${mb(m2.rss)} MB, heap ${mb(m2.heap)} MB`);
