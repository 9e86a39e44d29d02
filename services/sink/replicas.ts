// Which silver event partitions a sink replica writes: partition p belongs to replica p % replicas. Each owned
// partition has its own durable consumer and its own Delta txn appId, so replicas (and partitions) append to one
// table concurrently, each with its own exactly-once position.
import { ConfigError, ownedEventPartitions } from '@sluice/runtime';

export interface SinkPlacement {
  replica: number;
  replicas: number;
  /** Event partitions this replica writes, for every silver table. */
  partitions: number[];
  /** Raw partitions (raw.*.<p>) this replica writes into bronze. */
  rawPartitions: number[];
  /** Only replica 0 writes gold, quarantine and unrouted (low-volume inputs that are not partitioned). */
  writesUnpartitionedLayers: boolean;
}

export function sinkPlacement(eventPartitions: number, replica: number, replicas: number, rawPartitions = 1): SinkPlacement {
  if (!Number.isInteger(replicas) || replicas < 1) throw new ConfigError(`sink.replicas: must be an integer ≥ 1, got ${replicas}`);
  if (!Number.isInteger(replica) || replica < 0 || replica >= replicas) {
    throw new ConfigError(`sink.replica: must be an integer in 0…${replicas - 1} (below sink.replicas = ${replicas}), got ${replica}`);
  }
  return {
    replica,
    replicas,
    partitions: ownedEventPartitions(eventPartitions, replica, replicas),
    rawPartitions: ownedEventPartitions(rawPartitions, replica, replicas),
    writesUnpartitionedLayers: replica === 0,
  };
}

/** Durable consumer and Delta txn appId of one silver table partition. */
export function silverPartitionIds(table: string, partition: number): { durable: string; appId: string } {
  return { durable: `sink-silver-${table}-p${partition}`, appId: `sluice-sink-silver-${table}-p${partition}` };
}

/** Durable consumer and Delta txn appId of one raw partition's bronze writer. */
export function bronzePartitionIds(partition: number): { durable: string; appId: string } {
  return { durable: `sink-bronze-p${partition}`, appId: `sluice-sink-bronze-p${partition}` };
}
