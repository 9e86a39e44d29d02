// The one declaration of a table: columns, partitioning and expectations.
// Validation (coercion), the Arrow schema, the Delta schema and the docs are all derived from it.

import { fullColumnsOf } from './lineage.ts';

export type ColumnType = 'string' | 'long' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'date' | 'json' | 'map';

/** Value of a 'map' column: string keys to string values (Delta map<string,string>, valueContainsNull). */
export type StringMap = Record<string, string | null>;

/** Unit of a numeric timestamp in the source record (ISO-8601 strings carry their own precision). */
export type TimestampUnit = 's' | 'ms' | 'us';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Default true. A non-nullable column missing from a record fails validation (record → quarantine). */
  nullable?: boolean;
  /** Dot-separated path into the source record; defaults to the column name. */
  from?: string;
  doc?: string;
  /** Timestamp columns only: unit of numeric source values. Default 'ms'. */
  unit?: TimestampUnit;
}

/** What happens to a row that fails a rule: keep and count, drop and count, send to quarantine, or stop the stage. */
export type ExpectationAction = 'warn' | 'drop' | 'quarantine' | 'fail';

/** Typed row after coercion: timestamps are epoch microseconds, dates epoch days, json is JSON text, maps plain objects. */
export type Row = Record<string, string | number | boolean | StringMap | null>;

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
  /**
   * Default enrichments (the enricher's configuration may override them per table): `geoip` string columns holding
   * IP addresses get scope, GeoIP and AS columns; `domain` string columns holding DNS names, host names or URLs get
   * registered-domain and public-suffix columns; `attribution` string columns holding internal IP addresses get the
   * user / MAC / host name that held the address at the row's event time (gold ip_lookup; needs `eventTime`).
   * The output columns follow the declared ones (see enrichmentColumnsOf).
   */
  enrich?: TableEnrichment;
}

/** Which columns of a table get which enrichment (lists of declared string column names). */
export interface TableEnrichment {
  geoip?: string[];
  domain?: string[];
  attribution?: string[];
}

export function columnNames(def: TableDefinition): string[] {
  return def.columns.map((c) => c.name);
}

/**
 * Throws with the table and column named when a definition is inconsistent; run at load time, not per row.
 * Silver tables are checked with their lineage columns and eventDate appended (see fullColumnsOf).
 */
export function assertValidDefinition(def: TableDefinition): void {
  const names = new Set<string>();
  for (const c of fullColumnsOf(def)) {
    if (names.has(c.name)) throw new Error(`table ${def.name}: duplicate column "${c.name}"`);
    names.add(c.name);
  }
  for (const c of def.columns) {
    if (c.unit !== undefined && c.type !== 'timestamp') {
      throw new Error(`table ${def.name}: column "${c.name}": unit is only allowed on timestamp columns`);
    }
    const from = c.from ?? c.name;
    if (from === '' || from.split('.').some((seg) => seg === '' || seg === '__proto__') || c.name === '__proto__') {
      throw new Error(`table ${def.name}: column "${c.name}": invalid from path "${from}"`);
    }
  }
  for (const p of def.partitionBy) {
    if (!names.has(p)) throw new Error(`table ${def.name}: partitionBy: unknown column "${p}"`);
    if (def.columns.find((c) => c.name === p)?.type === 'map') {
      throw new Error(`table ${def.name}: partitionBy: column "${p}" is a map, which cannot be a partition column`);
    }
  }
  if (def.eventTime) {
    // The event time is read from the record, so it must be a declared column, not a lineage one.
    const t = def.columns.find((c) => c.name === def.eventTime);
    if (!t) throw new Error(`table ${def.name}: eventTime: unknown column "${def.eventTime}"`);
    if (t.type !== 'timestamp') throw new Error(`table ${def.name}: eventTime: column "${def.eventTime}" is not a timestamp`);
  }
  for (const [kind, cols] of Object.entries(def.enrich ?? {}) as [string, string[] | undefined][]) {
    for (const name of cols ?? []) {
      const c = def.columns.find((x) => x.name === name);
      if (!c) throw new Error(`table ${def.name}: enrich.${kind}: unknown column "${name}"`);
      if (c.type !== 'string') throw new Error(`table ${def.name}: enrich.${kind}: column "${name}" is ${c.type}, not string`);
    }
  }
  // Attribution answers "who held the address at the row's event time": without an event time there is no answer.
  if ((def.enrich?.attribution?.length ?? 0) > 0 && !def.eventTime) throw new Error(`table ${def.name}: enrich.attribution needs an eventTime column`);
  const rules = new Set<string>();
  for (const e of def.expectations) {
    if (rules.has(e.name)) throw new Error(`table ${def.name}: duplicate expectation "${e.name}"`);
    rules.add(e.name);
  }
}
