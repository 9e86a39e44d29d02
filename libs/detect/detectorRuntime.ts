// The stateful runtime of one rule in one replica: key → partition (hash % partitions), state per owned partition,
// and per partition and input which stream sequences it reflects — a floor (every sequence at or below it) plus the
// sequences above it that were applied — so a snapshot restored anywhere re-reads exactly what it does not reflect.
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
  /**
   * input → floor: the partition reflects every sequence at or below it (restored from a snapshot, raised at each
   * snapshot by the consumer's ack floor; 0 = none). The consumer resumes after the lowest floor, not the position.
   */
  floors: Map<string, number>;
  /**
   * input → sequences above the floor that the restored snapshot reflects (ascending; applied before a message
   * below them was, e.g. one lost in flight and redelivered later). Emptied as the floor passes them.
   */
  above: Map<string, number[]>;
  /** Alerts raised from this partition's rows, not yet confirmed published (alert id → alert). */
  pending: Map<string, Alert>;
}

/**
 * The serialised form of one partition (JSON). `floors` and `aboveFloor` were added without changing `v`: a snapshot
 * without them restores with floor = position (the earlier behaviour), and an older runtime ignores them.
 */
export interface PartitionSnapshot {
  v: 1;
  rule: string;
  partition: number;
  partitions: number;
  /** input → last stream sequence applied. */
  positions: Record<string, number>;
  /** input → every sequence at or below it is reflected (absent: the position). */
  floors?: Record<string, number>;
  /**
   * input → the sequences above the floor that are reflected, ascending, delta-encoded (first minus the floor, then
   * each minus the previous). Absent or missing input: none.
   */
  aboveFloor?: Record<string, number[]>;
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

/**
 * Input sequences above the consumer's ack floor remembered per input, in a run and in a snapshot. A message lost in
 * flight and redelivered after more than this many newer messages of its input were applied is skipped (counted
 * as applied) — within a run and, for a snapshot taken meanwhile, after a restore.
 */
export const APPLIED_MEMORY = 100_000;

export class DetectorRuntime<S extends KeyState, P = unknown> {
  readonly parts = new Map<number, PartitionState<S, P>>();
  /**
   * input → sequences applied in this run above `floor`, where every sequence at or below `floor` counts as applied
   * (the consumer's ack floor: the host acks only after applying; or the highest one forgotten over
   * APPLIED_MEMORY). JetStream redelivers a message lost in flight after newer ones were applied, so "at or below
   * the position" does not mean "applied": only the sequences actually applied are skipped.
   */
  private readonly applied = new Map<string, { seqs: Set<number>; floor: number }>();

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
    return { partition: p, state: new KeyedState<S>(this.limits), local, positions: new Map(), floors: new Map(), above: new Map(), pending: new Map() };
  }

  /** Whether `input` is one of the rule's broadcast inputs (applied by every replica, no positions). */
  isBroadcast(input: string): boolean {
    return this.rule.broadcast?.inputs.includes(input) ?? false;
  }

  /**
   * Where the input's consumer must resume: after the lowest floor among owned partitions (0 = from the start).
   * Messages between a floor and its position that the partition reflects are skipped when they come again.
   */
  resumeAfter(input: string): number {
    let min = Infinity;
    for (const part of this.parts.values()) min = Math.min(min, part.floors.get(input) ?? 0);
    return min === Infinity ? 0 : min;
  }

  /**
   * The input's consumer reports ack floor `seq`: every message of the input up to it was acked, and the host acks
   * only after applying (or dead-lettering) — so all of them are reflected by every owned partition. Read it from
   * the server before a snapshot is encoded: the floor only grows, so an earlier reading stays true.
   */
  ackFloor(input: string, seq: number): void {
    const applied = this.appliedOf(input);
    if (seq <= applied.floor) return;
    applied.floor = seq;
    for (const s of applied.seqs) if (s <= seq) applied.seqs.delete(s);
  }

  private appliedOf(input: string): { seqs: Set<number>; floor: number } {
    let applied = this.applied.get(input);
    if (!applied) this.applied.set(input, (applied = { seqs: new Set(), floor: 0 }));
    return applied;
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
    const applied = this.appliedOf(input);
    const seen = applied.seqs.has(seq) || seq <= applied.floor;
    /** The partitions that already reflect `seq`: all if this run applied it, else those whose floor or restored list covers it. */
    const reflecting = new Set<PartitionState<S, P>>();
    for (const part of this.parts.values()) {
      if (seen || seq <= (part.floors.get(input) ?? 0) || sortedHas(part.above.get(input), seq)) reflecting.add(part);
    }
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
        if (reflecting.has(part)) {
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
        applied.floor = Math.max(applied.floor, oldest);
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

  /**
   * Raises the partition's floors to what this run knows is applied (the ack floor) and returns, per input, the
   * sequences above the floor that the partition reflects: this run's applied ones and the restored ones. Over
   * APPLIED_MEMORY the lowest are dropped and the floor rises to the highest dropped (see APPLIED_MEMORY).
   */
  private reflectedAboveFloors(part: PartitionState<S, P>): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const input of part.positions.keys()) {
      const applied = this.applied.get(input);
      let floor = Math.max(part.floors.get(input) ?? 0, applied?.floor ?? 0);
      const set = new Set<number>();
      for (const s of part.above.get(input) ?? []) if (s > floor) set.add(s);
      for (const s of applied?.seqs ?? []) if (s > floor) set.add(s);
      let seqs = [...set].sort((a, b) => a - b);
      if (seqs.length > APPLIED_MEMORY) {
        floor = seqs[seqs.length - APPLIED_MEMORY - 1]!;
        seqs = seqs.slice(seqs.length - APPLIED_MEMORY);
      }
      part.floors.set(input, floor);
      const restored = part.above.get(input);
      if (restored) {
        const kept = restored.filter((s) => s > floor);
        if (kept.length) part.above.set(input, kept);
        else part.above.delete(input);
      }
      if (seqs.length) out[input] = deltas(seqs, floor);
    }
    return out;
  }

  private snapshotHeader(partition: number): Omit<PartitionSnapshot, 'keys'> {
    const part = this.owned(partition);
    const aboveFloor = this.reflectedAboveFloors(part);
    return {
      v: 1,
      rule: this.rule.name,
      partition,
      partitions: this.partitions,
      positions: Object.fromEntries(part.positions),
      floors: Object.fromEntries(part.floors),
      ...(Object.keys(aboveFloor).length ? { aboveFloor } : {}),
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
      // A snapshot without floors (older format) reflects everything up to its positions.
      const floor = snap.floors ? (snap.floors[i] ?? 0) : s;
      fresh.floors.set(i, floor);
      const d = snap.aboveFloor?.[i];
      if (d?.length) fresh.above.set(i, undeltas(d, floor));
    }
    for (const a of snap.pending) fresh.pending.set(a.alert_id, a);
    if (this.rule.partitionState && snap.local !== undefined) fresh.local = this.rule.partitionState.decode(snap.local);
    this.parts.set(snap.partition, fresh);
  }
}

/** Whether ascending `sorted` holds `x` (binary search). */
function sortedHas(sorted: readonly number[] | undefined, x: number): boolean {
  if (!sorted) return false;
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Ascending sequences above `base` as gaps (small numbers: a compact snapshot). */
function deltas(ascending: readonly number[], base: number): number[] {
  const out: number[] = [];
  let prev = base;
  for (const s of ascending) {
    out.push(s - prev);
    prev = s;
  }
  return out;
}

function undeltas(d: readonly number[], base: number): number[] {
  const out: number[] = [];
  let prev = base;
  for (const x of d) out.push((prev += x));
  return out;
}
