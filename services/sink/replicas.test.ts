// Partition → replica ownership: every partition has exactly one owner, and bad replica settings name the keys.
import { describe, expect, it } from 'vitest';
import { ConfigError, eventPartitionOf, ownedEventPartitions, rawPartitionOf, subjects } from '@sluice/runtime';
import { bronzePartitionIds, silverPartitionIds, sinkPlacement } from './replicas.ts';

describe('sink replicas', () => {
  it('gives each event partition to exactly one replica (p % replicas)', () => {
    for (const partitions of [1, 2, 3, 4, 7, 16]) {
      for (const replicas of [1, 2, 3, 4, 5]) {
        const owned = Array.from({ length: replicas }, (_, r) => sinkPlacement(partitions, r, replicas).partitions);
        expect(owned.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: partitions }, (_, p) => p));
        owned.forEach((ps, r) => ps.forEach((p) => expect(p % replicas).toBe(r)));
      }
    }
    expect(ownedEventPartitions(4, 0, 2)).toEqual([0, 2]);
    expect(ownedEventPartitions(4, 1, 2)).toEqual([1, 3]);
    expect(ownedEventPartitions(1, 0, 1)).toEqual([0]);
    expect(ownedEventPartitions(2, 2, 3)).toEqual([]); // more replicas than partitions: the extra ones idle
  });

  it('only replica 0 writes the unpartitioned layers', () => {
    expect(sinkPlacement(4, 0, 2).writesUnpartitionedLayers).toBe(true);
    expect(sinkPlacement(4, 1, 2).writesUnpartitionedLayers).toBe(false);
    expect(sinkPlacement(1, 0, 1)).toEqual({ replica: 0, replicas: 1, partitions: [0], rawPartitions: [0], writesUnpartitionedLayers: true });
  });

  it('splits raw partitions (bronze) across replicas like event partitions', () => {
    expect(sinkPlacement(4, 0, 2, 4).rawPartitions).toEqual([0, 2]);
    expect(sinkPlacement(4, 1, 2, 4).rawPartitions).toEqual([1, 3]);
    expect(sinkPlacement(4, 1, 2).rawPartitions).toEqual([]);
    expect(bronzePartitionIds(2)).toEqual({ durable: 'sink-bronze-p2', appId: 'sluice-sink-bronze-p2' });
  });

  it('puts every batch of one object in one raw partition, spread over the partitions', () => {
    expect(rawPartitionOf('a/b.json', 1)).toBe(0);
    expect(rawPartitionOf('a/b.json', 8)).toBe(rawPartitionOf('a/b.json', 8));
    const hits = new Set(Array.from({ length: 200 }, (_, i) => rawPartitionOf(`file-${i}.json`, 4)));
    expect([...hits].sort()).toEqual([0, 1, 2, 3]);
    expect(subjects.raw('zeek', 3)).toBe('raw.zeek.3');
    expect(subjects.raw('zeek')).toBe('raw.zeek.0');
  });

  it('refuses a replica outside 0…replicas-1, naming the keys', () => {
    expect(() => sinkPlacement(4, 2, 2)).toThrow(ConfigError);
    expect(() => sinkPlacement(4, 2, 2)).toThrow(/sink\.replica: .*sink\.replicas = 2/);
    expect(() => sinkPlacement(4, -1, 2)).toThrow(/sink\.replica/);
    expect(() => sinkPlacement(4, 0, 0)).toThrow(/sink\.replicas/);
  });

  it('names consumers and txn app ids per table partition', () => {
    expect(silverPartitionIds('t', 3)).toEqual({ durable: 'sink-silver-t-p3', appId: 'sluice-sink-silver-t-p3' });
  });

  it('partitions the enricher output by input sequence', () => {
    expect([0, 1, 2, 3, 4, 5].map((s) => eventPartitionOf(s, 4))).toEqual([0, 1, 2, 3, 0, 1]);
    expect(eventPartitionOf(17, 1)).toBe(0);
  });
});
