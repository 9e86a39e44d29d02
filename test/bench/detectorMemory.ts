// Detector memory for the login-from-new-network state: N users (default 1 M), each with a few networks (an AS
// organisation from a shared pool and one or two /24s), fed through the partitioned runtime in batches. Prints RSS and
// heap before and after, bytes per user, rows/s, and the size and time of one partition's snapshot. Not a test.
// Run: node --expose-gc --import tsx test/bench/detectorMemory.ts [--users N] [--partitions P]
import { parseArgs } from 'node:util';
import { DetectorRuntime, newNetworkLoginRule, objectBatch, ownedPartitions, DEFAULT_LOGIN_SOURCES, DEFAULT_NEW_NETWORK_CONFIG } from '@sluice/detect';
import { Rng } from '../fixtures/seededRng.ts';

const { values } = parseArgs({ options: { users: { type: 'string', default: '1000000' }, partitions: { type: 'string', default: '16' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: node --expose-gc --import tsx test/bench/detectorMemory.ts [--users 1000000] [--partitions 16]');
  process.exit(0);
}
const USERS = Number(values.users);
const P = Number(values.partitions);
const TABLE = 'defender_identity_logon_events';
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

function mem(): { rss: number; heap: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

const rng = new Rng(42);
const orgs = Array.from({ length: 5000 }, (_, i) => `Example Carrier ${i} Ltd`);
const rule = newNetworkLoginRule({ ...DEFAULT_NEW_NETWORK_CONFIG, sources: DEFAULT_LOGIN_SOURCES });
const rt = new DetectorRuntime(rule, P, ownedPartitions(P, 0, 1), { ttlMs: 180 * DAY, maxKeysPerPartition: Math.ceil((USERS * 2) / P) });

const base = mem();
console.log(`before: rss ${mb(base.rss)} MiB, heap ${mb(base.heap)} MiB; users ${USERS}, partitions ${P}`);
const BATCH = 10_000;
let seq = 0;
let rows = 0;
let networks = 0;
const started = performance.now();
// Three passes over the users: home network (AS org), office /24, sometimes a third (mobile /24).
for (let pass = 0; pass < 3; pass++) {
  for (let from = 0; from < USERS; from += BATCH) {
    const batch: Record<string, unknown>[] = [];
    for (let u = from; u < Math.min(USERS, from + BATCH); u++) {
      if (pass === 2 && u % 3 !== 0) continue;
      const asOrg = pass === 0 ? orgs[u % orgs.length] : null;
      const ip = `${(u % 100) + 11}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      batch.push({ Timestamp: T0 + pass * DAY + (u % 86_400) * 1000, ActionType: 'LogonSuccess', AccountUpn: ['user', u, '@corp.example'].join(''), IPAddress: ip, IPAddress_as_org: asOrg, ReportId: `${pass}-${u}` });
      networks++;
    }
    rows += batch.length;
    rt.apply(TABLE, ++seq, objectBatch(TABLE, batch));
  }
}
const secs = (performance.now() - started) / 1000;
const after = mem();
const perUser = (after.heap - base.heap) / USERS;
console.log(`after:  rss ${mb(after.rss)} MiB, heap ${mb(after.heap)} MiB; keys ${rt.keyCount()}, networks ${networks}`);
console.log(`state:  +${mb(after.rss - base.rss)} MiB RSS, +${mb(after.heap - base.heap)} MiB heap, ${perUser.toFixed(0)} B heap/user`);
console.log(`apply:  ${rows} rows in ${secs.toFixed(1)} s = ${Math.round(rows / secs)} rows/s (one core, object batches)`);
let total = 0;
let worst = 0;
let size = 0;
let keys = 0;
for (const p of rt.parts.keys()) {
  const s0 = performance.now();
  const { bytes, keys: n } = rt.encodeSnapshot(p);
  const ms = performance.now() - s0;
  total += ms;
  worst = Math.max(worst, ms);
  size += bytes.length;
  keys += n;
}
console.log(`snapshot: ${P} partitions, ${keys} keys, ${mb(size)} MiB gzip; capture+encode ${(total / 1000).toFixed(1)} s in all, longest partition ${worst.toFixed(0)} ms (the event loop yields between partitions)`);
