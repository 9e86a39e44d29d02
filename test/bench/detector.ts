// Benchmark of the detector's CPU per event: every default-enabled rule on enriched Defender DeviceNetworkEvents
// (the Arrow IPC envelopes the enricher publishes), each message decoded from its IPC bytes and applied to every rule
// that reads the table, as services/detector/ruleHost.ts does, plus the snapshot encode of every partition at the
// end. Prints events/s per core (rows / CPU seconds of this process). Not a test: numbers only.
//   --decode per-rule : each rule decodes the message itself (one durable per rule and input, the host before sharing)
//   --decode shared   : one decode per message shared by the rules (services/detector/sharedDecode.ts)
// The enriched messages are generated once (generator → splitter → parser → enricher) and cached in --cache, so runs
// of different code compare on the same bytes.
// Run: npx tsx --expose-gc test/bench/detector.ts [--events 100000] [--indicators 10000] [--decode shared] [--profile OUT]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { decodeIpc } from '@sluice/columnar';
import { loadConfig, H, packLines, type InputMessage } from '@sluice/runtime';
import { arrowBatch, DetectorRuntime, objectBatch, ownedPartitions, type EventBatch, type IocRule, type KeyState } from '@sluice/detect';
import { detectorSchema, type DetectorConfig } from '../../services/detector/config.ts';
import { enabledRules } from '../../services/detector/main.ts';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    indicators: { type: 'string', default: '10000' },
    decode: { type: 'string', default: 'shared' },
    cache: { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npx tsx --expose-gc test/bench/detector.ts [--events 100000] [--indicators 10000] [--decode shared|per-rule] [--cache FILE] [--profile OUT.cpuprofile]');
  process.exit(0);
}
const N = Number(values.events);
const K = Number(values.indicators);
const TABLE = 'defender_device_network_events';
const cacheFile = values.cache ?? `/tmp/sluice-bench-detector-${N}.bin`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Enriched IPC envelopes of N DeviceNetworkEvents records (cached: length-prefixed bodies). */
async function enrichedMessages(): Promise<Uint8Array[]> {
  if (existsSync(cacheFile)) {
    const buf = readFileSync(cacheFile);
    const out: Uint8Array[] = [];
    for (let o = 0; o < buf.length; ) {
      const n = buf.readUInt32LE(o);
      out.push(new Uint8Array(buf.buffer, buf.byteOffset + o + 4, n));
      o += 4 + n;
    }
    return out;
  }
  console.error(`generating ${N} enriched DeviceNetworkEvents into ${cacheFile}…`);
  const { generateDefenderRecords } = await import('../fixtures/defenderGenerator.ts');
  const { defenderFamily } = await import('@sluice/sources');
  const { defenderTables, allTables } = await import('@sluice/tables');
  const { GeoLookup } = await import('@sluice/geoip');
  const { DomainLookup } = await import('@sluice/domains');
  const { splitBatch } = await import('../../services/splitter/handler.ts');
  const { parseBatch, parserContext } = await import('../../services/parser/handler.ts');
  const { enrichBatch, enrichmentByTable } = await import('../../services/enricher/handler.ts');
  const enc = new TextEncoder();
  const gen = generateDefenderRecords({ seed: 1, counts: { DeviceNetworkEvents: N } });
  const envelopes = packLines(gen.records.map((r) => enc.encode(JSON.stringify(r)))).bodies;
  const msg = (data: Uint8Array, seq: number, headers: Record<string, string>): InputMessage => ({ subject: 'x', data, headers, stream: 'B', seq, deliveryCount: 1 });
  const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'bench', [H.ingestTime]: new Date().toISOString() };
  const split = envelopes.flatMap((e, i) => splitBatch(msg(e.body, i + 1, headers), defenderFamily)).map((o, i) => msg(o.data, i + 1, o.headers!));
  const ctx = parserContext(defenderTables.DeviceNetworkEvents!, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
  const parsed = split.flatMap((m) => parseBatch(m, ctx)).map((o, i) => msg(o.data, i + 1, o.headers!));
  const geo = await GeoLookup.open();
  const enriched = parsed.flatMap((m) => enrichBatch(m, { geo, domains: new DomainLookup(), tables: enrichmentByTable(allTables()) })).map((o) => o.data);
  const parts: Buffer[] = [];
  for (const d of enriched) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(d.length);
    parts.push(len, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  writeFileSync(cacheFile, Buffer.concat(parts));
  return enriched;
}

const messages = await enrichedMessages();
const rows = messages.reduce((n, m) => n + decodeIpc(m).numRows, 0);
const bytes = messages.reduce((n, m) => n + m.length, 0);

const d = loadConfig<DetectorConfig>({ section: 'detector', sectionSchema: detectorSchema, env: {}, overrides: {} }).detector;
const DAY = 86_400_000;
const rules = enabledRules(d).map(({ rule, ttlDays, maxKeys }) => ({
  rule,
  rt: new DetectorRuntime<KeyState>(rule, d.partitions, ownedPartitions(d.partitions, 0, 1), { ttlMs: ttlDays * DAY, maxKeysPerPartition: Math.ceil(maxKeys / d.partitions) }),
}));
const reading = rules.filter((r) => r.rule.inputs.includes(TABLE));

// Indicators: K random ones (IPv4, domains, hashes) plus a few of the events' remote IPs, so some rows hit (the
// generator's URL hosts are a handful of popular names: a domain indicator among them would hit most rows).
const ioc = rules.find((r) => r.rule.broadcast);
if (ioc) {
  const rng = new Rng(7);
  const first = arrowBatch(TABLE, decodeIpc(messages[0]!));
  const ips = (first.column('RemoteIP') ?? []).filter((v): v is string => typeof v === 'string' && v !== '');
  const ind: Record<string, unknown>[] = [];
  const now = Date.now();
  for (let i = 0; i < K; i++) {
    const kind = i % 3;
    const v = kind === 0 ? `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}` : kind === 1 ? `${rng.hex(10)}.com` : rng.hex(64);
    ind.push({ indicator: v, type: kind === 0 ? 'IPv4' : kind === 1 ? 'domain' : 'FileHash-SHA256', dataset: 'otx', first_seen: now - 3650 * DAY, last_seen: null, confidence: 60, threat: null, event_name: null, _ingest_time: now });
  }
  for (let i = 0; i < Math.max(1, Math.round(N / 20000)) && i < ips.length; i++) {
    ind.push({ indicator: ips[(i * 7) % ips.length], type: 'IPv4', dataset: 'otx', first_seen: now - 3650 * DAY, last_seen: null, confidence: 80, threat: null, event_name: null, _ingest_time: now });
  }
  ioc.rt.apply('iocs', 1, objectBatch('iocs', ind));
  console.error(`indicators: ${(ioc.rule as unknown as IocRule).index.size}`);
}

async function measure<T>(what: string, fn: () => T): Promise<{ cpu: number; wall: number; out: T }> {
  gc();
  const session = values.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values.profile!.replace(/(\.cpuprofile)?$/, `-${what}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  return { cpu: (c.user + c.system) / 1e6, wall, out };
}

// The detector's reader (ipcBatch: only the columns asked for) when this checkout has it, else the full decode.
const lazy = (await import('../../libs/detect/ipcBatch.ts').catch(() => null)) as { ipcBatch: (input: string, bytes: Uint8Array) => EventBatch; ipcFallbacks: { count: number } } | null;
const decode = (m: Uint8Array): EventBatch => (lazy ? lazy.ipcBatch(TABLE, m) : arrowBatch(TABLE, decodeIpc(m)));
const shared = values.decode === 'shared';
const apply = await measure('apply', () => {
  const alerts: Record<string, number> = {};
  let seq = 1;
  for (const m of messages) {
    seq++;
    let batch: EventBatch | undefined;
    for (const { rule, rt } of reading) {
      const b = shared ? (batch ??= decode(m)) : decode(m);
      alerts[rule.name] = (alerts[rule.name] ?? 0) + rt.apply(TABLE, seq, b).alerts.length;
    }
  }
  return alerts;
});
const snap = await measure('snapshot', () => {
  let b = 0;
  for (const { rt } of rules) for (const p of rt.parts.keys()) b += rt.encodeSnapshot(p).bytes.length;
  return b;
});

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' / ');
console.log(`detector bench — ${fmt(rows)} DeviceNetworkEvents in ${messages.length} IPC messages (${(bytes / 1e6).toFixed(1)} MB), decode ${shared ? 'shared' : 'per rule'}, ${lazy ? `ipcBatch (${lazy.ipcFallbacks.count} full decodes)` : 'decodeIpc + arrowBatch'}, Node ${process.version}`);
console.log(`rules reading ${TABLE}: ${reading.map((r) => r.rule.name).join(', ')}; ${(rules.find((r) => r.rule.broadcast)?.rule as unknown as IocRule | undefined)?.index.size ?? 0} indicators`);
console.log(`apply:    ${apply.cpu.toFixed(2)} s CPU / ${apply.wall.toFixed(2)} s wall → ${fmt(rows / apply.cpu)} events/s per core; alerts ${JSON.stringify(apply.out)}`);
console.log(`snapshot: ${snap.cpu.toFixed(3)} s CPU for every partition of ${rules.length} rules (${fmt(snap.out)} bytes, ${rules.reduce((n, r) => n + r.rt.keyCount(), 0)} keys)`);
console.log(`load average after: ${load}`);
if (reading.length === 0) throw new Error(`no enabled rule reads ${TABLE}`);
