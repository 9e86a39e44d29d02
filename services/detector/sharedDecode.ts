// One decode per input message for every rule host that reads it. Each rule reads an input through its own durable
// consumer, so the same stream message reaches every host that reads the table; without sharing, each host decoded
// the Arrow IPC bytes and materialised the same columns again (a third of the detector's CPU with two rules on
// Defender network events). A stream message never changes, so (stream, seq, input) identifies its decoded batch.
// An entry is dropped once every host that reads the input took it, or when over `capacity` (a host lagging far
// behind the others then decodes for itself): memory stays bounded whatever the hosts' relative pace.
import type { EventBatch } from '@sluice/detect';

export interface DecodeStats {
  decoded: number;
  shared: number;
}

export class SharedDecode {
  private readonly entries = new Map<string, { batch: EventBatch; left: number }>();
  /** input → how many hosts read it (registered by each host at start). */
  private readonly readers = new Map<string, number>();
  readonly stats: DecodeStats = { decoded: 0, shared: 0 };

  constructor(private readonly capacity = 32) {}

  /** A host reads `input` (call once per host and keyed input). */
  register(input: string): void {
    this.readers.set(input, (this.readers.get(input) ?? 0) + 1);
  }

  /** The decoded batch of a message, decoded by `decode` unless another host already did. */
  get(stream: string, seq: number, input: string, decode: () => EventBatch): EventBatch {
    const readers = this.readers.get(input) ?? 1;
    if (readers <= 1) {
      this.stats.decoded++;
      return decode();
    }
    const key = `${stream}\u0000${seq}\u0000${input}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.stats.shared++;
      if (--hit.left <= 0) this.entries.delete(key);
      return hit.batch;
    }
    const batch = decode();
    this.stats.decoded++;
    this.entries.set(key, { batch, left: readers - 1 });
    // Maps iterate in insertion order: the oldest entry goes first.
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return batch;
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
