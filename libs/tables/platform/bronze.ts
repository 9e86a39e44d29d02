// Bronze: every raw record exactly as it arrived, one row per record, with where it came from.
import type { TableDefinition } from '../tableDefinition.ts';

export const bronzeTable: TableDefinition = {
  name: 'bronze',
  layer: 'bronze',
  doc: 'Every raw record that arrived, as received (one row per NDJSON line or JSON-document element), partitioned by ingest date and source.',
  columns: [
    { name: 'ingest_date', type: 'date', nullable: false, doc: 'UTC date the record was ingested (partition).' },
    { name: 'source', type: 'string', nullable: false, doc: 'Source name (partition), e.g. defender.' },
    { name: 'object', type: 'string', nullable: false, doc: 'File path or http:<request id>.' },
    { name: 'raw_seq', type: 'long', nullable: false, doc: 'Sequence of the batch in the RAW stream.' },
    { name: 'line', type: 'integer', nullable: false, doc: 'Index of the record inside its batch.' },
    { name: 'ingest_time', type: 'timestamp', nullable: false, doc: 'When the collector stored the batch.' },
    { name: 'raw', type: 'string', nullable: false, doc: 'The record as received (UTF-8).' },
  ],
  partitionBy: ['ingest_date', 'source'],
  expectations: [],
};
