// Bounded per-key state of one partition: a Map in touch order (LRU) with a TTL on the event-time watermark.
// Eviction depends only on the input (event times, order), never on the wall clock, so a restored snapshot plus
// replay of the same input converges to the same state.
import type { KeyState, StateLimits } from './rule.ts';

const SWEEP_EVERY_MS = 3_600_000;

export class KeyedState<S extends KeyState> {
  readonly map = new Map<string, S>();
  /** Highest event time seen (epoch ms): the clock TTLs are measured on. */
  watermark = 0;
  /** Watermark hour of the last full sweep. */
  sweptHour = 0;
  evicted = 0;

  constructor(private readonly limits: StateLimits) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): S | undefined {
    return this.map.get(key);
  }

  /** Stores the state as most recently touched (or deletes it when undefined). */
  put(key: string, s: S | undefined): void {
    this.map.delete(key);
    if (s !== undefined) this.map.set(key, s);
  }

  observe(eventMs: number): void {
    if (eventMs > this.watermark) this.watermark = eventMs;
  }

  /**
   * Drops keys over the size cap (least recently touched first) and expired keys at the LRU end; once per
   * event-time hour a full sweep catches expired keys touched out of order behind fresher ones.
   */
  evict(): void {
    const horizon = this.watermark - this.limits.ttlMs;
    const hour = Math.floor(this.watermark / SWEEP_EVERY_MS);
    const full = hour > this.sweptHour;
    if (full) this.sweptHour = hour;
    for (const [k, s] of this.map) {
      if (this.map.size > this.limits.maxKeysPerPartition || s.t < horizon) {
        this.map.delete(k);
        this.evicted++;
      } else if (!full) break;
    }
  }
}
