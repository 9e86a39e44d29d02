// Benchmark of IP attribution: (1) the enricher's interval index at scale — N ip_lookup intervals (DHCP-like: a few
// consecutive holders per address over a week, the last one open), its memory and lookups/s per core at random
// event times, and a prune; (2) the enricher on generated DeviceNetworkEvents (LocalIP attributed) with that index
// loaded, against attribution off. Not a test: numbers only.
// Run: npx tsx --expose-gc test/bench/attribution.ts [--intervals 1000000] [--lookups 1000000] [--records 50000]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { IntervalIndex } from '@sluice/attribution';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { H, packLines, type InputMessage } from '@sluice/runtime';
import { defenderFamily } from '@sluice/sources';
import { allTables, defenderTables } from '@sluice/tables';
import { emptyCounts } from '../../services/enricher/attribution.ts';
import { enrichBatch, enrichmentByTable, eventTimeByTable } from '../../services/enricher/handler.ts';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({
  options: { intervals: { type: 'string', default: '1000000' }, lookups: { type: 'string', default: '1000000' }, records: { type: 'string', default: '50000' } },
});
const N = Number(values.intervals);
const L = Number(values.lookups);
const R = Number(values.records);
const PER_IP = 4;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 15);
const WEEK = 168 * HOUR;

const gc = (): void => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
};
const mb = (b: number): string => (b / 1048576).toFixed(0);
const heap = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};
const cpu = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const mac = (i: number, k: number) => `aa:bb:${(k & 255).toString(16).padStart(2, '0')}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

const hexId = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/**
 * PER_IP consecutive intervals per address across the week, the last one open; two devices take turns on each
 * address (as re-leases after a lapse do), one with a user. Ids are 32-hex like the detector's.
 */
function fill(index: IntervalIndex, addresses: number, ipAt: (i: number) => string): void {
  const span = WEEK / PER_IP;
  for (let i = 0; i < addresses; i++) {
    const ip = ipAt(i);
    for (let k = 0; k < PER_IP; k++) {
      const from = T0 + k * span + (i % 600) * 1000;
      const last = k === PER_IP - 1;
      const dev = k % 2;
      index.upsert({ ip, mac: mac(i, dev), user: dev === 0 ? `user${(i * 7) % 50_000}@example.com` : null, hostname: `ws-${i}-${dev}.corp.example.com`, source: 'dhcp', validFrom: from, validTo: last ? null : from + span, intervalId: hexId(`${ip}:${k}`), revision: last ? 0 : 1 });
    }
  }
}

console.error(`building an index of ${N} intervals (${N / PER_IP} addresses × ${PER_IP})…`);
const before = heap();
const index = new IntervalIndex({ retentionHours: 24 * 30 });
const buildCpu = cpu(() => fill(index, N / PER_IP, ipOf));
const after = heap();

const rng = new Rng(7);
const probes = Array.from({ length: Math.min(L, 1_000_000) }, () => ({ ip: ipOf(rng.int(0, N / PER_IP - 1)), t: T0 + rng.int(-HOUR, WEEK + HOUR) }));
let hits = 0;
const lookupCpu = cpu(() => {
  for (let n = 0; n < L; n++) {
    const p = probes[n % probes.length]!;
    if (index.lookup(p.ip, p.t)) hits++;
  }
});
let pruned = 0;
// 30 days of retention, 32 days after T0: the intervals that ended in the first two days go.
const pruneCpu = cpu(() => (pruned = index.prune(T0 + 32 * 24 * HOUR)));

console.log(`\nIP attribution index — ${fmt(index.size + pruned)} intervals over ${fmt(N / PER_IP)} addresses, Node ${process.version}${typeof global.gc === 'function' ? '' : ' (run with --expose-gc for exact heap figures)'}`);
console.log(`  build            ${(buildCpu).toFixed(2)} CPU s incl. hashing the ids (${fmt((index.size + pruned) / buildCpu)} upserts/s)`);
console.log(`  heap             ${mb(after - before)} MB (${((after - before) / (index.size + pruned)).toFixed(0)} B per interval incl. address strings)`);
console.log(`  lookups          ${fmt(L / lookupCpu)} /s per core (${fmt(L)} random (ip, t), ${((hits / L) * 100).toFixed(1)} % held)`);
console.log(`  prune            ${pruneCpu.toFixed(2)} CPU s for ${fmt(index.size + pruned)} intervals (${fmt(pruned)} dropped)`);

// (2) The enricher on DeviceNetworkEvents with LocalIP attributed.
const enc = new TextEncoder();
console.error(`generating ${R} DeviceNetworkEvents records…`);
const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: R } });
const lines = gen.records.map((r) => enc.encode(JSON.stringify(r)));
const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
const categorized = packLines(lines).bodies.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily)).map((o, i) => msg(o.data, i + 1, o.headers!));
const def = defenderTables.DeviceNetworkEvents!;
const ctx = parserContext(def, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
const parsed = categorized.flatMap((m) => parseBatch(m, ctx)).map((o, i) => msg(o.data, i + 1, o.headers!));
// Every LocalIP of the records gets a holder over the records' time span; the index keeps its N intervals besides.
const local = new Set<string>();
let tMin = Infinity;
let tMax = -Infinity;
for (const r of gen.records as { properties?: { LocalIP?: string; Timestamp?: string } }[]) {
  if (r.properties?.LocalIP) local.add(r.properties.LocalIP);
  const t = Date.parse(r.properties?.Timestamp ?? '');
  if (Number.isFinite(t)) [tMin, tMax] = [Math.min(tMin, t), Math.max(tMax, t)];
}
let k = 0;
for (const ip of local) index.upsert({ ip, mac: mac(k, 9), user: `user${k}`, hostname: null, source: 'radius', validFrom: tMin - HOUR, validTo: null, intervalId: `local:${k++}`, revision: 0 });

const geo = await GeoLookup.open();
const domains = new DomainLookup();
const tables = enrichmentByTable(allTables());
const eventTimes = eventTimeByTable(allTables());
const run = (attr: boolean) => {
  const counts = emptyCounts();
  const seconds = cpu(() => {
    for (const m of parsed) enrichBatch(m, { geo, domains, tables, attribution: attr ? { index, eventTimes, counts } : undefined });
  });
  return { seconds, counts };
};
run(true); // warm the GeoIP and domain caches once
const off = run(false);
const on = run(true);
console.log(`\nenricher on ${fmt(R)} DeviceNetworkEvents (GeoIP + domains + LocalIP attribution; ${fmt(local.size)} distinct LocalIPs held, index ${fmt(index.size)} intervals)`);
console.log(`  attribution off  ${fmt(R / off.seconds)} events/s per core`);
console.log(`  attribution on   ${fmt(R / on.seconds)} events/s per core (hit ${fmt(on.counts.hit)}, miss ${fmt(on.counts.miss)}, not_local ${fmt(on.counts.not_local)})`);
await geo.close();
