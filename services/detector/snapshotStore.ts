// Detector state snapshots in the JetStream KV bucket sluice_detector_state. A partition's snapshot is cut into
// chunks (KV values are messages, capped by max_payload): chunks `<rule>.P<n>.p<p>.g<gen>.c<i>` are written first,
// then the manifest `<rule>.P<n>.p<p>` that names the generation, then the previous generation's chunks are purged.
// A crash mid-write leaves the old manifest pointing at complete old chunks. The partition count is in the key:
// state hashed over n partitions does not fit another n.
import type { KV } from '@nats-io/kv';
import { chunk, decodeSnapshot, SNAPSHOT_CHUNK_BYTES, unchunk, type DetectorRuntime, type KeyState, type PartitionSnapshot } from '@sluice/detect';

export interface SnapshotManifest {
  gen: number;
  chunks: number;
  bytes: number;
  /** When the snapshot was taken (ISO). */
  taken: string;
  positions: Record<string, number>;
  /** input → the snapshot reflects every sequence at or below it (the consumer resumes after the lowest). */
  floors?: Record<string, number>;
  keys: number;
}

export class SnapshotStore {
  constructor(
    private readonly kv: KV,
    private readonly chunkBytes = SNAPSHOT_CHUNK_BYTES,
  ) {}

  static manifestKey(rule: string, partitions: number, partition: number): string {
    return `${rule}.P${partitions}.p${partition}`;
  }

  async load(rule: string, partitions: number, partition: number): Promise<{ snapshot: PartitionSnapshot; manifest: SnapshotManifest } | null> {
    const base = SnapshotStore.manifestKey(rule, partitions, partition);
    const m = await this.kv.get(base);
    if (!m || m.operation !== 'PUT' || m.value.length === 0) return null;
    const manifest = m.json<SnapshotManifest>();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < manifest.chunks; i++) {
      const c = await this.kv.get(`${base}.g${manifest.gen}.c${i}`);
      if (!c || c.operation !== 'PUT') throw new Error(`snapshot ${base} generation ${manifest.gen} is missing chunk ${i}`);
      parts.push(c.value);
    }
    return { snapshot: decodeSnapshot(unchunk(parts)), manifest };
  }

  /**
   * Captures a partition's snapshot as bytes now (synchronously: state keeps changing while the KV writes run)
   * and returns the write to await.
   */
  saveNow(runtime: DetectorRuntime<KeyState>, partition: number, taken = new Date()): Promise<SnapshotManifest> {
    const { bytes, header, keys } = runtime.encodeSnapshot(partition);
    return this.write(header, keys, bytes, taken);
  }

  private async write(snap: Omit<PartitionSnapshot, 'keys'>, keys: number, bytes: Uint8Array, taken: Date): Promise<SnapshotManifest> {
    const base = SnapshotStore.manifestKey(snap.rule, snap.partitions, snap.partition);
    const prev = await this.kv.get(base);
    const prevManifest = prev && prev.operation === 'PUT' && prev.value.length ? prev.json<SnapshotManifest>() : null;
    const gen = (prevManifest?.gen ?? 0) + 1;
    const parts = chunk(bytes, this.chunkBytes);
    for (let i = 0; i < parts.length; i++) await this.kv.put(`${base}.g${gen}.c${i}`, parts[i]!);
    const manifest: SnapshotManifest = {
      gen,
      chunks: parts.length,
      bytes: parts.reduce((n, p) => n + p.length, 0),
      taken: taken.toISOString(),
      positions: snap.positions,
      ...(snap.floors ? { floors: snap.floors } : {}),
      keys,
    };
    await this.kv.put(base, JSON.stringify(manifest));
    if (prevManifest) for (let i = 0; i < prevManifest.chunks; i++) await this.kv.purge(`${base}.g${prevManifest.gen}.c${i}`).catch(() => undefined);
    return manifest;
  }
}
