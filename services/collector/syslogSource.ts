// Syslog source: UDP datagrams and TCP connections (RFC 6587 octet counting or newline framing, detected per
// connection) → raw.<source>, one record per message (the raw message text; the parser decodes syslog).
// Records are batched per sender, so each envelope's lineage (`Sluice-Object`) names it: `udp:<ip>:<port>` or
// `tcp:<ip>:<port>`. An envelope is published when it reaches maxBatchBytes or batchMillis after its first record.
//
// Delivery: syslog has no replay, so this input is at most once. Lost when the process dies: UDP datagrams in the
// kernel buffer or in a batch not yet acknowledged by JetStream, and TCP data received (acknowledged to the sender
// by TCP) but not yet published. Under load, UDP datagrams are dropped and counted (reason `overload`) once
// maxPendingBytes are buffered or in flight; TCP connections are paused instead (socket.pause), so the sender's
// TCP window fills and it slows down, rather than the collector buffering without bound.
import type { JetStreamClient } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger, Metrics } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { collectorMetrics, countDrop } from './collectorMetrics.ts';
import { publishRaw } from './rawPublisher.ts';
import { frameDatagram, TcpSyslogFramer } from './syslogFraming.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface SyslogSourceConfig {
  source: string;
  udp?: ListenAddress;
  tcp?: ListenAddress;
  /** Messages longer than this are dropped (counted, logged). */
  maxMessageBytes: number;
  batchMillis: number;
  maxBatchBytes: number;
  /** Bytes buffered plus in flight to JetStream above which UDP drops and TCP pauses. */
  maxPendingBytes: number;
  maxConnections: number;
  family?: SourceFamily;
  /** `streams.rawPartitions` (default 1). */
  rawPartitions?: number;
}

interface SenderBuffer {
  records: Uint8Array[];
  bytes: number;
  timer: NodeJS.Timeout;
}

/** Attempts per envelope: the id is fixed, so a retried publish that had in fact been stored is dropped as a duplicate. */
const PUBLISH_ATTEMPTS = 3;

export class SyslogSource {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly paused = new Set<Socket>();
  private readonly buffers = new Map<string, SenderBuffer>();
  private readonly inflight = new Set<Promise<void>>();
  private bufferedBytes = 0;
  private inflightBytes = 0;
  private seq = 0;
  /** Distinguishes this process's envelope ids from a previous run's. */
  private readonly runId = randomUUID().slice(0, 8);
  private readonly lastDropLog = new Map<string, number>();
  udpPort = 0;
  tcpPort = 0;

  constructor(
    private readonly cfg: SyslogSourceConfig,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    collectorMetrics(metrics); // registered up front, so /metrics shows the counters at 0
  }

  async start(): Promise<void> {
    if (this.cfg.udp) {
      const { host, port } = this.cfg.udp;
      const udp = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      this.udp = udp;
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      udp.on('error', (e) => {
        this.metrics.errors.inc({ kind: 'syslog_udp' });
        this.log.error({ err: e.message }, 'syslog UDP socket error');
      });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      this.udpPort = udp.address().port;
      this.log.info({ source: this.cfg.source, host, port: this.udpPort }, 'syslog UDP listening');
    }
    if (this.cfg.tcp) {
      const { host, port } = this.cfg.tcp;
      const server = createServer((s) => this.onConnection(s));
      server.maxConnections = this.cfg.maxConnections;
      this.tcp = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const a = server.address();
      this.tcpPort = typeof a === 'object' && a ? a.port : port;
      this.log.info({ source: this.cfg.source, host, port: this.tcpPort }, 'syslog TCP listening');
    }
  }

  /** Stops listening, closes connections, publishes what is buffered and waits for every PubAck. */
  async stop(): Promise<void> {
    const closing: Promise<void>[] = [];
    const { udp, tcp } = this;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) closing.push(new Promise((r) => udp.close(() => r())));
    if (tcp) closing.push(new Promise((r) => tcp.close(() => r())));
    for (const s of this.sockets) s.destroy();
    await Promise.all(closing);
    for (const sender of [...this.buffers.keys()]) this.flush(sender);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Bytes buffered or being published: exposed for tests. */
  get pendingBytes(): number {
    return this.bufferedBytes + this.inflightBytes;
  }

  private get overloaded(): boolean {
    return this.pendingBytes >= this.cfg.maxPendingBytes;
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.overloaded) {
      this.drop('overload', 1, { sender: `${rinfo.address}:${rinfo.port}` }, 'syslog UDP datagram dropped: JetStream is behind (maxPendingBytes reached)');
      return;
    }
    const out = frameDatagram(msg, this.cfg.maxMessageBytes);
    if (out.dropped > 0) this.drop('too_long', out.dropped, { sender: `${rinfo.address}:${rinfo.port}`, limit: this.cfg.maxMessageBytes }, 'syslog message over maxMessageBytes dropped');
    const sender = `udp:${address(rinfo.address)}:${rinfo.port}`;
    for (const m of out.messages) this.add(sender, m);
  }

  private onConnection(s: Socket): void {
    const sender = `tcp:${address(s.remoteAddress ?? '?')}:${s.remotePort ?? 0}`;
    const framer = new TcpSyslogFramer(this.cfg.maxMessageBytes);
    this.sockets.add(s);
    s.on('data', (chunk: Buffer) => {
      const out = framer.push(chunk);
      if (out.dropped > 0) this.drop('too_long', out.dropped, { sender, limit: this.cfg.maxMessageBytes }, 'syslog message over maxMessageBytes dropped');
      for (const m of out.messages) this.add(sender, m);
      if (out.error) {
        this.drop('protocol', 1, { sender, err: out.error }, 'syslog TCP framing error; connection closed');
        s.destroy();
        return;
      }
      if (this.overloaded && !this.paused.has(s)) {
        // Backpressure: stop reading until the publishes in flight are acknowledged.
        s.pause();
        this.paused.add(s);
      }
    });
    const done = () => {
      if (!this.sockets.delete(s)) return;
      this.paused.delete(s);
      const out = framer.end();
      if (out.dropped > 0) this.drop('truncated', out.dropped, { sender }, 'syslog TCP connection closed inside a message');
      for (const m of out.messages) this.add(sender, m);
      this.flush(sender);
    };
    s.on('end', done);
    s.on('close', done);
    s.on('error', (e) => this.log.warn({ sender, err: e.message }, 'syslog TCP connection error'));
  }

  private add(sender: string, record: Uint8Array): void {
    let b = this.buffers.get(sender);
    if (!b) {
      b = { records: [], bytes: 0, timer: setTimeout(() => this.flush(sender), this.cfg.batchMillis) };
      this.buffers.set(sender, b);
    }
    b.records.push(record);
    b.bytes += record.length + 1;
    this.bufferedBytes += record.length + 1;
    if (b.bytes >= this.cfg.maxBatchBytes) this.flush(sender);
  }

  private flush(sender: string): void {
    const b = this.buffers.get(sender);
    if (!b) return;
    this.buffers.delete(sender);
    clearTimeout(b.timer);
    this.bufferedBytes -= b.bytes;
    this.inflightBytes += b.bytes;
    const idPrefix = `syslog:${this.cfg.source}:${this.runId}:${this.seq++}`;
    const p = this.publish(sender, b.records, idPrefix).finally(() => {
      this.inflightBytes -= b.bytes;
      this.inflight.delete(p);
      if (!this.overloaded) this.resumeAll();
    });
    this.inflight.add(p);
  }

  private async publish(sender: string, records: Uint8Array[], idPrefix: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await publishRaw(this.js, this.metrics, { source: this.cfg.source, object: sender, idPrefix, family: this.cfg.family?.name, rawPartitions: this.cfg.rawPartitions }, records, this.cfg.maxBatchBytes);
        if (r.oversized > 0) this.log.warn({ sender, records: r.oversized }, 'syslog messages larger than the batch cap were not ingested');
        return;
      } catch (e) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          this.drop('publish_failed', records.length, { sender, err: (e as Error).message }, 'syslog batch not stored in JetStream; messages lost');
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private resumeAll(): void {
    for (const s of this.paused) s.resume();
    this.paused.clear();
  }

  /** Counts every drop; logs at most one line per second and reason, so a flood does not flood the log too. */
  private drop(reason: string, n: number, fields: Record<string, unknown>, msg: string): void {
    countDrop(this.metrics, this.cfg.source, reason, n);
    const now = Date.now();
    if (reason === 'publish_failed' || now - (this.lastDropLog.get(reason) ?? 0) >= 1000) {
      this.lastDropLog.set(reason, now);
      this.log.warn({ source: this.cfg.source, reason, count: n, ...fields }, msg);
    }
  }
}

/** IPv4 peers of a dual-stack socket appear as ::ffff:a.b.c.d. */
function address(a: string): string {
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}
