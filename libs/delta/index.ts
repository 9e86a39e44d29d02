// Public API of @sluice/delta: a Delta Lake table writer/reader over an ObjectStore (local path / file://, s3://, az://, abfss://).
// Appends partitioned zstd Parquet (txn, schema evolution), OPTIMIZE, VACUUM; reads classic/multi-part checkpoints.
export { DeltaTable, type AppendOptions, type AppendResult, type CreateOptions, type OpenOptions } from './deltaTable.ts';
export type { LocationInput, StoreOptions } from './location.ts';
export { readTable } from './readTable.ts';
export type { Snapshot } from './logReplay.ts';
export type { Action, AddFile, Metadata, Protocol, Txn } from './actions.ts';
export type { DeltaColumn, DeltaType, SchemaField } from './schema.ts';
export { DeltaConflictError, DeltaError, DeltaLogError, DeltaProtocolError, DeltaSchemaError, DeltaTableMissingError, DeltaTxnConflictError } from './errors.ts';
export { optimize, type OptimizeOptions, type OptimizeResult, type PartitionValues } from './optimize.ts';
export { vacuum, MIN_SAFE_RETENTION_HOURS, type VacuumOptions } from './vacuum.ts';
export type { SchemaEvolution } from './schemaEvolution.ts';
export { accepts as acceptsArrowType } from './arrowColumns.ts';
export { deltaTypeOf } from './schema.ts';
export { inferDeltaType } from './schemaEvolution.ts';
