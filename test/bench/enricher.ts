// Enricher benchmark: generated DeviceNetworkEvents are split and parsed once, then enriched (GeoIP, scope,
// registered domain) in rounds, each round with fresh caches (a new GeoLookup and DomainLookup, as a restarted
// enricher); prints events/s per core (CPU seconds of this process) per round and the process's memory.
// --destinations uniform keeps the generator's RemoteIP (every public address drawn at random: the cache-hostile
// worst case, what `npm run bench` measures); zipf:K rewrites each public RemoteIP to one of K destinations drawn
// with a Zipf(1) law, closer to enterprise egress. Not a test: numbers only.
//   npx tsx --expose-gc test/bench/enricher.ts [--records N] [--rounds R] [--destinations uniform|zipf:K]
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { H, packLines, type InputMessage } from '@sluice/runtime';
import { allTables, defenderTables } from '@sluice/tables';
import { defenderFamily } from '@sluice/sources';
import { enrichBatch, enrichmentByTable } from '../../services/enricher/handler.ts';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';
import { applyDestinations } from '../fixtures/destinations.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    destinations: { type: 'string', default: 'uniform' },
    profile: { type: 'string' },
  },
});
const N = Number(values.records);
const enc = new TextEncoder();
const mib = (n: number) => (n / 1048576).toFixed(0);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: N } });
applyDestinations(gen.records, values.destinations!);

const lines = gen.records.map((r) => enc.encode(JSON.stringify(r)));
const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
const categorized = packLines(lines)
  .bodies.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily))
  .map((o, i) => msg(o.data, i + 1, o.headers!));
const ctx = parserContext(defenderTables.DeviceNetworkEvents!, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
const parsed = categorized.flatMap((m) => parseBatch(m, ctx)).map((o, i) => msg(o.data, i + 1, o.headers!));
const tables = enrichmentByTable(allTables());
console.log(`${N} records, destinations ${values.destinations}, ${parsed.length} parsed envelopes, Node ${process.version}, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);

const rates: number[] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  const geo = await GeoLookup.open();
  const domains = new DomainLookup();
  global.gc?.();
  const session = values.profile && round === Number(values.rounds) ? new Session() : undefined; // the last, warmed-up round
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  let rows = 0;
  for (const m of parsed) for (const o of enrichBatch(m, { geo, domains, tables })) rows += o.records ?? 0;
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values.profile!, JSON.stringify(profile));
    session.disconnect();
  }
  const s = (cpu.user + cpu.system) / 1e6;
  rates.push(rows / s);
  const m = process.memoryUsage();
  console.log(`round ${round}: ${rows} rows, ${s.toFixed(2)} CPU s, ${Math.round(rows / s).toLocaleString('en-US')} events/s per core; rss ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB, external ${mib(m.external)} MiB, VmHWM ${hwm().toFixed(0)} MiB`);
  geo.close();
}
rates.sort((a, b) => a - b);
console.log(`best ${Math.round(rates[rates.length - 1]!).toLocaleString('en-US')}, median ${Math.round(rates[rates.length >> 1]!).toLocaleString('en-US')} events/s per core`);
