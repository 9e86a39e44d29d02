// The stateful runtime of one rule in one replica: key → partition (hash % partitions), state per owned partition,
// and per partition the last input sequence it reflects, so a snapshot restored anywhere resumes exactly after it.
//
// Events are partitioned on the bus by sequence, not by key, so every replica reads every event of its inputs and
// ignores rows whose key hashes to a partition it does not own (read amplification = replicas; see
// docs/DETECTIONS.md). Alerts raised but not yet confirmed published are `pending` and travel in the snapshot.
import type { Alert } from '@sluice/slack';
import type { EventBatch } from './eventBatch.ts';
import { KeyedState } from './keyedState.ts';
import { partitionOfKey } from './partitioning.ts';
import { encodeSnapshotPages } from './snapshotCodec.ts';
import type { DetectionRule, KeyState, StateLimits } from './rule.ts';

export interface PartitionState<S extends KeyState, P = unknown> {
  partition: number;
  state: KeyedState<S>;
  /** The rule's per-partition state (`partitionState` hooks), else undefined. */
  local: P;
  /** input → last stream sequence applied to this partition. */
  positions: Map<string, number>;
  /** input → the position restored from a snapshot (0 = none): what the snapshot covers, unseen by this run. */
  floors: Map<string, number>;
  /** Alerts raised from this partition's rows, not yet confirmed published (alert id → alert). */
  pending: Map<string, Alert>;
}

/** The serialised form of one partition (JSON). */
export interface PartitionSnapshot {
  v: 1;
  rule: string;
  partition: number;
  partitions: number;
  positions: Record<string, number>;
  watermark: number;
  sweptHour: number;
  /** Keys in LRU order (least recently touched first) with their encoded state. */
  keys: [string, unknown][];
  pending: Alert[];
  /** The rule's per-partition state, encoded (rules with `partitionState`). */
  local?: unknown;
}

export interface ApplyResult {
  alerts: Alert[];
  rows: number;
  /** Rows whose key another replica owns. */
  notOwned: number;
  /** Rows skipped because the partition's snapshot already reflects this sequence. */
  replayed: number;
}

/** Input sequences applied in this run that are remembered per input (a late redelivery older than that is skipped). */
const APPLIED_MEMORY = 100_000;

export class DetectorRuntime<S extends KeyState, P = unknown> {
  readonly parts = new Map<number, PartitionState<S, P>>();
  /**
   * input → sequences applied in this run, and the highest one forgotten. JetStream redelivers a message lost in
   * flight after newer ones were applied, so "at or below the position" does not mean "applied": in this run only
   * the sequences actually applied are skipped.
   */
  private readonly applied = new Map<string, { seqs: Set<number>; forgotten: number }>();

  constructor(
    readonly rule: DetectionRule<S, P>,
    readonly partitions: number,
    owned: readonly number[],
    private readonly limits: StateLimits,
  ) {
    for (const p of owned) this.parts.set(p, this.emptyPartition(p));
  }

  private emptyPartition(p: number): PartitionState<S, P> {
    const local = this.rule.partitionState?.create() as P;
    return { partition: p, state: new KeyedState<S>(this.limits), local, positions: new Map(), floors: new Map(), pending: new Map() };
  }

  /** Whether `input` is one of the rule's broadcast inputs (applied by every replica, no positions). */
  isBroadcast(input: string): boolean {
    return this.rule.broadcast?.inputs.includes(input) ?? false;
  }

  /** Where the input's consumer must resume: after the lowest position among owned partitions (0 = from the start). */
  resumeAfter(input: string): number {
    let min = Infinity;
    for (const part of this.parts.values()) min = Math.min(min, part.positions.get(input) ?? 0);
    return min === Infinity ? 0 : min;
  }

  /**
   * Applies one input message (stream sequence `seq`) to the owned partitions and returns the alerts it raised.
   * Synchronous: state and positions change atomically with respect to snapshots.
   */
  apply(input: string, seq: number, batch: EventBatch, now = new Date()): ApplyResult {
    const res: ApplyResult = { alerts: [], rows: batch.numRows, notOwned: 0, replayed: 0 };
    if (this.rule.broadcast && this.isBroadcast(input)) {
      this.rule.broadcast.apply(batch);
      return res;
    }
    let applied = this.applied.get(input);
    if (!applied) this.applied.set(input, (applied = { seqs: new Set(), forgotten: 0 }));
    const seen = applied.seqs.has(seq) || seq <= applied.forgotten;
    /** Whether a partition already reflects `seq`: its snapshot covers it, or this run applied it. */
    const reflects = (part: PartitionState<S, P>) => (part.positions.get(input) ?? 0) >= seq && (seen || (part.floors.get(input) ?? 0) >= seq);
    const prepared = this.rule.prepare(batch);
    const nowIso = now.toISOString();
    let current: PartitionState<S, P> | undefined;
    const ctx = {
      nowIso,
      local: undefined as P,
      emit: (a: Alert) => {
        res.alerts.push(a);
        current?.pending.set(a.alert_id, a);
      },
    };
    if (prepared) {
      for (let r = 0; r < batch.numRows; r++) {
        const key = prepared.key(r);
        if (key === null) continue;
        const part = this.parts.get(partitionOfKey(key, this.partitions));
        if (!part) {
          res.notOwned++;
          continue;
        }
        if (reflects(part)) {
          res.replayed++;
          continue;
        }
        current = part;
        ctx.local = part.local;
        const t = prepared.eventTimeMs(r);
        part.state.observe(t);
        part.state.put(key, prepared.apply(part.state.get(key), r, ctx));
      }
    }
    if (!seen) {
      applied.seqs.add(seq);
      if (applied.seqs.size > APPLIED_MEMORY) {
        // Sets iterate in insertion order: drop the oldest.
        const oldest = applied.seqs.values().next().value as number;
        applied.seqs.delete(oldest);
        applied.forgotten = Math.max(applied.forgotten, oldest);
      }
    }
    const after = this.rule.partitionState?.afterBatch;
    for (const part of this.parts.values()) {
      if ((part.positions.get(input) ?? 0) < seq) part.positions.set(input, seq);
      part.state.evict();
      if (after) {
        current = part;
        ctx.local = part.local;
        after(part.local, ctx);
      }
    }
    return res;
  }

  /** The alerts were published (PubAck): they no longer need to travel in snapshots. */
  confirm(alerts: readonly Alert[]): void {
    for (const a of alerts) for (const part of this.parts.values()) part.pending.delete(a.alert_id);
  }

  /** Alerts raised but not confirmed (restored from a snapshot, or in flight). */
  pending(): Alert[] {
    return [...this.parts.values()].flatMap((p) => [...p.pending.values()]);
  }

  keyCount(): number {
    let n = 0;
    const size = this.rule.partitionState?.size;
    for (const p of this.parts.values()) n += p.state.size + (size ? size(p.local) : 0);
    return n;
  }

  snapshot(partition: number): PartitionSnapshot {
    const keys: [string, unknown][] = [];
    for (const kv of this.encodedKeys(partition)) keys.push(kv);
    return { ...this.snapshotHeader(partition), keys };
  }

  /** The partition's snapshot as bytes (see snapshotCodec), without materialising all keys at once. */
  encodeSnapshot(partition: number): { bytes: Uint8Array; header: Omit<PartitionSnapshot, 'keys'>; keys: number } {
    const header = this.snapshotHeader(partition);
    return { bytes: encodeSnapshotPages(header, this.encodedKeys(partition)), header, keys: this.parts.get(partition)!.state.size };
  }

  private *encodedKeys(partition: number): Generator<[string, unknown]> {
    for (const [k, s] of this.owned(partition).state.map) yield [k, this.rule.encodeState(s)];
  }

  private owned(partition: number): PartitionState<S, P> {
    const part = this.parts.get(partition);
    if (!part) throw new Error(`partition ${partition} of ${this.rule.name} is not owned here`);
    return part;
  }

  private snapshotHeader(partition: number): Omit<PartitionSnapshot, 'keys'> {
    const part = this.owned(partition);
    return {
      v: 1,
      rule: this.rule.name,
      partition,
      partitions: this.partitions,
      positions: Object.fromEntries(part.positions),
      watermark: part.state.watermark,
      sweptHour: part.state.sweptHour,
      pending: [...part.pending.values()],
      ...(this.rule.partitionState ? { local: this.rule.partitionState.encode(part.local) } : {}),
    };
  }

  /** Replaces an owned partition's state with a snapshot taken by any replica. */
  restore(snap: PartitionSnapshot): void {
    if (snap.v !== 1) throw new Error(`unsupported snapshot version ${String(snap.v)}`);
    if (snap.rule !== this.rule.name || snap.partitions !== this.partitions) {
      throw new Error(`snapshot of ${snap.rule} with ${snap.partitions} partitions does not fit ${this.rule.name} with ${this.partitions}`);
    }
    const part = this.parts.get(snap.partition);
    if (!part) throw new Error(`partition ${snap.partition} of ${this.rule.name} is not owned here`);
    const fresh = this.emptyPartition(snap.partition);
    for (const [k, v] of snap.keys) fresh.state.map.set(k, this.rule.decodeState(v));
    fresh.state.watermark = snap.watermark;
    fresh.state.sweptHour = snap.sweptHour;
    for (const [i, s] of Object.entries(snap.positions)) {
      fresh.positions.set(i, s);
      fresh.floors.set(i, s);
    }
    for (const a of snap.pending) fresh.pending.set(a.alert_id, a);
    if (this.rule.partitionState && snap.local !== undefined) fresh.local = this.rule.partitionState.decode(snap.local);
    this.parts.set(snap.partition, fresh);
  }
}
