// The sluice in-process engine of the comparison: the real parser and sink stage functions on the NDJSON files,
// no NATS in between. Files are cut into ≤512 KiB NDJSON envelopes (as the collector publishes them), each goes
// through parseBatch (Defender family, DeviceNetworkEvents) into Arrow IPC envelopes, which the sink's handler
// (tableHandler + TableWriter, default flush policy) decodes, buffers and commits to the partitioned zstd table.
// Run as its own process by main.ts so CPU and peak RSS are this engine's alone:
//   npx tsx test/bench/compare/sluiceStages.ts --table DIR [--profile OUT.cpuprofile] FILE...   → one JSON line on stdout
// --profile records a V8 CPU profile of the job alone (what node --cpu-prof records, without module loading);
// summarise it with profileTop.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, H, InFlightBytes, isMain, packLines, splitLines, type InputMessage } from '@sluice/runtime';
import { defenderFamily } from '@sluice/sources';
import { parseBatch, parserContext } from '../../../services/parser/handler.ts';
import { silverTable } from '../../../services/sink/batchToTable.ts';
import { tableHandler, type HandlerState } from '../../../services/sink/handler.ts';
import { deltaColumns } from '../../../services/sink/main.ts';
import { TableWriter } from '../../../services/sink/tableWriter.ts';
import { TABLE } from './input.ts';

export interface StagesResult {
  engine: 'sluice parser+sink';
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU seconds inside parseBatch (the rest: file reads, framing, IPC decode, Parquet encode, commits). */
  parseCpuSeconds: number;
  peakRssBytes: number;
  commits: number;
}

/** The sink's defaults (services/sink/main.ts flush section): its flush policy and the bytes it holds until commit. */
const FLUSH = { maxRows: 200_000, maxBytes: 32 * 1024 * 1024, maxLatencySeconds: 10, maxFileBytes: 8 * 1024 * 1024 };
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

export async function runSluiceStages(files: string[], tableRoot: string): Promise<StagesResult> {
  const t0 = performance.now();
  const cpu0 = cpuNow();
  const def = TABLE;
  const ctx = parserContext(def, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
  const state: HandlerState = { fatal: undefined };
  let commits = 0;
  const w = await TableWriter.open({
    name: def.name,
    root: tableRoot,
    columns: deltaColumns(def),
    partitionBy: def.partitionBy,
    description: def.doc,
    appId: 'sluice-bench-compare',
    policy: FLUSH,
    log: createLogger('bench', 'silent'),
    stats: { onCommit: () => commits++ },
    onFatal: (e) => (state.fatal = e),
  });
  const handle = tableHandler(w, silverTable, state, { checkSchema: true });
  const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'bench', data, headers, stream: 'bench', seq, deliveryCount: 1 });
  let events = 0;
  let parseCpu = 0;
  let rawSeq = 0;
  let eventSeq = 0;
  const inFlight: Promise<unknown>[] = [];
  // As the sink service: messages held until their commit are capped in bytes (flush.maxInFlightBytes); when the
  // next one does not fit, the writer flushes what it buffered (InFlightBytes' onFull) and the feed waits.
  const held = new InFlightBytes(MAX_IN_FLIGHT_BYTES, () => w.flushNow());
  for (const file of files) {
    const ingestTime = new Date().toISOString();
    for (const { body } of packLines(splitLines(readFileSync(file))).bodies) {
      const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: basename(file), [H.rawSeq]: String(++rawSeq), [H.ingestTime]: ingestTime };
      const p0 = cpuNow();
      const outs = parseBatch(msg(body, rawSeq, headers), ctx);
      parseCpu += cpuNow() - p0;
      for (const o of outs) {
        if (o.headers?.[H.encoding] !== 'arrow-ipc') throw new Error(`parser sent ${o.records ?? '?'} records to ${o.subject}: the generated input should be all valid`);
        events += o.records ?? 0;
        const n = o.data.length;
        await held.acquire(n, () => state.fatal !== undefined);
        inFlight.push(handle(msg(o.data, ++eventSeq, o.headers)).finally(() => held.release(n)));
      }
      // The event loop gets its turn (flush timers), as in the consume loop.
      await new Promise((r) => setImmediate(r));
    }
  }
  await w.close();
  await Promise.all(inFlight);
  if (state.fatal) throw state.fatal;
  return {
    engine: 'sluice parser+sink',
    events,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuNow() - cpu0,
    parseCpuSeconds: parseCpu,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    commits,
  };
}

if (isMain(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { table: { type: 'string' }, profile: { type: 'string' } }, allowPositionals: true });
  if (!values.table || positionals.length === 0) {
    console.error('Usage: npx tsx test/bench/compare/sluiceStages.ts --table DIR [--profile OUT.cpuprofile] FILE...');
    process.exit(2);
  }
  const session = values.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const result = await runSluiceStages(positionals, values.table);
  if (session && values.profile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values.profile, JSON.stringify(profile));
    session.disconnect();
  }
  console.log(JSON.stringify(result));
}
