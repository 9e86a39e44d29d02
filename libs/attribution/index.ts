export { IntervalIndex, type Holding, type HoldingRevision, type IntervalIndexOptions, type UpsertResult } from './intervalIndex.ts';
export { revisionOfRow } from './ipLookupRow.ts';
