// In-process A/B of the Delta append path: the same generated DeviceNetworkEvents rows (splitter → parser →
// enricher, as in main.ts) appended by two copies of @sluice/delta loaded into one process, alternately for
// --rounds rounds; CPU seconds per round (process.cpuUsage: every thread). Not a test: numbers only.
// Run with node --expose-gc --import tsx to start every round from a collected heap.
// Usage: npx tsx test/bench/sinkAB.ts --base /tmp/base/libs/delta/index.ts [--records 100000] [--rounds 7] [--flush 50000]
//        [--max-rows-per-file N] [--warmup 1] [--only base|after] [--profile-round N --profile-out FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { decodeIpc } from '@sluice/columnar';
import * as after from '@sluice/delta';
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
  options: {
    base: { type: 'string' },
    records: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
    flush: { type: 'string', default: '50000' },
    'max-rows-per-file': { type: 'string' },
    warmup: { type: 'string', default: '1' },
    only: { type: 'string' },
    'profile-round': { type: 'string' },
    'profile-out': { type: 'string', default: 'sinkab.cpuprofile' },
  },
});
if (!values.base) throw new Error('--base PATH (index.ts of the baseline copy of libs/delta) is required');
const base = (await import(values.base)) as typeof after;
const N = Number(values.records);
const rounds = Number(values.rounds);
const flush = Number(values.flush);
const maxRowsPerFile = values['max-rows-per-file'] ? Number(values['max-rows-per-file']) : undefined;

/**
 * The flushes as the sink would append them, decoded once outside the measured part. Built in a function so the
 * generated records and the other stages' outputs are garbage afterwards: the process then holds about what a sink
 * holds (a large live heap makes every major GC, and so the appends' CPU, costlier).
 */
async function buildFlushes(): Promise<Table[]> {
  const enc = new TextEncoder();
  const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: N } });
  const envelopes = packLines(gen.records.map((r) => enc.encode(JSON.stringify(r)))).bodies;
  const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
  const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
  const ctx = parserContext(def, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
  const geo = await GeoLookup.open();
  const tables = enrichmentByTable(allTables());
  const domains = new DomainLookup();
  const events = envelopes
    .flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily))
    .flatMap((o, i) => parseBatch(msg(o.data, i + 1, o.headers!), ctx))
    .flatMap((o, i) => enrichBatch(msg(o.data, i + 1, o.headers!), { geo, domains, tables }));
  const flushes: Table[] = [];
  let batches: RecordBatch[] = [];
  let rows = 0;
  let schema: Schema | undefined;
  for (const o of events) {
    const t = decodeIpc(o.data);
    schema ??= t.schema;
    batches.push(...t.batches);
    rows += t.numRows;
    if (rows >= flush) {
      flushes.push(new Table(schema, batches));
      batches = [];
      rows = 0;
    }
  }
  if (rows > 0) flushes.push(new Table(schema!, batches));
  return flushes;
}

const def = defenderTables.DeviceNetworkEvents!;
const flushes = await buildFlushes();
console.error(`${N} rows in ${flushes.length} appends, ${rounds} rounds; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

async function run(lib: typeof after): Promise<{ cpu: number; sys: number; bytes: number; files: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sinkab-'));
  try {
    const table = await lib.DeltaTable.openOrCreate(join(dir, 't'), { name: def.name, columns: deltaColumns(def), partitionBy: def.partitionBy });
    let bytes = 0;
    let files = 0;
    const cpu0 = process.cpuUsage();
    let seq = 0;
    for (const t of flushes) {
      const r = await table.append(t, { txn: { appId: 'ab', version: ++seq }, ...(maxRowsPerFile ? { maxRowsPerFile } : {}) });
      bytes += r.fileSizes.reduce((a, b) => a + b, 0);
      files += r.files.length;
    }
    const c = process.cpuUsage(cpu0);
    return { cpu: (c.user + c.system) / 1e6, sys: c.system / 1e6, bytes, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const res: Record<'base' | 'after', number[]> = { base: [], after: [] };
// Warm-up rounds (wasm tier-up, JIT, the IPC buffer's growth) unless --warmup 0: then the first round is cold.
for (let w = 0; w < Number(values.warmup); w++) {
  if (values.only !== 'after') await run(base);
  if (values.only !== 'base') await run(after);
}
for (let r = 0; r < rounds; r++) {
  for (const [name, lib] of (r % 2 ? [['after', after], ['base', base]] : [['base', base], ['after', after]]) as ['base' | 'after', typeof after][]) {
    if (values.only && values.only !== name) continue;
    // With --expose-gc: start each round from a collected heap, after the GC threads have settled.
    if (typeof global.gc === 'function') {
      global.gc();
      await new Promise((r) => setTimeout(r, 500));
    }
    const session = values['profile-round'] === String(r + 1) ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    // With --expose-gc: each round starts from a collected heap.
    if (typeof global.gc === 'function') global.gc();
    const x = await run(lib);
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(values['profile-out']!, JSON.stringify(profile));
      session.disconnect();
    }
    res[name].push(x.cpu);
    console.error(`round ${r + 1} ${name.padEnd(5)} ${x.cpu.toFixed(2)} CPU s (sys ${x.sys.toFixed(2)})  ${Math.round(N / x.cpu)} rows/s per core  ${x.files} files ${(x.bytes / 1e6).toFixed(2)} MB`);
  }
}
const fmt = (xs: number[]) => {
  if (xs.length === 0) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return `best ${Math.round(N / s[0]!)} / median ${Math.round(N / s[Math.floor(s.length / 2)]!)} rows/s per core (CPU s ${s.map((x) => x.toFixed(2)).join(' ')})`;
};
console.log(`base:  ${fmt(res.base)}\nafter: ${fmt(res.after)}`);
console.log(`load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
