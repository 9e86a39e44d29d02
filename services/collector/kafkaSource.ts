// Kafka / Azure Event Hubs source: a consumer group reads topics and publishes each message's records to
// raw.<source>. Offsets are committed by hand, only after JetStream acknowledged the envelopes, so a crash replays
// instead of losing; envelope ids name the exact Kafka positions they hold, so JetStream drops what a replay repeats.
import type { JetStreamClient } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry, type SASLOptions } from 'kafkajs';
import { faultPoint, splitLines, type Logger, type Metrics } from '@sluice/runtime';
import type { KafkaSourceConfig } from './kafkaConfig.ts';
import { countDrop } from './collectorMetrics.ts';
import { publishRaw } from './rawPublisher.ts';

export { kafkaSourceSchema, type KafkaSourceConfig } from './kafkaConfig.ts';

/** Offset-commit metadata marking the range being published: a replay cuts its first unit at the same end. */
const PENDING = 'sluice:pending=';

/** One record with the Kafka position it came from (line `line` of `lines` in the message at `offset`). */
export interface PositionedRecord {
  offset: string;
  line: number;
  lines: number;
  bytes: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The records of one message value. A value is one record, bytes unchanged, unless it holds line breaks: a JSON
 * document spread over lines (pretty-printed) stays one record with each CR/LF replaced by a space (JSON
 * whitespace: a raw line break cannot occur inside a JSON string, so the value means the same); anything else
 * (NDJSON, syslog or CSV lines) is split into its non-blank lines, one record each. Null or blank: no record.
 */
export function messageRecords(value: Uint8Array | null | undefined): Uint8Array[] {
  if (!value) return [];
  const t = trimWhitespace(value);
  if (t.length === 0) return [];
  if (t.indexOf(0x0a) === -1 && t.indexOf(0x0d) === -1) return [t === value ? value : t];
  if (isJsonDocument(t)) {
    const out = new Uint8Array(t);
    for (let i = 0; i < out.length; i++) if (out[i] === 0x0a || out[i] === 0x0d) out[i] = 0x20;
    return [out];
  }
  return splitLines(t).filter((l) => trimWhitespace(l).length > 0);
}

function trimWhitespace(b: Uint8Array): Uint8Array {
  let a = 0;
  let e = b.length;
  const ws = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  while (a < e && ws(b[a]!)) a++;
  while (e > a && ws(b[e - 1]!)) e--;
  return a === 0 && e === b.length ? b : b.subarray(a, e);
}

function isJsonDocument(b: Uint8Array): boolean {
  try {
    JSON.parse(decoder.decode(b));
    return true;
  } catch {
    return false;
  }
}

/** The records of a batch's messages with their positions. */
export function positionedRecords(messages: Pick<KafkaMessage, 'offset' | 'value'>[]): PositionedRecord[] {
  const out: PositionedRecord[] = [];
  for (const m of messages) {
    const recs = messageRecords(m.value);
    recs.forEach((bytes, line) => out.push({ offset: m.offset, line, lines: recs.length, bytes }));
  }
  return out;
}

/** `offset` for a single-record message, `offset.line` otherwise: names exactly one record. */
function pos(r: PositionedRecord): string {
  return r.lines > 1 ? `${r.offset}.${r.line}` : r.offset;
}

export interface Envelope {
  /** `<first position>-<last position>`: the id says exactly which records the envelope holds. */
  range: string;
  records: PositionedRecord[];
}

/**
 * Cuts records into envelopes greedily (each record plus its newline, at most maxBytes), as packLines does. The
 * cut depends only on where the unit starts and on the records, so a replay of the same unit yields the same ids.
 * A record that alone exceeds the cap gets an envelope of its own, which publishRaw refuses and counts.
 */
export function cutEnvelopes(records: PositionedRecord[], maxBytes: number): Envelope[] {
  const out: Envelope[] = [];
  let cur: PositionedRecord[] = [];
  let size = 0;
  const flush = () => {
    if (cur.length === 0) return;
    out.push({ range: `${pos(cur[0]!)}-${pos(cur[cur.length - 1]!)}`, records: cur });
    cur = [];
    size = 0;
  };
  for (const r of records) {
    const n = r.bytes.length + 1;
    if (n > maxBytes) {
      flush();
      cur = [r];
      flush();
      continue;
    }
    if (size + n > maxBytes) flush();
    cur.push(r);
    size += n;
  }
  flush();
  return out;
}

export class KafkaSource {
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  /** Next offset this process committed per `topic:partition`; a batch starting elsewhere checks for a marker. */
  private readonly committed = new Map<string, string>();
  private crashed: Error | undefined;

  constructor(
    private readonly cfg: KafkaSourceConfig,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.kafka = new Kafka({
      clientId: cfg.clientId ?? `sluice-collector-${cfg.source}`,
      brokers: cfg.brokers,
      ssl: cfg.ssl ?? false,
      sasl: saslOptions(cfg),
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.kafkaLog(entry),
    });
  }

  /** The error that stopped consumption for good (kafkajs gave up restarting), if any. */
  get failure(): Error | undefined {
    return this.crashed;
  }

  async start(): Promise<void> {
    const c = this.kafka.consumer({
      groupId: this.cfg.groupId,
      allowAutoTopicCreation: false,
      ...(this.cfg.sessionTimeoutMs ? { sessionTimeout: this.cfg.sessionTimeoutMs } : {}),
    });
    this.consumer = c;
    c.on(c.events.CRASH, (e) => {
      this.metrics.errors.inc({ kind: 'kafka_source' });
      if (!e.payload.restart) this.crashed = e.payload.error;
      this.log.error({ source: this.cfg.source, err: e.payload.error.message, restart: e.payload.restart }, 'Kafka consumer crashed');
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      // A new assignment: partitions may come back from another member, whose commits this process has not seen.
      this.committed.clear();
      this.log.info({ source: this.cfg.source, assignment: e.payload.memberAssignment }, 'Kafka consumer joined the group');
    });
    try {
      await c.connect();
      await c.subscribe({ topics: this.cfg.topics, fromBeginning: this.cfg.fromBeginning });
    } catch (e) {
      await c.disconnect().catch(() => undefined);
      throw this.describe(e as Error);
    }
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (p) => this.handleBatch(p),
    });
    this.log.info({ source: this.cfg.source, brokers: this.cfg.brokers, topics: this.cfg.topics, groupId: this.cfg.groupId }, 'Kafka source consuming');
  }

  /** Stops fetching, lets the batches in flight finish publishing and commit, leaves the group, disconnects. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch((e: Error) => this.log.warn({ source: this.cfg.source, err: e.message }, 'Kafka consumer disconnect failed'));
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    this.admin = undefined;
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const commit = async (offset: string, metadata: string | null) => {
      // The payload's commit, not consumer.commitOffsets: that one is skipped once stop() began, and stop() waits
      // for this very batch.
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset, metadata } as { partition: number; offset: string }] }] });
      this.committed.set(key, offset);
    };
    const end = String(BigInt(batch.lastOffset()) + 1n);
    if (batch.messages.length === 0) {
      // Only control records (transaction markers): step over them.
      await commit(end, null);
      resolveOffset(batch.lastOffset());
      return;
    }
    let messages = batch.messages;
    const first = messages[0]!.offset;
    // Starting somewhere this process did not commit (start-up, rebalance): a crashed run may have left a marker.
    if (this.committed.get(key) !== first) {
      const pending = await this.pendingEnd(topic, partition, first);
      if (pending !== undefined) {
        const cut = messages.filter((m) => BigInt(m.offset) <= pending);
        if (cut.length > 0 && cut.length < messages.length) {
          this.log.info({ source: this.cfg.source, topic, partition, from: first, to: String(pending) }, 'replaying the range a previous run published but did not commit');
          messages = cut;
        }
      }
    }
    const last = messages[messages.length - 1]!.offset;
    const unitEnd = messages === batch.messages ? end : String(BigInt(last) + 1n);
    await commit(first, `${PENDING}${last}`);
    const records = positionedRecords(messages);
    const empty = messages.length - new Set(records.map((r) => r.offset)).size;
    if (empty > 0) countDrop(this.metrics, this.cfg.source, 'empty', empty);
    const envelopes = cutEnvelopes(records, this.cfg.maxBatchBytes);
    const window = 16;
    for (let i = 0; i < envelopes.length; i += window) {
      const outs = await Promise.all(
        envelopes.slice(i, i + window).map((env) =>
          publishRaw(
            this.js,
            this.metrics,
            { source: this.cfg.source, family: this.cfg.family, object: key, idPrefix: `kafka:${key}:${env.range}`, rawPartitions: this.cfg.rawPartitions },
            env.records.map((r) => r.bytes),
            this.cfg.maxBatchBytes,
          ),
        ),
      );
      outs.forEach((o, j) => {
        if (o.oversized > 0) {
          this.log.warn({ source: this.cfg.source, topic, partition, range: envelopes[i + j]!.range, maxBatchBytes: this.cfg.maxBatchBytes }, 'record larger than the envelope cap: not ingested');
        }
      });
      await heartbeat();
    }
    faultPoint('collector.kafka.beforeCommit');
    await commit(unitEnd, null);
    resolveOffset(String(BigInt(unitEnd) - 1n));
  }

  /** The end offset of a marker committed at `first` by a run that crashed while publishing, if any. */
  private async pendingEnd(topic: string, partition: number, first: string): Promise<bigint | undefined> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const offsets = await this.admin.fetchOffsets({ groupId: this.cfg.groupId, topics: [topic] });
    const p = offsets.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    if (!p?.metadata?.startsWith(PENDING)) return undefined;
    const endOffset = BigInt(p.metadata.slice(PENDING.length));
    return BigInt(p.offset) <= BigInt(first) && BigInt(first) <= endOffset ? endOffset : undefined;
  }

  private describe(e: Error): Error {
    const where = `Kafka source "${this.cfg.source}" (brokers ${this.cfg.brokers.join(', ')})`;
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      return new Error(`${where}: SASL ${this.cfg.sasl?.mechanism.toUpperCase() ?? ''} authentication failed for user "${this.cfg.sasl?.username ?? ''}": ${e.message}`, { cause: e });
    }
    return new Error(`${where}: ${e.message}`, { cause: e });
  }

  private kafkaLog({ level, log }: LogEntry): void {
    const { message, ...rest } = log;
    const fields = { source: this.cfg.source, kafka: rest };
    if (level === logLevel.ERROR) this.log.error(fields, `kafkajs: ${message}`);
    else if (level === logLevel.WARN) this.log.warn(fields, `kafkajs: ${message}`);
    else if (level === logLevel.INFO) this.log.info(fields, `kafkajs: ${message}`);
    else this.log.debug(fields, `kafkajs: ${message}`);
  }
}

function saslOptions(cfg: KafkaSourceConfig): SASLOptions | undefined {
  if (!cfg.sasl) return undefined;
  const { username, password, passwordFile } = cfg.sasl;
  // A secret file (Kubernetes secret, Docker secret) usually ends with a newline that is not part of the secret.
  const pw = password ?? (passwordFile ? readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '') : '');
  return { mechanism: 'plain', username, password: pw };
}
