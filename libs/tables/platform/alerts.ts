// Gold alerts: one row per alert published by a detector rule.
import type { TableDefinition } from '../tableDefinition.ts';

export const alertsTable: TableDefinition = {
  name: 'alerts',
  layer: 'gold',
  doc: 'Alerts raised by detections, with the evidence rows\' lineage and a suggested next query.',
  columns: [
    { name: 'alert_id', type: 'string', nullable: false, doc: 'Stable id derived from rule and dedupe key.' },
    { name: 'rule', type: 'string', nullable: false },
    { name: 'severity', type: 'string', nullable: false },
    { name: 'title', type: 'string', nullable: false },
    { name: 'entity', type: 'string', nullable: false },
    { name: 'event_time', type: 'timestamp', nullable: false },
    { name: 'created_time', type: 'timestamp', nullable: false },
    { name: 'detail', type: 'json', doc: 'Rule-specific fields as JSON text.' },
    { name: 'evidence', type: 'json', doc: 'Lineage of the evidence rows as JSON text.' },
    { name: 'next_query', type: 'string' },
    { name: 'eventDate', type: 'date', nullable: false, doc: 'UTC date of event_time (partition).' },
  ],
  partitionBy: ['eventDate'],
  eventTime: 'event_time',
  expectations: [],
};
