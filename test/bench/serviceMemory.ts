// Peak memory of one service process on generated input: a real nats-server, the service started as the pipeline
// starts it (node --import tsx services/<name>/main.ts --config …), fed until everything came out; then VmHWM (peak
// RSS) and VmRSS from /proc/<pid>/status and the CPU seconds from /proc/<pid>/stat. Not a test: numbers only.
//   npx tsx test/bench/serviceMemory.ts --service enricher [--records N] [--destinations uniform|zipf:K]
//   npx tsx test/bench/serviceMemory.ts --service collector [--records N] [--files F]
//   npx tsx test/bench/serviceMemory.ts --service sink [--records N]
// Any service: --node-flag F (repeatable, e.g. --single-threaded-gc), --env K=V (repeatable, e.g.
// MALLOC_ARENA_MAX=2), --set key=value (repeatable, passed to the service, e.g. sink.flush.maxBufferedBytes=…).
// enricher: N DeviceNetworkEvents records are split and parsed in this process and published on parsed.<table>;
// done when the EVENTS stream holds as many messages. collector: N records in F NDJSON files (as bench:compare lays
// them out) are put into the Defender inbox; done when the RAW stream holds N records. sink: the records are split,
// parsed and enriched in this process and published on events.<table>.<partition>; done when the silver table's
// Delta log counts N rows.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { H, packLines, subjects, toNatsHeaders, type InputMessage } from '@sluice/runtime';
import { DeltaTable } from '@sluice/delta';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { allTables, defenderTables } from '@sluice/tables';
import { defenderFamily } from '@sluice/sources';
import { REPO_ROOT, writePipelineConfig } from '../../cli/pipeline.ts';
import { freePort, startNatsServer } from '../support/natsServer.ts';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { splitBatch } from '../../services/splitter/handler.ts';
import { enrichBatch, enrichmentByTable } from '../../services/enricher/handler.ts';
import { generateDefenderRecords } from '../fixtures/defenderGenerator.ts';
import { applyDestinations } from '../fixtures/destinations.ts';

const { values } = parseArgs({
  options: {
    service: { type: 'string', default: 'enricher' },
    records: { type: 'string', default: '100000' },
    files: { type: 'string', default: '2' },
    destinations: { type: 'string', default: 'uniform' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const N = Number(values.records);
const service = values.service!;
if (service !== 'enricher' && service !== 'collector' && service !== 'sink') throw new Error('--service enricher|collector|sink');
const extraEnv = Object.fromEntries(values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/** Generated records as NDJSON lines; zipf:K maps each public RemoteIP to one of K destinations (Zipf(1)). */
function records(): Uint8Array[] {
  const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: N } });
  applyDestinations(gen.records, values.destinations!);
  const enc = new TextEncoder();
  return gen.records.map((r) => enc.encode(JSON.stringify(r)));
}

function procStatus(pid: number): { hwm: number; rss: number; cpu: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { hwm: kb('VmHWM'), rss: kb('VmRSS'), cpu: (Number(f[11]) + Number(f[12])) / 100 };
}

const work = mkdtempSync(join(tmpdir(), 'sluice-memory-'));
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const { file, inbox, lakePath } = await writePipelineConfig({ workDir: work, natsUrl: server.url, logLevel: 'warn', sources: [{ source: 'defender', family: 'defender' }] });
const port = await freePort();
const child = spawn(process.execPath, [...values['node-flag']!, '--import', 'tsx', `services/${service}/main.ts`, '--config', file, ...values.set!.flatMap((kv) => ['--set', kv])], {
  cwd: REPO_ROOT,
  env: { ...process.env, ...extraEnv, SLUICE__HTTP__PORT: String(port) },
  stdio: ['ignore', 'inherit', 'inherit'],
});
try {
  const deadline = Date.now() + 600_000;
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${service} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const ready = procStatus(child.pid!);
  const heapOf = async () => {
    // The service's own view (prom-client default metrics).
    const prom = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(prom)?.[1] ?? NaN) / 1048576;
    return `heap used ${metric('sluice_process_nodejs_heap_size_used_bytes').toFixed(0)} MiB of ${metric('sluice_process_nodejs_heap_size_total_bytes').toFixed(0)}, external ${metric('sluice_process_nodejs_external_memory_bytes').toFixed(0)} MiB`;
  };
  const readyHeap = await heapOf();
  const lines = records();
  const t0 = Date.now();
  let until: () => Promise<boolean>;
  if (service === 'sink') {
    const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
    const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
    const ctx = parserContext(defenderTables.DeviceNetworkEvents!, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
    const enrich = { geo: await GeoLookup.open(), domains: new DomainLookup(), tables: enrichmentByTable(allTables()) };
    const events = packLines(lines)
      .bodies.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily))
      .flatMap((m, i) => parseBatch(msg(m.data, i + 1, m.headers!), ctx))
      .flatMap((m, i) => enrichBatch(msg(m.data, i + 1, m.headers!), enrich));
    let k = 0;
    for (const o of events) await js.publish(o.subject!, o.data, { headers: toNatsHeaders(o.headers!), msgID: `mem-${++k}` });
    const tablePath = join(lakePath, 'silver', defenderTables.DeviceNetworkEvents!.name);
    until = async () => {
      if (!existsSync(join(tablePath, '_delta_log'))) return false;
      const snap = await (await DeltaTable.open(tablePath)).snapshot();
      return snap.files.reduce((n, f) => n + ((f.stats ? (JSON.parse(f.stats) as { numRecords?: number }).numRecords : 0) ?? 0), 0) >= N;
    };
  } else if (service === 'enricher') {
    const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
    const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
    const ctx = parserContext(defenderTables.DeviceNetworkEvents!, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
    const parsed = packLines(lines)
      .bodies.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily))
      .flatMap((m, i) => parseBatch(msg(m.data, i + 1, m.headers!), ctx));
    const before = (await jsm.streams.info('EVENTS')).state.messages;
    let k = 0;
    for (const o of parsed) await js.publish(o.subject ?? subjects.parsed('DeviceNetworkEvents'), o.data, { headers: toNatsHeaders(o.headers!), msgID: `mem-${++k}` });
    until = async () => (await jsm.streams.info('EVENTS')).state.messages >= before + parsed.length;
  } else {
    const files = Number(values.files);
    const per = Math.ceil(lines.length / files);
    for (let f = 0; f < files; f++) {
      const part = lines.slice(f * per, (f + 1) * per);
      const body = Buffer.concat(part.flatMap((l) => [l, Buffer.from('\n')]));
      writeFileSync(join(inbox, `.part-${f}.tmp`), body);
      rmSync(join(inbox, `part-${f}.ndjson`), { force: true });
      await import('node:fs/promises').then((fs) => fs.rename(join(inbox, `.part-${f}.tmp`), join(inbox, `part-${String(f).padStart(5, '0')}.ndjson`)));
    }
    const sub = subjects.raw('defender', 0);
    // Every raw envelope carries Sluice-Count: sum them from the stream.
    until = async () => {
      const info = await jsm.streams.info('RAW', { subjects_filter: sub });
      if (info.state.messages === 0) return false;
      let total = 0;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('RAW', { seq }).catch(() => null);
        total += Number(m?.header.get(H.count) ?? 0);
      }
      return total >= N;
    };
  }
  while (!(await until())) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}`);
    if (Date.now() - t0 > 1_200_000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const end = procStatus(child.pid!);
  const heap = await heapOf();
  console.log(
    `${service}${values['node-flag']!.length ? ` [${values['node-flag']!.join(' ')}]` : ''}${values.env!.length ? ` [${values.env!.join(' ')}]` : ''}${values.set!.length ? ` [${values.set!.join(' ')}]` : ''}: ${N} records (${values.destinations}${service === 'collector' ? `, ${values.files} files` : ''}) in ${((Date.now() - t0) / 1000).toFixed(1)} s wall, ` +
      `${(end.cpu - ready.cpu).toFixed(2)} CPU s; RSS when ready ${ready.rss.toFixed(0)} MiB (${readyHeap}; peak ${ready.hwm.toFixed(0)}), ` +
      `after ${end.rss.toFixed(0)} MiB (${heap}), peak (VmHWM) ${end.hwm.toFixed(0)} MiB; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode === null) child.kill('SIGKILL');
  await nc.close();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
