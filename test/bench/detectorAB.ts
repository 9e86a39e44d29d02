// In-process A/B of the detector's rule work: the libs/detect of a base checkout (default /tmp/h3/base, e.g.
// `git archive HEAD libs/detect | tar -x -C /tmp/h3/base` plus a libs/tables symlink) against this checkout's, on the
// same enriched DeviceNetworkEvents envelopes (test/bench/detector.ts's cache), alternating rounds, CPU seconds per
// round (process.cpuUsage). Both sides run the listening and IoC rules like the host (one shared decode per message)
// with the same indicators — random IPv4, domains, hostnames, URLs and hashes, plus a few of the events' remote IPs,
// URLs and host names so that every lookup kind hits — and their alerts must be identical (ids and fields).
// Run: npx tsx --expose-gc test/bench/detectorAB.ts [--base /tmp/h3/base] [--rounds 7] [--indicators 10000] [--profile OUT]
// (--profile: one more round of this checkout's side under the V8 profiler, written to OUT.cpuprofile)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '/tmp/h3/base' },
    rounds: { type: 'string', default: '7' },
    indicators: { type: 'string', default: '10000' },
    cache: { type: 'string', default: '/tmp/sluice-bench-detector-100000.bin' },
    profile: { type: 'string' },
  },
});
const TABLE = 'defender_device_network_events';
const DAY = 86_400_000;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

type Lib = typeof import('../../libs/detect/index.ts');
type IpcMod = typeof import('../../libs/detect/ipcBatch.ts');
const load = async (root: string): Promise<{ lib: Lib; ipc: IpcMod }> => ({
  lib: (await import(`${root}/libs/detect/index.ts`)) as Lib,
  ipc: (await import(`${root}/libs/detect/ipcBatch.ts`)) as IpcMod,
});
const sides = { base: await load(values.base), new: await load(new URL('../..', import.meta.url).pathname.replace(/\/$/, '')) };

const buf = readFileSync(values.cache);
const messages: Uint8Array[] = [];
// At offset +4 in the file: unaligned like a NATS payload.
for (let o = 0; o < buf.length; ) {
  const n = buf.readUInt32LE(o);
  messages.push(buf.subarray(o + 4, o + 4 + n));
  o += 4 + n;
}

const { DomainLookup } = await import('@sluice/domains');
const domains = new DomainLookup();
const registeredDomainOf = (name: string) => domains.lookup(name)?.registeredDomain ?? null;

// Indicators, identical for both sides.
const now = Date.now();
const first = sides.new.ipc.ipcBatch(TABLE, messages[0]!);
const strings = (c: string) => (first.column(c) ?? []).filter((v): v is string => typeof v === 'string' && v !== '');
const ips = strings('RemoteIP');
const urls = strings('RemoteUrl');
const rng = new Rng(7);
const K = Number(values.indicators);
const ind: Record<string, unknown>[] = [];
const row = (indicator: string, type: string, confidence = 60) => ({ indicator, type, dataset: 'otx', first_seen: now - 3650 * DAY, last_seen: null, confidence, threat: null, event_name: null, _ingest_time: now });
for (let i = 0; i < K; i++) {
  const kind = i % 6;
  if (kind === 0) ind.push(row(`${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, 'IPv4'));
  else if (kind === 1) ind.push(row(`${rng.hex(10)}.com`, 'domain'));
  else if (kind === 2) ind.push(row(`www.${rng.hex(8)}.net`, 'hostname'));
  else if (kind === 3) ind.push(row(`http://${rng.hex(8)}.org/${rng.hex(6)}`, 'URL'));
  else if (kind === 4) ind.push(row(`2001:db8::${rng.hex(4)}`, 'IPv6'));
  else ind.push(row(rng.hex(64), 'FileHash-SHA256'));
}
for (let i = 0; i < 5 && i < ips.length; i++) ind.push(row(ips[(i * 7) % ips.length]!, 'IPv4', 80));
// A URL and a host name of the data (the generator's URL hosts are few: these hit often, which checks the hit path).
if (urls.length) {
  ind.push(row(`HTTPS://${urls[3]!.toUpperCase()}`, 'URL', 90));
  ind.push(row(urls[11]!.split('/')[0]!.toUpperCase() + '.', 'hostname', 30));
}

function setup(side: { lib: Lib; ipc: IpcMod }) {
  const { lib } = side;
  const listening = lib.listeningRule({ ports: lib.DEFAULT_LISTENING_PORTS, knownServers: [], sources: lib.DEFAULT_LISTENING_SOURCES });
  const ioc = lib.iocRule({ mapping: lib.DEFAULT_IOC_MAPPING, ...lib.DEFAULT_IOC_RULE_CONFIG, registeredDomainOf });
  const mk = <S extends { t: number }>(rule: import('../../libs/detect/rule.ts').DetectionRule<S>) =>
    new lib.DetectorRuntime<S>(rule, 16, lib.ownedPartitions(16, 0, 1), { ttlMs: 30 * DAY, maxKeysPerPartition: 100_000 });
  const rts = [mk(listening), mk(ioc)];
  rts[1]!.apply('iocs', 1, lib.objectBatch('iocs', ind));
  return rts;
}

const fixedNow = new Date('2026-11-23T10:00:00Z');
function run(side: { lib: Lib; ipc: IpcMod }): { cpu: number; alerts: string[] } {
  const rts = setup(side);
  gc();
  const c0 = process.cpuUsage();
  const alerts: string[] = [];
  let seq = 1;
  for (const m of messages) {
    seq++;
    const batch = side.ipc.ipcBatch(TABLE, m);
    for (const rt of rts) for (const a of rt.apply(TABLE, seq, batch, fixedNow).alerts) alerts.push(JSON.stringify(a));
  }
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, alerts };
}

const rows = 100_000;
const res: Record<'base' | 'new', number[]> = { base: [], new: [] };
let ref: string[] | null = null;
const rounds = Number(values.rounds);
for (let i = 0; i < rounds; i++) {
  for (const name of i % 2 ? (['new', 'base'] as const) : (['base', 'new'] as const)) {
    const r = run(sides[name]);
    res[name].push(r.cpu);
    if (ref === null) ref = r.alerts;
    else if (r.alerts.length !== ref.length || r.alerts.some((a, j) => a !== ref![j])) throw new Error(`${name}: alerts differ (${r.alerts.length} vs ${ref.length})`);
  }
}
const os = await import('node:os');
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const fmt = (s: number) => `${Math.round(rows / s / 1000)} k`;
console.log(`detector A/B — ${messages.length} messages, ${ind.length} indicators, ${ref?.length ?? 0} alerts (identical on both sides), ${rounds} rounds, load ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
for (const name of ['base', 'new'] as const) console.log(`${name}: best ${fmt(Math.min(...res[name]))} / median ${fmt(med(res[name]))} events/s per core (CPU s: ${res[name].map((x) => x.toFixed(2)).join(' ')})`);

if (values.profile) {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  run(sides.new);
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(values.profile.replace(/(\.cpuprofile)?$/, '.cpuprofile'), JSON.stringify(profile));
  session.disconnect();
}
