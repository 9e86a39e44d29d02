// Silver table for Zeek notice.log: one row per notice (Zeek's built-in and scripted detections). Notices tied to a
// connection carry its uid and id, which is how they are joined with conn.
import type { TableDefinition } from '../tableDefinition.ts';
import { CONN_ID, trailerColumns, TS, UID, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { portInRange, tsNotNull } from './zeekExpectations.ts';

export const NOTICE_FIELDS: readonly ZeekField[] = [
  TS,
  UID,
  ...CONN_ID,
  ['fuid', 'string', 'File id, for notices about a file'],
  ['file_mime_type', 'string', 'MIME type of the file'],
  ['file_desc', 'string', 'Description of the file (e.g. its URL)'],
  ['proto', 'enum', 'Transport protocol of the connection'],
  ['note', 'enum', 'Notice type (e.g. SSL::Invalid_Server_Cert, Scan::Port_Scan)'],
  ['msg', 'string', 'Human-readable message'],
  ['sub', 'string', 'Sub-message with details'],
  ['src', 'addr', 'Source address the notice is about'],
  ['dst', 'addr', 'Destination address the notice is about'],
  ['p', 'port', 'Port the notice is about'],
  ['n', 'count', 'Count or number associated with the notice'],
  ['peer_descr', 'string', 'Name of the Zeek node that raised the notice'],
  ['actions', 'set[enum]', 'Actions applied (Notice::ACTION_LOG, ACTION_ALARM, …)'],
  ['email_dest', 'set[string]', 'E-mail addresses the notice was sent to'],
  ['suppress_for', 'interval', 'How long identical notices are suppressed, in seconds'],
  ['remote_location.country_code', 'string', 'Country code of the remote address (GeoIP in Zeek)'],
  ['remote_location.region', 'string', 'Region of the remote address'],
  ['remote_location.city', 'string', 'City of the remote address'],
  ['remote_location.latitude', 'double', 'Latitude of the remote address'],
  ['remote_location.longitude', 'double', 'Longitude of the remote address'],
  ['dropped', 'bool', 'Whether the source was blocked (older Zeek/Bro versions)'],
];

export const zeekNotice: TableDefinition = {
  name: 'zeek_notice',
  layer: 'silver',
  doc: 'Zeek notice.log: detections raised by Zeek scripts (uid joins the connection in zeek_conn).',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  enrich: { attribution: ['id_orig_h'] },
  columns: [...zeekColumns(NOTICE_FIELDS), ...trailerColumns()],
  // uid is optional here: notices that are not about one connection (scans, software) have none.
  expectations: [
    tsNotNull,
    portInRange('id_orig_p'),
    portInRange('id_resp_p'),
    portInRange('p'),
    {
      name: 'note_present',
      action: 'warn',
      description: 'note (the notice type) is a non-empty string',
      check: (row) => typeof row.note === 'string' && row.note !== '',
    },
  ],
};
