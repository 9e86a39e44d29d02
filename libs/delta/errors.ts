// Error classes callers can branch on: unsupported protocol, concurrent-commit conflicts, txn conflicts.
// Each message names the table root so a log line alone says which table failed.

export class DeltaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The table needs a reader/writer protocol version or table feature this library does not implement. */
export class DeltaProtocolError extends DeltaError {}

/** A concurrent commit changed metaData or protocol; the append was not committed and must be re-planned. */
export class DeltaConflictError extends DeltaError {}

/**
 * The table already records a txn version >= the one being committed for this appId: the batch was already
 * applied (by us earlier, or by a concurrent writer with the same appId). Nothing was committed.
 */
export class DeltaTxnConflictError extends DeltaError {
  constructor(
    message: string,
    readonly appId: string,
    readonly requestedVersion: number,
    readonly committedVersion: number,
  ) {
    super(message);
  }
}

/**
 * The input (a table definition or an Arrow batch) is incompatible with the table's schema: a type change, a new
 * non-nullable column, a removed non-nullable column, a partitioning change, or a new column while the policy is
 * 'none'. `column` names the (first) offending column; nothing was committed.
 */
export class DeltaSchemaError extends DeltaError {
  constructor(
    message: string,
    readonly column: string,
  ) {
    super(message);
  }
}

/** The log is unreadable as a Delta table (gap in versions, missing metaData, malformed action...). */
export class DeltaLogError extends DeltaError {}

/** The location holds no Delta log (no commits yet): callers that create tables on first write expect this. */
export class DeltaTableMissingError extends DeltaError {}
