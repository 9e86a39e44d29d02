// Benchmark of detection rule 3 through the detector runtime (not just the index): N generated indicators applied
// as broadcast batches of the iocs table, then Arrow IPC messages of DeviceNetworkEvents (RemoteIP, RemoteUrl → URL
// and hostname with registered-domain parents: 3 mapped entries) and DeviceProcessEvents (6 hash columns), ~0.1 %
// of rows hitting, each message read from IPC bytes (ipcBatch: only the columns the rule asks for) and applied like
// the RuleHost does. Prints events/s per core (rows / CPU seconds). Not a test: numbers only.
// Run: npx tsx --expose-gc test/bench/iocRule.ts [--indicators 1000000] [--events 200000]
import { parseArgs } from 'node:util';
import { ColumnBuilder, encodeIpc } from '@sluice/columnar';
import { DomainLookup } from '@sluice/domains';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { objectBatch } from '../../libs/detect/eventBatch.ts';
import { ipcBatch } from '../../libs/detect/ipcBatch.ts';
import { DetectorRuntime } from '../../libs/detect/detectorRuntime.ts';
import { DEFAULT_IOC_MAPPING } from '../../libs/detect/iocMapping.ts';
import { DEFAULT_IOC_RULE_CONFIG, iocRule, type DeviceSuppression } from '../../libs/detect/iocRule.ts';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({ options: { indicators: { type: 'string', default: '1000000' }, events: { type: 'string', default: '200000' } } });
const N = Number(values.indicators);
const E = Number(values.events);
const NOW = Date.now();
const DAY = 86_400_000;
const BATCH = 1000;
const rng = new Rng(7);
const mb = (b: number) => (b / 1048576).toFixed(0);
const gc = () => (global as { gc?: () => void }).gc?.();
const cpuOf = (f: () => void) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 };
};

const TLDS = ['com', 'net', 'org', 'ru', 'xyz', 'co.uk', 'io'];
const MIX: [string, number][] = [
  ['FileHash-SHA256', 30],
  ['FileHash-SHA1', 15],
  ['FileHash-MD5', 15],
  ['URL', 18],
  ['domain', 12],
  ['IPv4', 10],
];
const value = (type: string): string => {
  switch (type) {
    case 'FileHash-SHA256':
      return rng.hex(64);
    case 'FileHash-SHA1':
      return rng.hex(40);
    case 'FileHash-MD5':
      return rng.hex(32);
    case 'URL':
      return `http://${rng.hex(8)}.${rng.pick(TLDS)}/${rng.hex(6)}/a.exe`;
    case 'domain':
      return `${rng.hex(10)}.${rng.pick(TLDS)}`;
    default:
      return `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }
};

const domains = new DomainLookup();
const rule = iocRule({ ...DEFAULT_IOC_RULE_CONFIG, mapping: DEFAULT_IOC_MAPPING, registeredDomainOf: (n) => domains.lookup(n)?.registeredDomain ?? null }, undefined);
const rt = new DetectorRuntime<DeviceSuppression>(rule, 16, Array.from({ length: 16 }, (_, i) => i), { ttlMs: 2 * DAY, maxKeysPerPartition: 100_000 });

gc();
const rss0 = process.memoryUsage().rss;
const hitValues: Record<string, string[]> = { IPv4: [], URL: [], domain: [], 'FileHash-SHA256': [], 'FileHash-SHA1': [], 'FileHash-MD5': [] };
let seq = 0;
const load = cpuOf(() => {
  for (let i = 0; i < N; i += 10_000) {
    const rows = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++) {
      const type = rng.weighted(MIX);
      const v = value(type);
      if (hitValues[type]!.length < 1000) hitValues[type]!.push(v);
      rows.push({ indicator: v, type, dataset: 'otx', first_seen: NOW - 30 * DAY, last_seen: null, confidence: 60, threat: null, event_name: null, _ingest_time: NOW });
    }
    rt.apply('iocs', ++seq, objectBatch('iocs', rows));
  }
});
gc();
console.log(`indicators: ${rule.index.size} in ${load.cpu.toFixed(1)} s CPU (${Math.round(N / load.cpu)} rows/s per core), RSS +${mb(process.memoryUsage().rss - rss0)} MB`);

const HIT = 0.001;
function messages(table: string, row: (i: number, hit: boolean) => Record<string, unknown>): Uint8Array[] {
  const def = allTables().find((t) => t.name === table)!;
  const out: Uint8Array[] = [];
  for (let i = 0; i < E; i += BATCH) {
    const b = new ColumnBuilder(fullColumnsOf(def));
    for (let j = i; j < Math.min(E, i + BATCH); j++) b.append({ ...row(j, rng.chance(HIT)), _source: 'bench', _object: `o${i}`, _raw_seq: j });
    out.push(encodeIpc(b.build()));
  }
  return out;
}
const ts = (i: number) => (NOW - DAY + i) * 1000;
const device = (i: number) => `ws-${i % 5000}`;
const netMsgs = messages('defender_device_network_events', (i, hit) => {
  const kind = rng.int(0, 2);
  const ip = hit && kind === 0 ? rng.pick(hitValues.IPv4!) : `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  const url = hit && kind === 1 ? rng.pick(hitValues.URL!).slice(7) : hit && kind === 2 ? `www.${rng.pick(hitValues.domain!)}/x` : `${rng.hex(8)}.example.com/${rng.hex(4)}`;
  return { Timestamp: ts(i), DeviceName: device(i), DeviceId: device(i), ActionType: 'ConnectionSuccess', RemoteIP: ip, RemoteUrl: url, RemotePort: 443 };
});
const procMsgs = messages('defender_device_process_events', (i, hit) => ({
  Timestamp: ts(i),
  DeviceName: device(i),
  DeviceId: device(i),
  SHA256: hit ? rng.pick(hitValues['FileHash-SHA256']!) : rng.hex(64),
  SHA1: rng.hex(40),
  MD5: rng.hex(32),
  InitiatingProcessSHA256: rng.hex(64),
  InitiatingProcessSHA1: rng.hex(40),
  InitiatingProcessMD5: rng.hex(32),
}));

for (const [table, msgs, what] of [
  ['defender_device_network_events', netMsgs, 'RemoteIP + RemoteUrl (URL, hostname + registered-domain parents)'],
  ['defender_device_process_events', procMsgs, '6 hash columns'],
] as const) {
  let alerts = 0;
  const r = cpuOf(() => {
    for (const m of msgs) alerts += rt.apply(table, ++seq, ipcBatch(table, m)).alerts.length;
  });
  console.log(`${table} (${what}): ${E} events, ${alerts} alerts, ${r.cpu.toFixed(2)} s CPU / ${r.wall.toFixed(2)} s wall → ${Math.round(E / r.cpu)} events/s per core`);
}
console.log(`state keys (devices with open suppression windows): ${rt.keyCount()}; RSS ${mb(process.memoryUsage().rss)} MB`);
