// Source families and preambles in the collector's file-like sources, against a real nats-server: header lines
// (Zeek-like `#…`) are not published as records, the latest run travels with every later envelope of the file,
// envelopes never mix two preambles, and the preamble survives a restart midway through a file and a crash between
// publishing and the position update. Also the HTTP source: a body's preamble and the family header.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics, decodePreamble, H, KV_BUCKETS, loadConfig, provisionTopology, subjects } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { DirectorySource } from '../../services/collector/directorySource.ts';
import { HttpSource } from '../../services/collector/httpSource.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { countSubject, readSubject, type StoredEnvelope } from '../support/rawStream.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
let root: string;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  await provisionTopology(nc, jsm, cfg);
  kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
  root = mkdtempSync(join(tmpdir(), 'sluice-preamble-'));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const zeekish: SourceFamily = {
  name: 'zeekish',
  title: 'test family with # header lines',
  tables: {},
  route: () => ({ routed: [], rejected: [] }),
  isPreamble: (line) => line.startsWith('#'),
};
const log = createLogger('collector', 'silent');

function settled(path: string, content: string, append = false) {
  if (append) appendFileSync(path, content);
  else writeFileSync(path, content);
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
}

function dir(source: string, store: KV = kv) {
  const d = join(root, source);
  mkdirSync(d, { recursive: true });
  return { path: d, make: (s: KV = store) => new DirectorySource({ source, path: d, pollSeconds: 3600, settleSeconds: 1, maxBatchBytes: 600, family: zeekish }, js, s, log, createMetrics('collector')) };
}

const rows = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${1700000000 + i}.5\t${tag}${i}\t10.0.0.${i % 250}\t${'f'.repeat(20)}`);
const envelopes = (source: string) => readSubject(jsm, 'RAW', subjects.raw(source));

/** Each envelope's lines are from one tag group and carry the preamble that group was written under. */
function checkEnvelopes(envs: StoredEnvelope[], preambleOf: (line: string) => string[]) {
  for (const e of envs) {
    expect(e.headers[H.family]).toBe('zeekish');
    expect(e.lines.some((l) => l.startsWith('#'))).toBe(false);
    const p = decodePreamble(e.headers[H.preamble]);
    for (const l of e.lines) expect(p, l).toEqual(preambleOf(l));
  }
}

const H1 = ['#separator \\x09', '#path\tconn', '#fields\tts\tuid\tid.orig_h\tpad', '#types\ttime\tstring\taddr\tstring'];
const H2 = ['#fields\tts\tuid\tid.orig_h\tpad2', '#types\ttime\tstring\taddr\tstring'];

describe('preambles in the directory source', () => {
  it('strips header runs, cuts batches at a new run, and keeps the preamble across restarts midway', async () => {
    const d = dir('pre-dir');
    const file = join(d.path, 'conn.log');
    settled(file, [...H1, ...rows('a', 30)].join('\n') + '\n');
    await d.make().scan();
    // A restarted collector reads on: the new lines still carry H1 (kept in the KV position).
    settled(file, rows('b', 20).join('\n') + '\n', true);
    await d.make().scan();
    // A new header run mid-file, then a run split across two appends and two restarts.
    settled(file, [...H2, ...rows('c', 25)].join('\n') + '\n', true);
    await d.make().scan();
    settled(file, '#close\t2026-11-22\n#open\t2026-11-22\n', true);
    await d.make().scan();
    settled(file, ['#fields\tts\tuid', ...rows('d', 5)].join('\n') + '\n', true);
    await d.make().scan();
    const envs = await envelopes('pre-dir');
    expect(envs.length).toBeGreaterThan(6);
    const H3 = ['#close\t2026-11-22', '#open\t2026-11-22', '#fields\tts\tuid'];
    checkEnvelopes(envs, (l) => (/\t[ab]\d/.test(l) ? H1 : /\tc\d/.test(l) ? H2 : H3));
    expect(envs.flatMap((e) => e.lines)).toEqual([...rows('a', 30), ...rows('b', 20), ...rows('c', 25), ...rows('d', 5)]);
  });

  it('a crash between publishing and the position update replays the same envelopes (same preamble, same ids)', async () => {
    const d = dir('pre-crash');
    const file = join(d.path, 'dns.log');
    settled(file, [...H1, ...rows('x', 40), ...H2, ...rows('y', 40)].join('\n') + '\n');
    const before = await countSubject(jsm, 'RAW', subjects.raw('pre-crash'));
    const dying = new Proxy(kv, {
      get(target, prop, receiver) {
        if (prop === 'put') {
          return async (k: string, v: string) => {
            if ((await countSubject(jsm, 'RAW', subjects.raw('pre-crash'))) > before) throw new Error('simulated crash');
            return target.put(k, v);
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    await expect(d.make(dying).scan()).rejects.toThrow(/simulated crash/);
    const stored = await countSubject(jsm, 'RAW', subjects.raw('pre-crash'));
    expect(stored).toBeGreaterThan(4);
    // The file grows while the collector is down; the restart replays exactly the pending range, then reads on.
    settled(file, rows('z', 10).join('\n') + '\n', true);
    await d.make().scan();
    await d.make().scan();
    const envs = await envelopes('pre-crash');
    checkEnvelopes(envs, (l) => (/\tx\d/.test(l) ? H1 : H2));
    expect(envs.flatMap((e) => e.lines)).toEqual([...rows('x', 40), ...rows('y', 40), ...rows('z', 10)]);
  });
});

describe('preambles and families in the HTTP source', () => {
  it('a posted body is framed like a file: preamble lines stripped and sent as a header; non-JSON lines accepted', async () => {
    const metrics = createMetrics('collector');
    const http = new HttpSource({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, maxBatchBytes: 600, sources: [], familyOf: (s) => (s === 'zeeky' ? zeekish : undefined) }, js, log, metrics);
    await http.start();
    try {
      const body = [...H1, ...rows('h', 12), ...H2, ...rows('i', 12)].join('\n') + '\n';
      const res = await fetch(`http://127.0.0.1:${http.port}/ingest/zeeky`, { method: 'POST', body });
      expect(res.status).toBe(202);
      expect(((await res.json()) as { accepted: number }).accepted).toBe(24);
      const envs = await envelopes('zeeky');
      checkEnvelopes(envs, (l) => (/\th\d/.test(l) ? H1 : H2));
      expect(envs.flatMap((e) => e.lines)).toEqual([...rows('h', 12), ...rows('i', 12)]);
      // Without a family, TSV lines are still refused as invalid JSON.
      const plain = await fetch(`http://127.0.0.1:${http.port}/ingest/plain`, { method: 'POST', body });
      expect(plain.status).toBe(400);
      const bytes = (await metrics.registry.getSingleMetric('sluice_collector_bytes_total')!.get()).values.find((v) => v.labels.source === 'zeeky')?.value;
      expect(bytes).toBe(envs.reduce((s, e) => s + e.bytes, 0));
    } finally {
      await http.stop();
    }
  });
});
