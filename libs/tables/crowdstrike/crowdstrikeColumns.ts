// Column helpers shared by the CrowdStrike Falcon Data Replicator (FDR) tables. FDR events are flat JSON objects whose
// values are all strings; the column type says what each becomes (convert.ts parses numeric text, decode turns "1"/"0"
// into booleans). Process ids in FDR (TargetProcessId, ContextProcessId, …) are 64-bit unsigned "UPID"s, beyond a
// safe JS integer, so they stay strings; RawProcessId is the operating system pid.
import type { ColumnDef, ColumnType, TimestampUnit } from '../tableDefinition.ts';

/** A nullable FDR field read from the top level of the event (column name = field name). */
export function fdr(name: string, type: ColumnType, doc: string, opts: { nullable?: boolean; unit?: TimestampUnit } = {}): ColumnDef {
  const c: ColumnDef = { name, type, nullable: opts.nullable ?? true, doc };
  if (opts.unit) c.unit = opts.unit;
  return c;
}

/** Leading columns of every FDR table: event name, times, sensor and customer ids, host. */
export function eventColumns(simpleNameRequired = true): ColumnDef[] {
  return [
    fdr('event_simpleName', 'string', 'FDR event type (ProcessRollup2, DnsRequest, …); the routing key.', { nullable: !simpleNameRequired }),
    fdr('name', 'string', 'Versioned event name, e.g. ProcessRollup2V19.'),
    fdr('id', 'string', 'Event UUID.'),
    fdr('timestamp', 'timestamp', 'When the cloud received the event (epoch milliseconds text); the event time.', { nullable: false, unit: 'ms' }),
    fdr('ContextTimeStamp', 'timestamp', 'When the sensor saw the activity (epoch seconds with fraction, text).', { unit: 's' }),
    fdr('aid', 'string', 'Falcon agent (sensor) id of the host.'),
    fdr('cid', 'string', 'Falcon customer id.'),
    fdr('aip', 'string', 'Public IP address the agent connected to the cloud from (GeoIP enriched).'),
    fdr('ComputerName', 'string', 'Host name (present in some events and in aidmaster).'),
    fdr('event_platform', 'string', 'Sensor platform: Win, Mac, Lin, iOS, Android.'),
    fdr('ConfigBuild', 'string', 'Sensor build.'),
    fdr('ContextProcessId', 'string', 'UPID of the process the event happened in (64-bit id, kept as text).'),
    fdr('ContextThreadId', 'string', 'Id of the thread the event happened in (64-bit, text).'),
  ];
}

/** MD5/SHA-1/SHA-256 of a file or image (IoC matching reads these). */
export function hashColumns(): ColumnDef[] {
  return [
    fdr('MD5HashData', 'string', 'MD5 of the file (hex).'),
    fdr('SHA1HashData', 'string', 'SHA-1 of the file (hex; all zeros when not computed).'),
    fdr('SHA256HashData', 'string', 'SHA-256 of the file (hex).'),
  ];
}

/** Fields of the FDR event that no declared column holds, as a string map (nothing of the event is lost to queries). */
export const RESCUED_COLUMN = '_rescued_data';

export function rescuedColumn(): ColumnDef {
  return { name: RESCUED_COLUMN, type: 'map', doc: 'Fields of the event that this table declares no column for (field → text).' };
}
