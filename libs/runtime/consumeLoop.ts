// The actor loop: pull from a durable consumer, handle with bounded concurrency, publish outputs with derived ids,
// ack only after every PubAck; retry infrastructure errors with backoff; dead-letter what cannot be processed.
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { CommonConfig } from './config.ts';
import { fromNatsHeaders, H, type HeaderMap } from './envelope.ts';
import { FatalStageError, NonRetryableError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { outputMsgId, publishAll, type OutputMessage } from './publisher.ts';
import { subjects } from './topology.ts';

export interface InputMessage {
  subject: string;
  data: Uint8Array;
  headers: HeaderMap;
  stream: string;
  /** Stream sequence: the input's identity, used in output ids and lineage. */
  seq: number;
  deliveryCount: number;
}

export type Handler = (msg: InputMessage) => Promise<OutputMessage[]>;

export interface LoopOptions {
  stage: string;
  js: JetStreamClient;
  consumer: Consumer;
  stream: string;
  handler: Handler;
  cfg: CommonConfig['consumer'];
  maxInFlight?: number;
  /** Shared by the loops of a process: bytes of messages in flight at most (a sink holding messages until commit). */
  inFlightBytes?: InFlightBytes;
  log: Logger;
  metrics: Metrics;
  onFatal: (e: Error) => void;
}

/**
 * Bytes of input messages in flight, shared by the loops of one process. A loop whose next message would go over
 * `limit` waits before taking it: it stops draining its iterator and so stops pulling (the client pulls more only
 * as the iterator is drained), which bounds the process's message buffers across all its inputs, where maxInFlight
 * bounds only a count per input. A message larger than the limit alone is taken when nothing else is held.
 * `onFull` runs whenever a loop starts waiting (the sink flushes its largest buffer then, so waiting ends).
 */
export class InFlightBytes {
  private held = 0;
  private waiters: (() => void)[] = [];
  constructor(
    readonly limit: number,
    private readonly onFull?: () => void,
  ) {}

  get bytes(): number {
    return this.held;
  }

  /** Waits until `n` more bytes fit (or `stopped()`); then counts them unless stopped. Resolves whether it counted. */
  async acquire(n: number, stopped: () => boolean): Promise<boolean> {
    while (this.held > 0 && this.held + n > this.limit && !stopped()) {
      this.onFull?.();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (stopped()) return false;
    this.held += n;
    return true;
  }

  release(n: number): void {
    this.held -= n;
    this.wake();
  }

  /** Every waiter re-checks (after a release, or when a loop stops). */
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}

export class ConsumeLoop {
  private messages: ConsumerMessages | undefined;
  private readonly inFlight = new Set<JsMsg>();
  private readonly waiters: (() => void)[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly o: LoopOptions) {}

  start(): void {
    this.done = this.run();
    // A loop that dies while running stops the stage (logged, non-zero exit) instead of an unhandled rejection.
    this.done.catch((e: Error) => {
      if (this.stopped) return;
      this.o.log.error({ err: e.message }, 'consume loop failed');
      this.stopped = true;
      this.o.onFatal(e);
    });
  }

  /** Stop fetching new messages; in-flight ones continue. */
  async stopFetching(): Promise<void> {
    this.stopped = true;
    this.o.inFlightBytes?.wake();
    await this.messages?.close().catch(() => undefined);
    // The iterator may end with an error once closed (heartbeats, draining): stopping is what we asked for.
    await this.done?.catch((e: Error) => this.o.log.warn({ err: e.message }, 'consume loop ended with an error while stopping'));
  }

  /** Resolves when every in-flight message has been acked, nak'ed or dead-lettered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    await this.stopFetching();
    await this.idle();
  }

  private async run(): Promise<void> {
    const limit = this.o.maxInFlight ?? this.o.cfg.maxInFlight;
    // Heartbeats keep long-held messages (a sink buffering until its commit) from being redelivered meanwhile.
    const beat = setInterval(() => {
      for (const m of this.inFlight) m.working();
    }, Math.max(1000, (this.o.cfg.ackWaitSeconds * 1000) / 3));
    try {
      this.messages = await this.o.consumer.consume({ max_messages: Math.min(this.o.cfg.fetchBatch, limit) });
      for await (const m of this.messages) {
        if (this.stopped) break;
        while (this.inFlight.size >= limit) await new Promise<void>((r) => this.waiters.push(r));
        // In the in-flight set (so heartbeats keep it) while it waits for room; left unacked when stopping meanwhile.
        this.inFlight.add(m);
        const size = m.data.length;
        if (this.o.inFlightBytes && !(await this.o.inFlightBytes.acquire(size, () => this.stopped))) {
          this.inFlight.delete(m);
          break;
        }
        this.o.metrics.inFlight.set(this.inFlight.size);
        void this.process(m).finally(() => {
          this.o.inFlightBytes?.release(size);
          this.inFlight.delete(m);
          this.o.metrics.inFlight.set(this.inFlight.size);
          this.waiters.shift()?.();
        });
      }
    } finally {
      clearInterval(beat);
    }
  }

  private async process(m: JsMsg): Promise<void> {
    const { stage, js, metrics, log } = this.o;
    const started = performance.now();
    const input: InputMessage = {
      subject: m.subject,
      data: m.data,
      headers: fromNatsHeaders(m.headers),
      stream: this.o.stream,
      seq: m.seq,
      deliveryCount: m.info.deliveryCount,
    };
    metrics.batchesIn.inc();
    metrics.recordsIn.inc(Number(input.headers[H.count] ?? 1));
    try {
      const outputs = await this.o.handler(input);
      const ids = outputs.map((o, i) => o.msgId ?? outputMsgId(stage, this.o.stream, m.seq, i));
      await publishAll(js, outputs, ids);
      countOutputs(metrics, outputs);
      await m.ackAck();
      metrics.handlerSeconds.observe((performance.now() - started) / 1000);
    } catch (e) {
      const err = e as Error;
      if (err instanceof FatalStageError) {
        metrics.errors.inc({ kind: 'fatal' });
        log.fatal({ err: err.message, subject: m.subject, seq: m.seq }, 'stage stopped by a fatal error; the input stays unacked');
        this.stopped = true;
        this.o.onFatal(err);
        return;
      }
      const last = m.info.deliveryCount >= this.o.cfg.maxDeliver;
      if (err instanceof NonRetryableError || last) {
        try {
          await this.deadLetter(input, err, last ? 'max_deliver' : 'non_retryable');
          // A bare +TERM: servers up to 2.10.0 ignore "+TERM <reason>" entirely (no term, redelivery after ack_wait).
          // The reason travels in the DLQ message's headers instead.
          m.term();
        } catch (dlqErr) {
          metrics.errors.inc({ kind: 'publish' });
          log.error({ err: (dlqErr as Error).message, seq: m.seq }, 'dead-letter publish failed; input left for redelivery');
          m.nak(5000);
        }
        return;
      }
      metrics.errors.inc({ kind: 'retryable' });
      const backoff = this.o.cfg.backoffSeconds;
      const delay = (backoff[Math.min(m.info.deliveryCount - 1, backoff.length - 1)] ?? 1) * 1000;
      log.warn({ err: err.message, subject: m.subject, seq: m.seq, delivery: m.info.deliveryCount, retryInMs: delay }, 'handler failed; will retry');
      m.nak(delay);
    }
  }

  /** The original bytes go to `dlq.<stage>` with the error and where they came from; then the input is terminated. */
  private async deadLetter(input: InputMessage, err: Error, why: string): Promise<void> {
    const { stage, js, metrics, log } = this.o;
    metrics.errors.inc({ kind: 'dead_lettered' });
    log.error({ err: err.message, subject: input.subject, seq: input.seq, why }, 'dead-lettering input');
    const out: OutputMessage = {
      subject: subjects.dlq(stage),
      data: input.data,
      records: Number(input.headers[H.count] ?? 1),
      headers: {
        ...input.headers,
        [H.error]: `${why}: ${err.message}`.slice(0, 1000),
        [H.stage]: stage,
        [H.origSubject]: input.subject,
        [H.origSeq]: String(input.seq),
      },
    };
    // If the DLQ publish itself fails we must not term: leave the message for redelivery.
    await publishAll(js, [out], [`dlq:${stage}:${input.stream}:${input.seq}`]);
  }
}

function countOutputs(metrics: Metrics, outputs: OutputMessage[]): void {
  for (const o of outputs) {
    const stream = o.subject.split('.', 1)[0] ?? '';
    metrics.recordsOut.inc({ stream }, o.records);
    metrics.batchesOut.inc({ stream });
  }
}
