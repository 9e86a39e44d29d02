// Enricher A/B benchmark: the enricher of this checkout against a copy of another revision's enricher and the libs
// it owns (`--base DIR` holding services/enricher, libs/geoip, libs/domains, libs/attribution with those three
// imported by relative path), on the same generated DeviceNetworkEvents (split and parsed once), in alternating
// rounds, each with fresh caches (a restarted enricher). Prints events/s per core (CPU seconds of this process,
// GC threads included) per round, then best and median per side, and checks that both sides wrote the same bytes.
// Not a test: numbers only. Preparing a base copy of HEAD:
//   for d in services/enricher libs/geoip libs/domains libs/attribution; do mkdir -p /tmp/h2/base/$d;
//     for f in $(git ls-tree --name-only HEAD $d/); do git show HEAD:$f > /tmp/h2/base/$f; done; done
//   ln -sfn $PWD/node_modules /tmp/h2/node_modules
//   sed -i "s#'@sluice/\(geoip\|domains\|attribution\)'#'../../libs/\1/index.ts'#" /tmp/h2/base/services/enricher/*.ts
//   npx tsx --expose-gc test/bench/enricherAB.ts --base /tmp/h2/base [--records N] [--rounds R] [--destinations uniform|zipf:K]
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as newDomains from '@sluice/domains';
import * as newGeo from '@sluice/geoip';
import { H, packLines, type InputMessage, type OutputMessage } from '@sluice/runtime';
import { allTables, defenderTables } from '@sluice/tables';
import { defenderFamily } from '@sluice/sources';
import * as newHandler from '../../services/enricher/handler.ts';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';
import { applyDestinations } from '../fixtures/destinations.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '/tmp/h2/base' },
    records: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '4' },
    destinations: { type: 'string', default: 'uniform' },
    /** Keep every round's outputs until the round ends (as `npm run bench` keeps them for its sink stage). */
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npx tsx --expose-gc test/bench/enricherAB.ts --base DIR [--records N] [--rounds R per side] [--destinations uniform|zipf:K] [--keep]');
  process.exit(0);
}

interface Side {
  name: string;
  enrichBatch: (msg: InputMessage, opts: never) => OutputMessage[];
  open: () => Promise<{ geo: { close(): void }; domains: unknown }>;
}

const base = resolve(values.base!);
const imp = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(base, p)).href)) as T;
const baseHandler = await imp<typeof newHandler>('services/enricher/handler.ts');
const baseGeo = await imp<typeof newGeo>('libs/geoip/index.ts');
const baseDomains = await imp<typeof newDomains>('libs/domains/index.ts');
const sides: Side[] = [
  { name: 'base', enrichBatch: baseHandler.enrichBatch as Side['enrichBatch'], open: async () => ({ geo: await baseGeo.GeoLookup.open(), domains: new baseDomains.DomainLookup() }) },
  { name: 'new', enrichBatch: newHandler.enrichBatch as Side['enrichBatch'], open: async () => ({ geo: await newGeo.GeoLookup.open(), domains: new newDomains.DomainLookup() }) },
];

const N = Number(values.records);
const enc = new TextEncoder();
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
const tables = newHandler.enrichmentByTable(allTables());
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`${N} records, destinations ${values.destinations}, ${parsed.length} envelopes, base ${base}, Node ${process.version}, load ${load()}`);

const rates = new Map<string, number[]>(sides.map((s) => [s.name, []]));
const digests = new Map<string, string>();
for (let round = 0; round < 2 * Number(values.rounds); round++) {
  const side = sides[round % 2]!;
  const { geo, domains } = await side.open();
  global.gc?.();
  const hash = createHash('sha256');
  let rows = 0;
  let micros = 0;
  const kept: OutputMessage[][] = [];
  for (const m of parsed) {
    // CPU time around the enricher only; the outputs are hashed (and dropped, as a publish would) outside it.
    const cpu0 = process.cpuUsage();
    const outputs = side.enrichBatch(m, { geo, domains, tables } as never);
    const cpu = process.cpuUsage(cpu0);
    micros += cpu.user + cpu.system;
    if (values.keep) kept.push(outputs);
    for (const o of outputs) {
      rows += o.records ?? 0;
      hash.update(o.subject).update(JSON.stringify(o.headers)).update(o.data);
    }
  }
  const digest = hash.digest('hex');
  kept.length = 0;
  const prev = digests.get(side.name);
  if (prev && prev !== digest) console.log(`  ${side.name}: output differs between rounds`);
  digests.set(side.name, digest);
  const s = micros / 1e6;
  rates.get(side.name)!.push(rows / s);
  console.log(`round ${round + 1} ${side.name}: ${rows} rows, ${s.toFixed(3)} CPU s, ${Math.round(rows / s).toLocaleString('en-US')} events/s per core, load ${load()}`);
  geo.close();
}
for (const [name, r] of rates) {
  r.sort((a, b) => a - b);
  console.log(`${name}: best ${Math.round(r[r.length - 1]!).toLocaleString('en-US')}, median ${Math.round(r[(r.length - 1) >> 1]!).toLocaleString('en-US')} events/s per core`);
}
const [a, b] = [...digests.values()];
console.log(a === b ? 'outputs: identical bytes' : 'outputs: DIFFER');
