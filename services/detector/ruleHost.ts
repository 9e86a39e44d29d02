// Runs one stateful rule in this replica: restores its owned partitions from KV, republishes alerts that were
// pending at the snapshot, then reads each input through its own durable consumer (resumed after the lowest floor
// of the restored partitions), strictly in stream order: apply → publish alerts (PubAck) → ack.
// A publish that fails is retried in place, never skipped, so the consumer never moves past an unpublished alert.
// Because acks follow applies, each consumer's ack floor bounds what is surely applied: it is read before every
// snapshot and becomes the snapshot's floor (a message lost in flight, still unacked, is re-read after a restart).
// Snapshots every `intervalSeconds` or `everyBatches`, and at stop.
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { ensureConsumer, fromNatsHeaders, H, publishAll, STREAMS, subjects, type CommonConfig, type Logger, type Metrics, type OutputMessage } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { DetectorRuntime, ipcBatch, MESSAGE_TIME_FIELD, objectBatch, type DetectionRule, type EventBatch, type KeyState, type StateLimits } from '@sluice/detect';
import type { DetectorMetrics } from './detectorMetrics.ts';
import type { SharedDecode } from './sharedDecode.ts';
import type { SnapshotManifest, SnapshotStore } from './snapshotStore.ts';

export interface RuleHostOptions<S extends KeyState> {
  stage: string;
  rule: DetectionRule<S>;
  partitions: number;
  owned: number[];
  replica: number;
  limits: StateLimits;
  snapshot: { intervalSeconds: number; everyBatches: number };
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: SnapshotStore;
  consumer: CommonConfig['consumer'];
  log: Logger;
  metrics: Metrics;
  dm: DetectorMetrics;
  /**
   * Rules with broadcast inputs: loads their rule-wide state (e.g. the iocs Delta table) and returns the stream time
   * from which the broadcast inputs are read after it (null = from the stream's start).
   */
  broadcastLoad?: () => Promise<Date | null>;
  /** Decodes shared with the other hosts reading the same inputs (one decode per message); absent = own decodes. */
  sharedDecode?: SharedDecode;
}

class Stopping extends Error {}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The bus message of one emitted alert, or of one gold table row when the rule emits `table` rows. */
export function toOutput(a: Alert, table?: string): OutputMessage {
  const headers = { [H.encoding]: 'ndjson', [H.count]: '1', [H.source]: a.evidence[0]?.source ?? '', [H.object]: a.evidence[0]?.object ?? '' };
  if (table) return { subject: subjects.gold(table), data: enc.encode(JSON.stringify(a.detail) + '\n'), records: 1, msgId: `gold:${table}:${a.alert_id}`, headers };
  return { subject: subjects.alerts(a.rule), data: enc.encode(JSON.stringify(a) + '\n'), records: 1, msgId: `alert:${a.alert_id}`, headers };
}

export function durableName(rule: string, input: string, replica: number): string {
  return `detector-${rule}-${input}-r${replica}`;
}

export class RuleHost<S extends KeyState> {
  readonly runtime: DetectorRuntime<S>;
  private readonly loops: { input: string; durable: string; messages?: ConsumerMessages; done?: Promise<void> }[] = [];
  /** The stream the keyed inputs are read from (set by start). */
  private stream = '';
  private stopped = false;
  private batchesSinceSnapshot = 0;
  private lastSnapshot = Date.now();
  private snapshotting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: RuleHostOptions<S>) {
    this.runtime = new DetectorRuntime(o.rule, o.partitions, o.owned, o.limits);
    const rule = o.rule.name;
    o.dm.stateKeys.set({ rule }, 0);
    o.dm.snapshotAge.set({ rule }, 0);
  }

  get name(): string {
    return this.o.rule.name;
  }

  /** Loads every owned partition's snapshot (a partition without one starts empty, from the stream's start). */
  async restore(): Promise<void> {
    const { rule, partitions, owned, store, log } = this.o;
    for (const p of owned) {
      const loaded = await store.load(rule.name, partitions, p);
      if (!loaded) {
        log.info({ rule: rule.name, partition: p }, 'no snapshot: partition starts empty');
        continue;
      }
      this.runtime.restore(loaded.snapshot);
      log.info(
        { rule: rule.name, partition: p, taken: loaded.manifest.taken, keys: loaded.manifest.keys, positions: loaded.manifest.positions, floors: loaded.snapshot.floors ?? loaded.manifest.positions, pending: loaded.snapshot.pending.length },
        'partition restored from snapshot',
      );
    }
    this.lastSnapshot = Date.now();
    this.o.dm.stateKeys.set({ rule: rule.name }, this.runtime.keyCount());
  }

  /** Publishes alerts the snapshot says were raised but maybe not published (duplicates are dropped by id). */
  async publishPending(): Promise<void> {
    const pending = this.runtime.pending();
    if (pending.length === 0) return;
    await this.publish(pending);
    this.runtime.confirm(pending);
    this.o.log.info({ rule: this.name, alerts: pending.length }, 'republished alerts pending at the snapshot');
  }

  async start(): Promise<void> {
    const { rule, replica, jsm, js, consumer } = this.o;
    const stream = rule.reads === 'quarantine' ? STREAMS.quarantine.name : rule.reads === 'quality' ? STREAMS.quality.name : STREAMS.events.name;
    this.stream = stream;
    if (rule.broadcast) await this.startBroadcast(stream, rule.broadcast.inputs);
    for (const input of rule.inputs) {
      const durable = durableName(rule.name, input, replica);
      this.o.sharedDecode?.register(input);
      const filterSubject = rule.reads === 'quarantine' ? 'quarantine.>' : rule.reads === 'quality' ? 'quality.>' : subjects.eventsAllPartitions(input);
      const resumeAfterSeq = this.runtime.resumeAfter(input);
      // The snapshot, not the consumer, owns the position: recreate the durable to deliver after its floor, in order
      // (the new durable's ack floor starts there).
      await ensureConsumer(jsm, { stream, durable, filterSubject, description: `sluice detector ${rule.name} r${replica}`, resumeAfterSeq }, consumer);
      const c = await js.consumers.get(stream, durable);
      const loop: (typeof this.loops)[number] = { input, durable };
      loop.messages = await c.consume({ max_messages: consumer.fetchBatch });
      loop.done = this.run(input, loop.messages).catch((e: Error) => {
        if (!(e instanceof Stopping)) this.o.log.error({ rule: rule.name, input, err: e.message }, 'detector input loop failed');
      });
      this.loops.push(loop);
      this.o.log.info({ rule: rule.name, stream, durable, filter: filterSubject, resumeAfterSeq }, 'consuming');
    }
    this.timer = setInterval(() => {
      this.o.dm.snapshotAge.set({ rule: rule.name }, (Date.now() - this.lastSnapshot) / 1000);
      if (Date.now() - this.lastSnapshot >= this.o.snapshot.intervalSeconds * 1000 && this.batchesSinceSnapshot > 0) void this.snapshot();
      for (const l of this.loops) {
        if (!l.durable) continue;
        jsm.consumers
          .info(stream, l.durable)
          .then((info) => {
            this.o.metrics.consumerPending.set({ consumer: l.durable }, info.num_pending);
            // Also keeps the run's memory of applied sequences down to those above the ack floor.
            this.runtime.ackFloor(l.input, info.ack_floor.stream_seq);
          })
          .catch(() => undefined);
      }
    }, 1000);
    this.timer.unref();
  }

  /**
   * Broadcast inputs: every replica reads them in full through an ordered (ephemeral) consumer, after the loader
   * built the state from the table. Resolves once the consumer has caught up with the stream, so the keyed inputs
   * start against complete rule-wide state (e.g. every indicator).
   */
  private async startBroadcast(stream: string, inputs: readonly string[]): Promise<void> {
    const from = this.o.broadcastLoad ? await this.o.broadcastLoad() : null;
    for (const input of inputs) {
      const c = await this.o.js.consumers.get(stream, {
        filter_subjects: [subjects.eventsAllPartitions(input)],
        ...(from ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() } : { deliver_policy: DeliverPolicy.All }),
      });
      const pending = (await c.info()).num_pending;
      const messages = await c.consume({ max_messages: this.o.consumer.fetchBatch });
      let caughtUp!: () => void;
      const ready = new Promise<void>((r) => (caughtUp = r));
      if (pending === 0) caughtUp();
      const loop: (typeof this.loops)[number] = { input, durable: '', messages };
      loop.done = (async () => {
        let rows = 0;
        for await (const m of messages) {
          if (this.stopped) break;
          try {
            rows += this.runtime.apply(input, m.seq, this.decode(input, m)).rows;
          } catch (e) {
            this.o.metrics.errors.inc({ kind: 'broadcast' });
            this.o.log.error({ rule: this.name, input, seq: m.seq, err: (e as Error).message }, 'broadcast input message skipped');
          }
          if (m.info.pending === 0) caughtUp();
        }
        this.o.log.info({ rule: this.name, input, rows }, 'broadcast input closed');
      })().catch((e: Error) => this.o.log.error({ rule: this.name, input, err: e.message }, 'broadcast input loop failed'));
      this.loops.push(loop);
      await ready;
      this.o.log.info({ rule: this.name, input, from: from?.toISOString() ?? 'start', pendingAtStart: pending }, 'broadcast input caught up');
    }
  }

  durables(): string[] {
    return this.loops.filter((l) => l.durable).map((l) => l.durable);
  }

  private async run(input: string, messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopped) break;
      await this.handle(input, m);
    }
  }

  private async handle(input: string, m: JsMsg): Promise<void> {
    const rule = this.o.rule.name;
    let alerts: Alert[];
    try {
      const res = this.runtime.apply(input, m.seq, this.decodeShared(input, m));
      alerts = res.alerts;
      this.o.dm.rows.inc({ rule, outcome: 'seen' }, res.rows);
      if (res.notOwned) this.o.dm.rows.inc({ rule, outcome: 'not_owned' }, res.notOwned);
      if (res.replayed) this.o.dm.rows.inc({ rule, outcome: 'replayed' }, res.replayed);
    } catch (e) {
      await this.deadLetter(input, m, e as Error);
      return;
    }
    if (alerts.length) {
      await this.publish(alerts, m);
      this.runtime.confirm(alerts);
      this.o.dm.alerts.inc({ rule }, alerts.length);
    }
    m.ack();
    this.o.metrics.batchesIn.inc();
    this.o.dm.stateKeys.set({ rule }, this.runtime.keyCount());
    if (++this.batchesSinceSnapshot >= this.o.snapshot.everyBatches) void this.snapshot();
  }

  /** The keyed inputs' batches: decoded once per message for every host reading the input (arrowBatch is read-only). */
  private decodeShared(input: string, m: JsMsg): EventBatch {
    const shared = this.o.sharedDecode;
    if (!shared || this.o.rule.reads !== 'events') return this.decode(input, m);
    const before = shared.stats.shared;
    const batch = shared.get(this.stream, m.seq, input, () => this.decode(input, m));
    this.o.dm.decodes.inc({ outcome: shared.stats.shared > before ? 'shared' : 'decoded' });
    return batch;
  }

  private decode(input: string, m: JsMsg): EventBatch {
    const headers = fromNatsHeaders(m.headers);
    // NDJSON inputs (quarantine records, quality stats): each row gets its message's stream time.
    if (this.o.rule.reads === 'quarantine' || this.o.rule.reads === 'quality') {
      const msgTime = Math.floor(m.info.timestampNanos / 1e6);
      const rows = dec
        .decode(m.data)
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => ({ ...(JSON.parse(l) as Record<string, unknown>), [MESSAGE_TIME_FIELD]: msgTime }));
      return objectBatch(input, rows);
    }
    if (headers[H.encoding] !== 'arrow-ipc') throw new Error(`detector expects arrow-ipc envelopes, got ${headers[H.encoding] ?? 'none'}`);
    // Only the columns the rule reads are decoded (ipcBatch), shared with the other hosts reading the table.
    return ipcBatch(input, m.data);
  }

  /**
   * One message per alert on alerts.<rule>, msg id = alert id (a table-emitting rule: its row, the alert's detail,
   * on gold.<table>); retried in place until acknowledged or stopping.
   */
  private async publish(alerts: Alert[], m?: JsMsg): Promise<void> {
    const outputs: OutputMessage[] = alerts.map((a) => toOutput(a, this.o.rule.emitsTable));
    const backoff = this.o.consumer.backoffSeconds;
    for (let attempt = 0; ; attempt++) {
      try {
        await publishAll(this.o.js, outputs, outputs.map((o) => o.msgId!));
        this.o.metrics.recordsOut.inc({ stream: this.o.rule.emitsTable ? 'gold' : 'alerts' }, outputs.length);
        return;
      } catch (e) {
        if (this.stopped) throw new Stopping('stopping with alerts unpublished (kept pending in the snapshot)');
        this.o.metrics.errors.inc({ kind: 'publish' });
        const delay = (backoff[Math.min(attempt, backoff.length - 1)] ?? 1) * 1000;
        this.o.log.warn({ rule: this.name, err: (e as Error).message, retryInMs: delay }, 'alert publish failed; retrying');
        m?.working();
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async deadLetter(input: string, m: JsMsg, err: Error): Promise<void> {
    this.o.metrics.errors.inc({ kind: 'dead_lettered' });
    this.o.log.error({ rule: this.name, input, seq: m.seq, err: err.message }, 'dead-lettering input');
    const headers = fromNatsHeaders(m.headers);
    const out: OutputMessage = {
      subject: subjects.dlq(this.o.stage),
      data: m.data,
      records: Number(headers[H.count] ?? 1),
      headers: { ...headers, [H.error]: `non_retryable: ${err.message}`.slice(0, 1000), [H.stage]: this.o.stage, [H.origSubject]: m.subject, [H.origSeq]: String(m.seq) },
    };
    try {
      await publishAll(this.o.js, [out], [`dlq:${this.o.stage}:${this.name}:${m.seq}`]);
      m.term();
    } catch {
      m.nak(5000);
    }
  }

  /**
   * Reads each keyed input's ack floor into the runtime. Must run before partitions are encoded: everything at or
   * below the floor was acked, so applied, before the reading (acks follow applies), and the floor only grows. A
   * failed reading keeps the last one: the snapshot then lists more applied sequences above an older floor.
   */
  private async readAckFloors(): Promise<void> {
    for (const l of this.loops) {
      if (!l.durable) continue;
      try {
        const info = await this.o.jsm.consumers.info(this.stream, l.durable);
        this.runtime.ackFloor(l.input, info.ack_floor.stream_seq);
      } catch (e) {
        this.o.metrics.errors.inc({ kind: 'ack_floor' });
        this.o.log.warn({ rule: this.name, durable: l.durable, err: (e as Error).message }, 'ack floor not read; the snapshot keeps the last one');
      }
    }
  }

  /** Captures and writes every owned partition; concurrent calls share one run. */
  snapshot(): Promise<void> {
    this.snapshotting ??= (async () => {
      const started = Date.now();
      this.batchesSinceSnapshot = 0;
      const rule = this.name;
      try {
        await this.readAckFloors();
        // Each partition carries its own positions, so partitions need not be cut at the same instant: capture one
        // at a time (synchronously, so it is consistent) and let the loops run in between (a million users in one
        // replica is ~16 × 0.2–1 s of JSON work; all at once would stall the event loop for seconds).
        const writes: Promise<SnapshotManifest>[] = [];
        for (const p of [...this.runtime.parts.keys()]) {
          const write = this.o.store.saveNow(this.runtime as DetectorRuntime<KeyState>, p);
          // Handled now: a write failing while the loop yields (a KV timeout under load) would otherwise be an
          // unhandled rejection that kills the process; Promise.all below still reports it.
          write.catch(() => undefined);
          writes.push(write);
          await new Promise((r) => setImmediate(r));
        }
        const manifests = await Promise.all(writes);
        this.lastSnapshot = started;
        this.o.dm.snapshotAge.set({ rule }, 0);
        this.o.dm.snapshotBytes.set({ rule }, manifests.reduce((n, m) => n + m.bytes, 0));
        this.o.dm.snapshotSeconds.set({ rule }, (Date.now() - started) / 1000);
        let evicted = 0;
        for (const part of this.runtime.parts.values()) evicted += part.state.evicted;
        this.o.dm.evicted.set({ rule }, evicted);
        this.o.log.debug({ rule, partitions: manifests.length, bytes: manifests.reduce((n, m) => n + m.bytes, 0), ms: Date.now() - started }, 'snapshot written');
      } catch (e) {
        this.o.log.error({ rule, err: (e as Error).message }, 'snapshot failed; state is kept and the next one retries');
        this.o.metrics.errors.inc({ kind: 'snapshot' });
      } finally {
        this.snapshotting = undefined;
      }
    })();
    return this.snapshotting;
  }

  /** Stops reading (the message in hand finishes), then writes a final snapshot. */
  async stop(opts: { snapshot?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.loops.map((l) => l.messages?.close().catch(() => undefined)));
    await Promise.all(this.loops.map((l) => l.done));
    await this.snapshotting;
    if (opts.snapshot ?? true) await this.snapshot();
  }
}
