// Table winlog_bronze: every Windows event winlogbeat ships (Sysmon, Security, System, PowerShell, WMI, …), one row
// per event with the header normalised across winlogbeat layouts and event_data as a string map. Partitioned by
// event date and source_type, so a query for one channel family reads only its folders. It is a parser-written
// table (layer silver in sluice's terms: typed, with lineage and _raw) that plays the bronze role for Windows logs.
import type { TableDefinition } from '../tableDefinition.ts';
import { col, layoutColumn } from './winlogColumns.ts';
import { hostNamePresent } from './winlogExpectations.ts';

/** source_type values; anything else is `other`. */
export const SOURCE_TYPES = ['sysmon', 'security', 'system', 'application', 'powershell', 'wmi', 'defender', 'other'] as const;

export const winlogBronze: TableDefinition = {
  name: 'winlog_bronze',
  layer: 'silver',
  doc: 'Every Windows event log record shipped by winlogbeat (all channels), header normalised, event_data as a map; partitioned by eventDate and source_type.',
  partitionBy: ['eventDate', 'source_type'],
  eventTime: 'timestamp',
  columns: [
    col('timestamp', 'timestamp', 'When the event was logged (@timestamp).', { nullable: false }),
    col('source_type', 'string', `Channel family: ${SOURCE_TYPES.join(', ')} (partition column).`, { nullable: false }),
    col('event_id', 'integer', 'Windows event id.', { nullable: false }),
    col('channel', 'string', 'Event log channel (log_name / winlog.channel), e.g. Microsoft-Windows-Sysmon/Operational.'),
    col('provider', 'string', 'Event provider (source_name / winlog.provider_name).'),
    col('provider_guid', 'string', 'GUID of the provider.'),
    col('computer_name', 'string', 'Computer the event was logged on.'),
    col('record_id', 'long', 'Event record number in the channel.'),
    col('level', 'string', 'Level (Information, Warning, …).'),
    col('task', 'string', 'Task (category) of the event.'),
    col('opcode', 'string', 'Opcode of the event.'),
    col('version', 'integer', 'Version of the event schema.'),
    col('reporter_process_id', 'long', 'Process id of the process that wrote the event.'),
    col('reporter_thread_id', 'long', 'Thread id of the writer.'),
    col('reporter_user_sid', 'string', 'SID of the account the event was logged under (winlog user).'),
    col('reporter_user_name', 'string', 'Name of that account.'),
    col('reporter_user_domain', 'string', 'Domain of that account.'),
    col('agent_version', 'string', 'winlogbeat version.'),
    layoutColumn(),
    { name: 'event_data', type: 'map', doc: 'The event data fields (EventData / UserData) as text.' },
  ],
  expectations: [hostNamePresent],
};
