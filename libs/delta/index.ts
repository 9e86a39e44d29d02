// Public API of @sluice/delta: a Delta Lake table writer/reader for local filesystems.
// Appends partitioned zstd Parquet with exactly-once txn support; reads classic/multi-part checkpoints.
export { DeltaTable, type AppendOptions, type AppendResult, type CreateOptions } from './deltaTable.ts';
export { readTable } from './readTable.ts';
export type { Snapshot } from './logReplay.ts';
export type { AddFile, Metadata, Protocol, Txn } from './actions.ts';
export type { DeltaColumn, DeltaType, SchemaField } from './schema.ts';
export { DeltaConflictError, DeltaError, DeltaLogError, DeltaProtocolError, DeltaTxnConflictError } from './errors.ts';
