// The collector's syslog source against a real nats-server: UDP datagrams and TCP (octet counting and newline
// framing) → exact records in RAW with the sender as lineage and one sender per envelope; oversized messages and
// bad framing dropped and counted; backpressure — TCP reads pause and UDP drops are counted while JetStream
// publishes are stalled, and nothing is lost over TCP once they resume; stop() publishes what is buffered.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, H, loadConfig, provisionTopology, subjects, type Logger, type Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { SyslogSource, type SyslogSourceConfig } from '../../services/collector/syslogSource.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { readSubject, until } from '../support/rawStream.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  await provisionTopology(nc, jsm, cfg);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

interface Env {
  source: SyslogSource;
  name: string;
  logs: Record<string, unknown>[];
  metrics: Metrics;
}

let seq = 0;
const running: SyslogSource[] = [];
afterAll(async () => {
  for (const s of running) await s.stop();
});

async function start(over: Partial<SyslogSourceConfig> = {}, client: JetStreamClient = js): Promise<Env> {
  const name = `syslog-${++seq}`;
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) }) as Logger;
  const metrics = createMetrics('collector');
  const cfg: SyslogSourceConfig = {
    source: name,
    udp: { host: '127.0.0.1', port: 0 },
    tcp: { host: '127.0.0.1', port: 0 },
    maxMessageBytes: 2048,
    batchMillis: 30,
    maxBatchBytes: 4096,
    maxPendingBytes: 1024 * 1024,
    maxConnections: 100,
    ...over,
  };
  const source = new SyslogSource(cfg, client, log, metrics);
  await source.start();
  running.push(source);
  return { source, name, logs, metrics };
}

const envelopes = (name: string) => readSubject(jsm, 'RAW', subjects.raw(name));
const lines = async (name: string) => (await envelopes(name)).flatMap((e) => e.lines);
async function dropped(m: Metrics, reason: string): Promise<number> {
  const v = (await m.registry.getSingleMetric('sluice_collector_dropped_total')!.get()).values;
  return v.filter((x) => x.labels.reason === reason).reduce((s, x) => s + x.value, 0);
}
const msg = (tag: string, i: number) => `<134>1 2026-11-22T10:00:00.${String(i).padStart(3, '0')}Z host-${tag} app 42 - - ${tag} message ${i}`;

function udpSender(): Promise<{ port: number; send(data: string | Buffer, port: number): Promise<void>; close(): void }> {
  const s = createSocket('udp4');
  return new Promise((resolve) =>
    s.bind(0, '127.0.0.1', () =>
      resolve({
        port: s.address().port,
        send: (data, port) => new Promise((r, j) => s.send(data, port, '127.0.0.1', (e) => (e ? j(e) : r()))),
        close: () => s.close(),
      }),
    ),
  );
}

function tcpClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = tcpConnect(port, '127.0.0.1', () => resolve(c));
    c.once('error', reject);
  });
}

const octet = (m: string) => `${Buffer.byteLength(m)} ${m}`;

describe('SyslogSource', () => {
  it('UDP: one record per message (datagrams of one or several lines), batched per sender with udp:<ip>:<port> lineage', async () => {
    const e = await start();
    const a = await udpSender();
    const b = await udpSender();
    const wantA = Array.from({ length: 100 }, (_, i) => msg('a', i));
    const wantB = Array.from({ length: 53 }, (_, i) => msg('b', i));
    for (let i = 0; i < 100; i++) await a.send(wantA[i]!, e.source.udpPort);
    for (let i = 0; i < 50; i++) await b.send(wantB[i]! + '\n', e.source.udpPort);
    await b.send(wantB.slice(50).join('\r\n'), e.source.udpPort);
    await until(async () => (await lines(e.name)).length >= 153, 15_000, 'all datagrams');
    const envs = await envelopes(e.name);
    const by = new Map<string, string[]>();
    for (const x of envs) {
      expect(x.headers[H.source]).toBe(e.name);
      expect(Number(x.headers[H.count])).toBe(x.lines.length);
      by.set(x.headers[H.object]!, [...(by.get(x.headers[H.object]!) ?? []), ...x.lines]);
    }
    expect(by.get(`udp:127.0.0.1:${a.port}`)).toEqual(wantA);
    expect(by.get(`udp:127.0.0.1:${b.port}`)).toEqual(wantB);
    expect(by.size).toBe(2);
    a.close();
    b.close();
  });

  it('TCP: octet counting and newline framing detected per connection, split writes, tcp:<ip>:<port> lineage', async () => {
    const e = await start({ family: { name: 'ise', title: 't', tables: {}, route: () => ({ routed: [], rejected: [] }) } satisfies SourceFamily });
    const oc = await tcpClient(e.source.tcpPort);
    const nl = await tcpClient(e.source.tcpPort);
    const [ocPort, nlPort] = [oc.localPort, nl.localPort];
    const ocMsgs = Array.from({ length: 40 }, (_, i) => msg('oc', i));
    ocMsgs.push('<13>1 - h app - - - two\nlines é');
    const stream = ocMsgs.map(octet).join('');
    // Byte-sized writes for the first part: frames and even length prefixes arrive cut.
    for (let i = 0; i < 300; i++) oc.write(stream[i]!);
    oc.write(stream.slice(300));
    const nlMsgs = Array.from({ length: 30 }, (_, i) => msg('nl', i));
    nl.write(nlMsgs.slice(0, 29).join('\r\n') + '\n' + nlMsgs[29]); // last one without a terminator: counts at close
    await new Promise((r) => setTimeout(r, 200));
    oc.end();
    nl.end();
    await until(async () => (await lines(e.name)).length >= 71, 15_000, 'all TCP messages');
    const envs = await envelopes(e.name);
    const by = new Map<string, string[]>();
    for (const x of envs) {
      expect(x.headers[H.family]).toBe('ise');
      by.set(x.headers[H.object]!, [...(by.get(x.headers[H.object]!) ?? []), ...x.lines]);
    }
    expect([...by.keys()].sort()).toEqual([`tcp:127.0.0.1:${ocPort}`, `tcp:127.0.0.1:${nlPort}`].sort());
    expect(by.get(`tcp:127.0.0.1:${ocPort}`)).toEqual([...ocMsgs.slice(0, 40), '<13>1 - h app - - - two lines é']);
    expect(by.get(`tcp:127.0.0.1:${nlPort}`)).toEqual(nlMsgs);
  });

  it('drops messages over maxMessageBytes (counted, logged) and closes a connection with a bad octet count', async () => {
    const e = await start({ maxMessageBytes: 256 });
    const long = '<13>' + 'L'.repeat(1000);
    const u = await udpSender();
    await u.send(long, e.source.udpPort);
    await u.send(msg('u', 1), e.source.udpPort);
    const nl = await tcpClient(e.source.tcpPort);
    nl.write(`${msg('n', 1)}\n${long}\n${msg('n', 2)}\n`);
    const oc = await tcpClient(e.source.tcpPort);
    oc.write(octet(msg('o', 1)) + octet(long) + octet(msg('o', 2)));
    const bad = await tcpClient(e.source.tcpPort);
    const closed = new Promise<void>((r) => bad.on('close', () => r()));
    bad.on('error', () => undefined);
    bad.write(octet(msg('x', 1)) + '12x garbage');
    await closed;
    nl.end();
    oc.end();
    await until(async () => (await lines(e.name)).length >= 6, 15_000, 'the messages within the limit');
    await new Promise((r) => setTimeout(r, 100));
    expect((await lines(e.name)).sort()).toEqual([msg('u', 1), msg('n', 1), msg('n', 2), msg('o', 1), msg('o', 2), msg('x', 1)].sort());
    expect(await dropped(e.metrics, 'too_long')).toBe(3);
    expect(await dropped(e.metrics, 'protocol')).toBe(1);
    expect(e.logs.some((l) => /over maxMessageBytes/.test(String(l.msg)))).toBe(true);
    expect(e.logs.some((l) => /framing error/.test(String(l.msg)))).toBe(true);
    u.close();
  });

  it('backpressure: while publishes stall, TCP reads pause (bounded memory) and UDP drops are counted; TCP loses nothing', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const stalled = new Proxy(js, {
      get(target, prop, receiver) {
        if (prop === 'publish') return async (...args: Parameters<JetStreamClient['publish']>) => (await gate, target.publish(...args));
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const maxPending = 16 * 1024;
    const e = await start({ maxPendingBytes: maxPending, maxBatchBytes: 2048, batchMillis: 10 }, stalled);
    const c = await tcpClient(e.source.tcpPort);
    // A failed assertion must not leave publishes stalled forever (stop() waits for them).
    const release = setTimeout(() => open(), 30_000);
    const want = Array.from({ length: 20_000 }, (_, i) => msg('bp', i));
    const payload = want.join('\n') + '\n'; // ~1.6 MB
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, e.source.pendingBytes)), 5);
    c.write(payload);
    await new Promise((r) => setTimeout(r, 1000));
    // The collector stopped reading: the rest waits in the sender's socket buffers, not in our memory.
    expect(e.source.pendingBytes).toBeGreaterThanOrEqual(maxPending);
    expect(peak).toBeLessThan(maxPending + 128 * 1024);

    const u = await udpSender();
    for (let i = 0; i < 50; i++) await u.send(msg('udp', i), e.source.udpPort);
    await until(async () => (await dropped(e.metrics, 'overload')) === 50, 5000, 'UDP overload drops');

    open();
    clearTimeout(release);
    c.end();
    await until(async () => (await lines(e.name)).length >= 20_000, 60_000, 'every TCP message after the stall');
    clearInterval(sampler);
    expect(peak).toBeLessThan(maxPending + 128 * 1024);
    const got = await lines(e.name);
    expect(got).toEqual(want);
    u.close();
  });

  it('stop() publishes what is buffered before returning', async () => {
    const e = await start({ batchMillis: 600_000 });
    const u = await udpSender();
    const want = Array.from({ length: 10 }, (_, i) => msg('s', i));
    for (const m of want) await u.send(m, e.source.udpPort);
    await until(() => e.source.pendingBytes > 0 && e.source.pendingBytes >= want.join('\n').length, 5000, 'datagrams buffered');
    expect(await lines(e.name)).toEqual([]);
    await e.source.stop();
    expect(await lines(e.name)).toEqual(want);
    u.close();
  });
});
