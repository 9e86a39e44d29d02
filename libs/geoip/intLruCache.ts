// LruCache for int32 keys (IPv4 addresses as numbers): the same two generations, each an open-addressing table of
// typed-array keys instead of a Map. A miss, the common case for a stream of distinct addresses, costs two probes
// of an Int32Array rather than two hash-table walks, and inserting allocates nothing.

/** Marks an empty slot; the key with this value (128.0.0.0 as an int32) is kept in a field of its own. */
const EMPTY = -0x80000000;

/**
 * One generation: linear probing over a power-of-two table kept at most half full, grown by doubling up to what
 * `max` entries need (memory is taken as entries come, not up front). A probe reads only the keys array (a miss
 * costs one memory access per slot, not two).
 */
class IntTable<V> {
  private keys: Int32Array;
  private vals: (V | undefined)[];
  private shift: number;
  private readonly maxSlots: number;
  private emptyKeyValue: V | undefined;
  size = 0;

  constructor(readonly max: number) {
    let bits = 4;
    while (1 << bits < max * 2) bits++;
    this.maxSlots = 1 << bits;
    const slots = Math.min(this.maxSlots, 1024);
    this.keys = new Int32Array(slots).fill(EMPTY);
    this.vals = new Array<V | undefined>(slots).fill(undefined);
    this.shift = 32 - Math.log2(slots);
  }

  private grow(): void {
    const { keys, vals } = this;
    const slots = keys.length * 2;
    this.keys = new Int32Array(slots).fill(EMPTY);
    this.vals = new Array<V | undefined>(slots).fill(undefined);
    this.shift--;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.put(keys[i]!, vals[i]!, false);
  }

  /** Fibonacci hashing: the top bits of key × 2^32/φ spread neighbouring addresses over the table. */
  private slot(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  get(key: number): V | undefined {
    if (key === EMPTY) return this.emptyKeyValue;
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.vals[i];
      if (k === EMPTY) return undefined;
    }
  }

  /** Inserts or replaces; the caller keeps size ≤ max. */
  set(key: number, value: V): void {
    if ((this.size + 1) * 2 > this.keys.length && this.keys.length < this.maxSlots) this.grow();
    if (key === EMPTY) {
      if (this.emptyKeyValue === undefined) this.size++;
      this.emptyKeyValue = value;
      return;
    }
    this.put(key, value, true);
  }

  /** Stores a key other than EMPTY; `count`: a new key adds to size (not when re-inserting while growing). */
  private put(key: number, value: V, count: boolean): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) {
        this.vals[i] = value;
        return;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.vals[i] = value;
        if (count) this.size++;
        return;
      }
    }
  }

  clear(): void {
    if (this.size === 0) return;
    this.keys.fill(EMPTY);
    this.vals.fill(undefined);
    this.emptyKeyValue = undefined;
    this.size = 0;
  }
}

/**
 * A bounded cache of int32 keys with LruCache's eviction: when the young generation holds `max` entries it becomes
 * the old one (whose entries are dropped unless used again). Values must not be undefined.
 */
export class IntLruCache<V> {
  private young: IntTable<V>;
  private old: IntTable<V>;

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error(`IntLruCache: max must be ≥ 1, got ${max}`);
    this.young = new IntTable(max);
    this.old = new IntTable(max);
  }

  /** `key` must be an int32 (value | 0). */
  get(key: number): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined || this.old.size === 0) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o); // promote: still in use
    return o;
  }

  set(key: number, value: V): void {
    if (this.young.size >= this.young.max) {
      // The old generation's table is reused (cleared) as the new young one: no allocation per turnover.
      const dropped = this.old;
      this.old = this.young;
      dropped.clear();
      this.young = dropped;
    }
    this.young.set(key, value);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
