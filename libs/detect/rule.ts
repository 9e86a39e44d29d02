// What a detection rule declares to the stateful runtime: the inputs it reads, a key per row (the entity whose
// state the row touches: user, device, table…), and how one row changes that key's state and which alerts it raises.
import type { Alert } from '@sluice/slack';
import type { EventBatch } from './eventBatch.ts';

/** Per-key state: `t` is the event time (epoch ms) the key was last touched; TTL eviction reads it. */
export interface KeyState {
  t: number;
}

export interface ApplyContext<P = unknown> {
  /** Raise an alert (its id must be deterministic: rule + entity key). */
  emit(alert: Alert): void;
  /** ISO time stamped on alerts as created_time. */
  readonly nowIso: string;
  /** The partition's own state (rules with `partitionState`; undefined otherwise). */
  readonly local: P;
}

/** A batch prepared by a rule: columns resolved once, then row by row. */
export interface PreparedBatch<S extends KeyState, P = unknown> {
  /** The key of row r, or null when the row is irrelevant to the rule (filtered out). */
  key(r: number): string | null;
  /** Event time of row r in epoch ms. */
  eventTimeMs(r: number): number;
  /** New state of the row's key after row r (undefined deletes the key). `prev` is undefined for a new key. */
  apply(prev: S | undefined, r: number, ctx: ApplyContext<P>): S | undefined;
}

/**
 * Inputs whose rows every replica applies to rule-wide state, whatever partitions it owns (the `iocs` table: every
 * replica needs the whole indicator index). No positions: the rule's host rebuilds that state at start.
 */
export interface BroadcastInput {
  readonly inputs: readonly string[];
  /** Applies one batch; returns the number of rows taken. */
  apply(batch: EventBatch): number;
}

/**
 * State a partition holds beside its keys (a join with its own watermark), snapshotted with the partition.
 * `afterBatch` runs for every owned partition after each input message: advance a watermark, emit what expired.
 */
export interface PartitionHooks<P> {
  create(): P;
  afterBatch?(local: P, ctx: ApplyContext<P>): void;
  encode(local: P): unknown;
  decode(v: unknown): P;
  /** Entries held (reported with the key count). */
  size?(local: P): number;
}

export interface DetectionRule<S extends KeyState, P = unknown> {
  readonly name: string;
  /** Where the rule reads: enriched events of tables, quarantine records, or the parser's quality stats (QUALITY). */
  readonly reads: 'events' | 'quarantine' | 'quality';
  /** Table names (events), `quarantine` or `quality`; one durable consumer each. */
  readonly inputs: readonly string[];
  /** Rule-wide inputs applied by every replica (their names are not in `inputs`). */
  readonly broadcast?: BroadcastInput;
  /** Per-partition state beside the keys. */
  readonly partitionState?: PartitionHooks<P>;
  /**
   * Rules that produce rows of a gold table instead of alerts (ip_attribution → ip_lookup): each emitted Alert is
   * only the carrier (its id dedupes, it travels as pending in snapshots); its `detail` is the row, published as
   * NDJSON on gold.<table> instead of alerts.<rule>, so notifiers never see it.
   */
  readonly emitsTable?: string;
  /** Null when the batch cannot concern the rule (e.g. a required column is missing). */
  prepare(batch: EventBatch): PreparedBatch<S, P> | null;
  /** JSON-safe form of a key's state for snapshots, and back. */
  encodeState(s: S): unknown;
  decodeState(v: unknown): S;
}

export interface StateLimits {
  /** Keys not touched for this long (event time) are dropped. */
  ttlMs: number;
  /** Most keys kept per partition; the least recently touched go first. */
  maxKeysPerPartition: number;
}
