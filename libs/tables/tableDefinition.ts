// The one declaration of a table: columns, partitioning and expectations.
// Validation (coercion), the Arrow schema, the Delta schema and the docs are all derived from it.

export type ColumnType = 'string' | 'long' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'date' | 'json';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Default true. A non-nullable column missing from a record fails validation (record → quarantine). */
  nullable?: boolean;
  /** Dot-separated path into the source record; defaults to the column name. */
  from?: string;
  doc?: string;
}

/** What happens to a row that fails a rule: keep and count, drop and count, send to quarantine, or stop the stage. */
export type ExpectationAction = 'warn' | 'drop' | 'quarantine' | 'fail';

/** Typed row after coercion: timestamps are epoch microseconds, dates epoch days, json is JSON text. */
export type Row = Record<string, string | number | boolean | null>;

export interface Expectation {
  name: string;
  action: ExpectationAction;
  /** Human-readable predicate, shown in docs and in quarantine reasons. */
  description: string;
  check: (row: Row) => boolean;
}

export interface TableDefinition {
  /** Delta table name, also the subject token (`parsed.<name>`, `events.<name>`). */
  name: string;
  layer: 'bronze' | 'silver' | 'gold' | 'quarantine';
  doc: string;
  columns: ColumnDef[];
  partitionBy: string[];
  /** Column whose value gives the row's eventDate (silver tables). */
  eventTime?: string;
  expectations: Expectation[];
}

export function columnNames(def: TableDefinition): string[] {
  return def.columns.map((c) => c.name);
}

/** Throws with the table and column named when a definition is inconsistent; run at load time, not per row. */
export function assertValidDefinition(def: TableDefinition): void {
  const names = new Set<string>();
  for (const c of def.columns) {
    if (names.has(c.name)) throw new Error(`table ${def.name}: duplicate column "${c.name}"`);
    names.add(c.name);
  }
  for (const p of def.partitionBy) {
    if (!names.has(p)) throw new Error(`table ${def.name}: partitionBy: unknown column "${p}"`);
  }
  if (def.eventTime && !names.has(def.eventTime)) {
    throw new Error(`table ${def.name}: eventTime: unknown column "${def.eventTime}"`);
  }
  const rules = new Set<string>();
  for (const e of def.expectations) {
    if (rules.has(e.name)) throw new Error(`table ${def.name}: duplicate expectation "${e.name}"`);
    rules.add(e.name);
  }
}
