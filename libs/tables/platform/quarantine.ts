// Quarantine: records that failed parsing or an expectation, with the reason and raw bytes, ready for replay.
import type { TableDefinition } from '../tableDefinition.ts';

export const quarantineTable: TableDefinition = {
  name: 'quarantine',
  layer: 'quarantine',
  doc: 'Records that failed parsing or a quarantine expectation, with the reason, the rule, the raw record and lineage.',
  columns: [
    { name: 'quarantine_date', type: 'date', nullable: false, doc: 'UTC date the record was quarantined (partition).' },
    { name: 'stage', type: 'string', nullable: false },
    { name: 'table_name', type: 'string', nullable: false, doc: 'Target table (or source for the splitter).' },
    { name: 'rule', type: 'string', nullable: false, doc: '`parse` for structural failures, else the expectation name.' },
    { name: 'reason', type: 'string', nullable: false },
    { name: 'raw', type: 'string', nullable: false },
    { name: 'source', type: 'string' },
    { name: 'object', type: 'string' },
    { name: 'raw_seq', type: 'long' },
    { name: 'input_seq', type: 'long' },
    { name: 'ingest_time', type: 'timestamp' },
    { name: 'quarantine_time', type: 'timestamp', nullable: false },
  ],
  partitionBy: ['quarantine_date'],
  expectations: [],
};
