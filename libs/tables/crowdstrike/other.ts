// Silver table crowdstrike_other: every FDR event without a table of its own (SensorHeartbeat, DirectoryCreate,
// AsepValueUpdate, …) and the secondary records without event_simpleName (aidmaster, managed assets), with a few
// generic columns and the whole event as a string map.
import type { TableDefinition } from '../tableDefinition.ts';
import { eventColumns } from './crowdstrikeColumns.ts';
import { aidPresent } from './crowdstrikeExpectations.ts';

/** The decoded shape for this table is `{ e: <event> }` (see libs/sources/crowdstrike.ts), so `fields` can map the whole event. */
export const OTHER_EVENT_KEY = 'e';

export const crowdstrikeOther: TableDefinition = {
  name: 'crowdstrike_other',
  layer: 'silver',
  doc: 'CrowdStrike Falcon events of every other event_simpleName (and secondary FDR records), with all fields in a string map.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...eventColumns(false).map((c) => ({ ...c, from: `${OTHER_EVENT_KEY}.${c.from ?? c.name}` })),
    { name: 'fields', type: 'map', from: OTHER_EVENT_KEY, doc: 'Every field of the event (field → text).' },
  ],
  enrich: { geoip: ['aip'] },
  expectations: [aidPresent],
};
