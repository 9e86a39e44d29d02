// Per-stage benchmark: runs each stage's transformation in-process on generated Defender records and prints
// events/s per core (events / CPU seconds of this process) next to wall-clock rates. Not a test: numbers only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { decodeIpc } from '@sluice/columnar';
import { DeltaTable } from '@sluice/delta';
import { GeoLookup } from '@sluice/geoip';
import { H, packLines, type InputMessage } from '@sluice/runtime';
import { allTables, defenderTables } from '@sluice/tables';
import { defenderFamily } from '@sluice/sources';
import { DomainLookup } from '@sluice/domains';
import { enrichBatch, enrichmentByTable } from '../../services/enricher/handler.ts';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { deltaColumns } from '../../services/sink/main.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '100000' }, profile: { type: 'string' }, 'profile-out': { type: 'string', default: 'stage.cpuprofile' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(
    [
      'Usage: npm run bench -- [--records N] [--profile STAGE [--profile-out FILE]]',
      'Prints events/s per core for splitter, parser, enricher and sink on generated DeviceNetworkEvents.',
      '  --records N        records to generate (default 100000)',
      '  --profile STAGE    V8 CPU profile of one stage (splitter, parser, enricher, sink) written to --profile-out',
      '                     (default stage.cpuprofile); summarise with test/bench/compare/profileTop.ts',
    ].join('\n'),
  );
  process.exit(0);
}
const N = Number(values.records);
const enc = new TextEncoder();

interface Result {
  stage: string;
  events: number;
  cpuSeconds: number;
  wallSeconds: number;
  bytes: number;
}

async function measure(stage: string, events: number, bytes: number, fn: () => Promise<void> | void): Promise<Result> {
  if (typeof global.gc === 'function') global.gc();
  const session = values.profile && stage.startsWith(values.profile) ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values['profile-out']!, JSON.stringify(profile));
    session.disconnect();
    console.error(`profile of ${stage} written to ${values['profile-out']}`);
  }
  return { stage, events, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall, bytes };
}

console.error(`generating ${N} DeviceNetworkEvents records…`);
const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: N } });
const lines = gen.records.map((r) => enc.encode(JSON.stringify(r)));
const rawBytes = lines.reduce((n, l) => n + l.length + 1, 0);
const envelopes = packLines(lines).bodies;
const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
console.error(`${N} records, ${(rawBytes / 1e6).toFixed(1)} MB, ${envelopes.length} envelopes of ≤512 KiB, avg ${(rawBytes / N).toFixed(0)} bytes/record`);

const results: Result[] = [];
const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };

let categorized: InputMessage[] = [];
results.push(
  await measure('splitter', N, rawBytes, () => {
    categorized = envelopes.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily)).map((o, i) => msg(o.data, i + 1, o.headers!));
  }),
);

const def = defenderTables.DeviceNetworkEvents!;
const ctx = parserContext(def, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
let parsed: InputMessage[] = [];
results.push(
  await measure('parser', N, rawBytes, () => {
    parsed = categorized.flatMap((m) => parseBatch(m, ctx)).map((o, i) => msg(o.data, i + 1, o.headers!));
  }),
);

const geo = await GeoLookup.open();
const enrichTables = enrichmentByTable(allTables());
const domains = new DomainLookup();
let events: InputMessage[] = [];
results.push(
  await measure('enricher', N, parsed.reduce((n, m) => n + m.data.length, 0), () => {
    events = parsed.flatMap((m) => enrichBatch(m, { geo, domains, tables: enrichTables })).map((o, i) => msg(o.data, i + 1, o.headers!));
  }),
);

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
try {
  const table = await DeltaTable.openOrCreate(join(dir, def.name), { name: def.name, columns: deltaColumns(def), partitionBy: def.partitionBy });
  results.push(
    await measure('sink (decode + Parquet zstd + commit)', N, events.reduce((n, m) => n + m.data.length, 0), async () => {
      // Flushes of ~50k rows, as the sink's default policy would produce at this rate.
      let batches: RecordBatch[] = [];
      let rows = 0;
      let seq = 0;
      let schema: Schema | undefined;
      for (const m of events) {
        const t = decodeIpc(m.data);
        schema ??= t.schema;
        batches.push(...t.batches);
        rows += t.numRows;
        if (rows >= 50_000) {
          await table.append(new Table(schema, batches), { txn: { appId: 'bench', version: ++seq } });
          batches = [];
          rows = 0;
        }
      }
      if (rows > 0) await table.append(new Table(schema!, batches), { txn: { appId: 'bench', version: ++seq } });
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`\nsluice stage benchmark — ${N} Defender DeviceNetworkEvents records (~${(rawBytes / N).toFixed(0)} B each), Node ${process.version}, 1 process\n`);
console.log('stage                                   events/s per core   events/s wall   CPU s    MB/s per core');
for (const r of results) {
  console.log(
    `${r.stage.padEnd(40)}${fmt(r.events / r.cpuSeconds).padStart(17)}${fmt(r.events / r.wallSeconds).padStart(16)}${r.cpuSeconds.toFixed(2).padStart(8)}${(r.bytes / 1e6 / r.cpuSeconds).toFixed(1).padStart(16)}`,
  );
}
console.log('\nevents/s per core = events / (user + system CPU seconds of this process); the process may use >1 core (GC, wasm).');
