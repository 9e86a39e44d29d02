// Which detector partition owns a key, and which partitions a replica owns. FNV-1a: stable across processes and
// versions, so a restarted or moved partition finds its keys in the same place.

export function partitionOfKey(key: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** Partitions p with p % replicas == replica. */
export function ownedPartitions(partitions: number, replica: number, replicas: number): number[] {
  const owned: number[] = [];
  for (let p = 0; p < partitions; p++) if (p % replicas === replica) owned.push(p);
  return owned;
}
