// Benchmark: the cost of JetStream's `sync_interval: always` (fsync before every PubAck) beside the default (fsync
// every 2 minutes, after acknowledging: Jepsen 2025 showed acknowledged writes lost on an OS crash). Starts
// nats-server twice (default, then always), publishes N messages of 64 KiB (a collector batch) with PubAck to a
// file-store stream, one at a time and with a window in flight, and prints msgs/s, MB/s and p50/p99 PubAck latency.
// Not a test: numbers only. Needs nats-server ≥ 2.10 (2.9 has no sync_interval): the 2.15.2 that
// `make test-nats-current` installs in ~/go/bin, else $NATS_SERVER_BIN / PATH.
// Run: npx tsx test/bench/natsSync.ts [--messages 2000] [--size 65536] [--inflight 1,16]
import { jetstream, jetstreamManager, StorageType, type PubAck } from '@nats-io/jetstream';
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectNats } from '@sluice/runtime';
import { findNatsServer } from '../../cli/natsBinary.ts';
import { startConfiguredNatsServer, versionAtLeast } from '../support/natsServer.ts';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '2000' }, size: { type: 'string', default: '65536' }, inflight: { type: 'string', default: '1,16' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('Usage: npx tsx test/bench/natsSync.ts [--messages N] [--size BYTES] [--inflight 1,16]');
  process.exit(0);
}
const N = Number(values.messages);
const SIZE = Number(values.size);
const WINDOWS = values.inflight.split(',').map(Number);

const current = join(homedir(), 'go', 'bin', 'nats-server');
const bin = [current, findNatsServer()].find((b): b is string => !!b && existsSync(b) && versionAtLeast(versionOf(b), 2, 10));
if (!bin) {
  console.error(`no nats-server ≥ 2.10 found (sync_interval is unknown to 2.9): run scripts/install-current-nats-server.sh or set NATS_SERVER_BIN`);
  process.exit(2);
}
function versionOf(b: string): string {
  return execFileSync(b, ['--version']).toString().trim().replace(/^nats-server: v?/, '');
}

interface Row {
  mode: string;
  inflight: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
  max: number;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function run(mode: 'default' | 'always'): Promise<Row[]> {
  const server = await startConfiguredNatsServer({ bin, config: '', jetstream: mode === 'always' ? 'sync_interval: always' : undefined });
  const nc = await connectNats({ url: server.url }, { timeout: 10_000 });
  const rows: Row[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const payload = randomFillSync(new Uint8Array(SIZE)); // incompressible, like gzip or already-packed batches
    for (const inflight of WINDOWS) {
      const stream = `BENCH_${inflight}`;
      await jsm.streams.add({ name: stream, subjects: [`bench.${inflight}`], storage: StorageType.File, num_replicas: 1 });
      // Warm-up: file creation and the first block allocation are not what we measure.
      for (let i = 0; i < 20; i++) await js.publish(`bench.${inflight}`, payload);
      const lat: number[] = [];
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (next < N) {
          next++;
          const s = performance.now();
          const ack: PubAck = await js.publish(`bench.${inflight}`, payload);
          if (ack.duplicate) throw new Error('unexpected duplicate');
          lat.push(performance.now() - s);
        }
      };
      await Promise.all(Array.from({ length: inflight }, worker));
      const secs = (performance.now() - t0) / 1000;
      lat.sort((a, b) => a - b);
      rows.push({ mode, inflight, msgsPerSec: lat.length / secs, mbPerSec: (lat.length * SIZE) / secs / 1048576, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1]! });
      await jsm.streams.delete(stream);
    }
  } finally {
    await nc.close();
    await server.stop();
  }
  return rows;
}

const fsType = (() => {
  try {
    return execFileSync('df', ['-T', tmpdir()]).toString().split('\n')[1]?.split(/\s+/)[1] ?? '?';
  } catch {
    return '?';
  }
})();
console.log(`nats-server ${versionOf(bin)} (${bin}); ${N} messages × ${SIZE} bytes with PubAck per run; file store in ${tmpdir()} (${fsType})`);
const all = [...(await run('default')), ...(await run('always'))];
console.log(['sync_interval', 'in flight', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(13)).join(''));
for (const r of all) {
  console.log([r.mode === 'always' ? 'always' : 'default (2m)', String(r.inflight), r.msgsPerSec.toFixed(0), r.mbPerSec.toFixed(1), r.p50.toFixed(2), r.p99.toFixed(2), r.max.toFixed(1)].map((c) => c.padStart(13)).join(''));
}
for (const w of WINDOWS) {
  const d = all.find((r) => r.mode === 'default' && r.inflight === w)!;
  const a = all.find((r) => r.mode === 'always' && r.inflight === w)!;
  console.log(`in flight ${w}: sync_interval always = ${((a.msgsPerSec / d.msgsPerSec) * 100).toFixed(0)} % of the default's throughput, p99 ×${(a.p99 / d.p99).toFixed(1)}`);
}
