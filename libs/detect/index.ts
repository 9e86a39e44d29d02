// Detections: the stateful partitioned runtime and the rules that run on it (pure: no I/O).
export { alertId, isoOfMs, sqlString } from './alertId.ts';
export { arrowBatch, objectBatch, type Cell, type EventBatch } from './eventBatch.ts';
export { DetectorRuntime, type ApplyResult, type PartitionSnapshot } from './detectorRuntime.ts';
export { KeyedState } from './keyedState.ts';
export { ownedPartitions, partitionOfKey } from './partitioning.ts';
export type { ApplyContext, BroadcastInput, DetectionRule, KeyState, PartitionHooks, PreparedBatch, StateLimits } from './rule.ts';
export { chunk, decodeSnapshot, encodeSnapshot, encodeSnapshotPages, SNAPSHOT_CHUNK_BYTES, unchunk } from './snapshotCodec.ts';
export { networkOf } from './network.ts';
export { DEFAULT_LISTENING_PORTS, DEFAULT_LISTENING_SOURCES, LISTENING_RULE, listeningRule, type KnownServer, type ListeningRuleConfig, type ListeningSource } from './listeningRule.ts';
export { DEFAULT_LOGIN_SOURCES, DEFAULT_NEW_NETWORK_CONFIG, NEW_NETWORK_RULE, newNetworkLoginRule, type LoginSource, type NewNetworkRuleConfig, type RowCondition } from './newNetworkLoginRule.ts';
export { DATA_QUALITY_RULE, DEFAULT_DATA_QUALITY_CONFIG, dataQualityRule, MESSAGE_TIME_FIELD, QUARANTINE_INPUT, type DataQualityRuleConfig } from './dataQualityRule.ts';
export { DEFAULT_IOC_RULE_CONFIG, iocRule, IOC_RULE, type DeviceSuppression, type IocRule, type IocRuleConfig } from './iocRule.ts';
export { DEFAULT_IOC_MAPPING, type IocMapping, type IocMappingEntry } from './iocMapping.ts';
export { IocIndex, type IocRow, type RegisteredDomainOf } from './iocIndex.ts';
export { DEFAULT_ZEEK_JOIN_CONFIG, ZEEK_JOIN_RULE, zeekJoinRule, type ZeekJoinRuleConfig } from './zeekJoinRule.ts';
export { IOC_TYPES, type IocType } from '../tables/threatintel/iocTypes.ts';
export { DEFAULT_IP_ATTRIBUTION_CONFIG, IP_ATTRIBUTION_RULE, IP_LOOKUP_TABLE, ipAttributionRule, type IpAttributionRuleConfig, type IpHolder } from './ipAttributionRule.ts';
