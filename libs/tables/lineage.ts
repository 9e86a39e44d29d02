// The lineage columns every silver table gets (where a row came from) and the eventDate partition column,
// plus the helpers that list a table's full column set and stamp lineage values onto a coerced row.
import { enrichmentColumnsOf } from './enrichment.ts';
import type { ColumnDef, Row, TableDefinition } from './tableDefinition.ts';
import { eventDateOf } from './timestamp.ts';

// The enricher's columns (part of every enriched table's schema) are derived in enrichment.ts.
export * from './enrichment.ts';

/** Name of the partition column derived from the table's eventTime (epoch days, UTC). */
export const EVENT_DATE = 'eventDate';

/** Lineage columns, in the order they follow the declared columns. They are filled by the parser stage, not read from the record. */
export const LINEAGE_COLUMNS: readonly ColumnDef[] = Object.freeze([
  { name: '_source', type: 'string', nullable: false, doc: 'Name of the source the record was read from (e.g. defender_xdr).' },
  { name: '_object', type: 'string', nullable: false, doc: 'File path or HTTP request id that carried the record.' },
  { name: '_raw_seq', type: 'long', nullable: false, doc: 'Sequence number of the carrying message in the RAW stream.' },
  { name: '_input_seq', type: 'long', nullable: false, doc: "Sequence number of the message in the parser's input stream." },
  { name: '_ingest_time', type: 'timestamp', nullable: false, doc: 'When sluice ingested the record (UTC).' },
  { name: '_parser_version', type: 'string', nullable: false, doc: 'Version of the parser that produced the row.' },
  { name: '_raw', type: 'string', nullable: false, doc: 'The original record as JSON text.' },
] satisfies ColumnDef[]);

export const EVENT_DATE_COLUMN: ColumnDef = Object.freeze({
  name: EVENT_DATE,
  type: 'date',
  nullable: false,
  doc: 'UTC date of the event time (partition column).',
});

/** Lineage columns plus eventDate: what fullColumnsOf appends to a silver table's declared columns. */
export const SILVER_EXTRA_COLUMNS: readonly ColumnDef[] = Object.freeze([...LINEAGE_COLUMNS, EVENT_DATE_COLUMN]);

/**
 * A table's full column list: declared columns, then (silver tables only) the enrichment columns, the lineage
 * columns and eventDate.
 * eventDate is not appended twice when a table declares it itself.
 */
export function fullColumnsOf(def: TableDefinition): ColumnDef[] {
  if (def.layer !== 'silver') return [...def.columns];
  const declaresEventDate = def.columns.some((c) => c.name === EVENT_DATE);
  return [...def.columns, ...enrichmentColumnsOf(def), ...LINEAGE_COLUMNS, ...(declaresEventDate ? [] : [EVENT_DATE_COLUMN])];
}

export function fullColumnNames(def: TableDefinition): string[] {
  return fullColumnsOf(def).map((c) => c.name);
}

/** Where a row came from; the values of the lineage columns. */
export interface Lineage {
  source: string;
  /** File path or HTTP request id. */
  object: string;
  rawSeq: number;
  inputSeq: number;
  /** Epoch microseconds. */
  ingestTime: number;
  parserVersion: string;
  /** The original record as JSON text. */
  raw: string;
}

/**
 * Writes the lineage columns into `row` (in place) and returns it. When the row has no eventDate yet
 * (a table without eventTime), eventDate is taken from the ingest time so every silver row is partitioned.
 */
export function withLineage(row: Row, lineage: Lineage): Row {
  row._source = lineage.source;
  row._object = lineage.object;
  row._raw_seq = lineage.rawSeq;
  row._input_seq = lineage.inputSeq;
  row._ingest_time = lineage.ingestTime;
  row._parser_version = lineage.parserVersion;
  row._raw = lineage.raw;
  if (row[EVENT_DATE] === undefined) row[EVENT_DATE] = eventDateOf(lineage.ingestTime);
  return row;
}
