// Unrouted: records whose category has no parser yet; kept (not dropped) until a table definition exists for them.
import type { TableDefinition } from '../tableDefinition.ts';

export const unroutedTable: TableDefinition = {
  name: 'unrouted',
  layer: 'bronze',
  doc: 'Records of categories without a parser, routed to the catch-all subject by the splitter.',
  columns: [
    { name: 'ingest_date', type: 'date', nullable: false, doc: 'partition' },
    { name: 'source', type: 'string', nullable: false },
    { name: 'category', type: 'string', doc: 'The record\'s category field, when it has one.' },
    { name: 'object', type: 'string', nullable: false },
    { name: 'raw_seq', type: 'long' },
    { name: 'ingest_time', type: 'timestamp' },
    { name: 'raw', type: 'string', nullable: false },
  ],
  partitionBy: ['ingest_date'],
  expectations: [],
};
