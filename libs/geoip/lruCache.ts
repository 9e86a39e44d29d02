// A bounded cache with least-recently-used eviction in two generations: lookups hit a Map, and when the young
// generation is full it becomes the old one (whose entries are dropped unless used again). No per-hit reordering,
// so a hit costs one or two Map lookups; the size stays between max and 2 × max entries.
export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error(`LruCache: max must be ≥ 1, got ${max}`);
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o); // promote: still in use
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.max) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
