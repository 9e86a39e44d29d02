// Column declarations for the Zeek silver tables, derived from Zeek's field names and types: `id.orig_h` becomes the
// column `id_orig_h`, the Zeek type picks the column type (set/vector → JSON text of the array), `ts` is the
// non-nullable event time in epoch seconds. The family's decode produces records keyed by these column names.
import type { ColumnDef, ColumnType } from '../tableDefinition.ts';

/** A Zeek log field: its name as Zeek writes it, its Zeek type and what it holds. */
export type ZeekField = readonly [name: string, zeekType: string, doc: string];

/** Zeek field name → column name (and key of the decoded record): dots of record fields become underscores. */
export function zeekColumnName(field: string): string {
  return field.includes('.') ? field.replaceAll('.', '_') : field;
}

/** Column type of a Zeek type. `count` is uint64, held as long (values past 2^53 fail coercion rather than round). */
export function columnTypeOf(zeekType: string): ColumnType {
  if (/^(set|vector)\[/.test(zeekType)) return 'json';
  switch (zeekType) {
    case 'time':
      return 'timestamp';
    case 'interval':
    case 'double':
      return 'double';
    case 'count':
    case 'int':
      return 'long';
    case 'port':
      return 'integer';
    case 'bool':
      return 'boolean';
    default:
      return 'string'; // addr, subnet, string, enum, pattern
  }
}

/** Columns for Zeek fields; time columns read epoch seconds (or ISO-8601 text from JSON logs). */
export function zeekColumns(fields: readonly ZeekField[]): ColumnDef[] {
  return fields.map(([field, zeekType, doc]) => {
    const type = columnTypeOf(zeekType);
    const c: ColumnDef = { name: zeekColumnName(field), type, doc: `${doc} (Zeek \`${field}\`: ${zeekType})` };
    if (type === 'timestamp') c.unit = 's';
    if (field === 'ts') c.nullable = false;
    return c;
  });
}

export const TS: ZeekField = ['ts', 'time', 'Time of the first packet or of the event'];
export const UID: ZeekField = ['uid', 'string', 'Unique id of the connection; joins the logs of one connection'];

/** The connection 4-tuple (`conn_id` record) written by most connection-based logs. */
export const CONN_ID: readonly ZeekField[] = [
  ['id.orig_h', 'addr', 'Originator (client) IP address'],
  ['id.orig_p', 'port', 'Originator port'],
  ['id.resp_h', 'addr', 'Responder (server) IP address'],
  ['id.resp_p', 'port', 'Responder port'],
];

/** Name of the column holding the fields a record carried that its table does not declare (JSON object text). */
export const RESCUED_COLUMN = '_rescued_data';

/** Columns every Zeek table ends with: json-streaming-logs write time, and the rescued fields. */
export function trailerColumns(): ColumnDef[] {
  return [
    {
      name: 'write_ts',
      type: 'timestamp',
      unit: 's',
      from: '_write_ts',
      doc: 'When Zeek wrote the record (`_write_ts`, written by the json-streaming-logs package; null otherwise).',
    },
    {
      name: RESCUED_COLUMN,
      type: 'json',
      doc: 'Fields of the record this table does not declare (policy scripts, packages, newer Zeek versions), as a JSON object keyed by column name; null when there are none.',
    },
  ];
}
