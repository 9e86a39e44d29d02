// Column helpers for the Windows event log tables fed by winlogbeat. The source family's decode normalises the
// winlogbeat layouts (6.x top-level fields, 7.x/8.x `winlog.*`, flattened) into one object whose keys are the
// column names, so columns here read their own name.
import type { ColumnDef, ColumnType, TimestampUnit } from '../tableDefinition.ts';

export function col(name: string, type: ColumnType, doc: string, opts: { nullable?: boolean; unit?: TimestampUnit } = {}): ColumnDef {
  const c: ColumnDef = { name, type, nullable: opts.nullable ?? true, doc };
  if (opts.unit) c.unit = opts.unit;
  return c;
}

/** Which winlogbeat layout the record had: `winlogbeat6`, `winlogbeat7` (7.x and 8.x: `winlog.*`), `flat` (Logstash-flattened). */
export const layoutColumn = (): ColumnDef => col('winlog_layout', 'string', 'Layout of the source record: winlogbeat6, winlogbeat7 (7.x/8.x) or flat.');

/** Columns every Sysmon CIM table starts with (OSSEM names). */
export function sysmonEventColumns(): ColumnDef[] {
  return [
    col('event_time', 'timestamp', 'When Sysmon saw the activity (UtcTime; @timestamp when absent).', { nullable: false }),
    col('timestamp', 'timestamp', 'Time the event was logged (winlogbeat @timestamp).'),
    col('event_id', 'integer', 'Sysmon event id.', { nullable: false }),
    col('event_name', 'string', 'Sysmon event name (ProcessCreate, ProcessTerminate, PipeConnected, NetworkConnect).'),
    col('host_name', 'string', 'Computer the event was logged on.'),
    col('record_id', 'long', 'Event record number in the channel.'),
    col('rule_name', 'string', 'Sysmon configuration rule that matched (RuleName).'),
  ];
}

/** The acting process of a Sysmon event and its user. */
export function processColumns(): ColumnDef[] {
  return [
    col('process_guid', 'string', 'Sysmon process GUID (ProcessGuid).'),
    col('process_id', 'long', 'Process id (ProcessId).'),
    col('process_path', 'string', 'Full path of the process image (Image).'),
    col('process_name', 'string', 'File name of the process image (from Image).'),
    col('user_name', 'string', 'Account name part of User (DOMAIN\\name).'),
    col('user_domain', 'string', 'Domain part of User.'),
  ];
}
