// Columns shared by the Cisco ISE silver tables: the syslog and ISE message headers, the endpoint identity
// (MAC, IP, user, NAS) and the full attribute map. The parser's decode() produces a flat object with these names.
import type { ColumnDef, Expectation } from '../tableDefinition.ts';
import { isIpAddress, MAC48 } from '../dhcp/addresses.ts';

function col(name: string, type: ColumnDef['type'], doc: string, nullable = true): ColumnDef {
  return { name, type, nullable, doc };
}

/** Header columns: when, which ISE node, which message. */
export function iseHeaderColumns(): ColumnDef[] {
  return [
    col('timestamp', 'timestamp', 'Event time from the ISE message header (`2024-10-10 12:00:00.123 +00:00`), UTC.', false),
    col('host', 'string', 'ISE node that logged the event (syslog HOSTNAME after any relay header).'),
    col('relay_host', 'string', 'Host of an outer syslog header when the message came through a relay, else null.'),
    col('category', 'string', 'ISE logging category, e.g. CISE_Profiler.', false),
    col('message_id', 'string', 'ISE message id (per node counter, leading zeros kept); segments of one message share it.', false),
    col('segment_total', 'integer', 'Number of syslog segments the message was sent in (reassembled into this row).'),
    col('sequence_number', 'string', 'ISE sequence number of the event.'),
    col('message_code', 'integer', 'ISE message code, e.g. 80002 (profiling event).'),
    col('severity_level', 'string', 'ISE severity word: DEBUG, INFO, NOTICE, WARN, ERROR, FATAL.'),
    col('syslog_priority', 'integer', 'Syslog PRI of the message (facility * 8 + severity), null when absent.'),
    col('message_class', 'string', 'Message class before the colon of the text, e.g. Profiler, Posture, EPS.'),
    col('message_text', 'string', 'Message text before the first key=value pair.'),
    col('config_version_id', 'long', 'ConfigVersionId: ISE configuration version that produced the event.'),
  ];
}

/** Endpoint identity columns, common to both tables. */
export function endpointColumns(): ColumnDef[] {
  return [
    col('endpoint_mac', 'string', 'Endpoint MAC, lower-case colon form (aa:bb:cc:dd:ee:ff); the original text if not a MAC.'),
    col('endpoint_ip', 'string', 'Endpoint IP address.'),
    col('user_name', 'string', 'User name (UserName, User-Name, then AdminName / SystemUser).'),
    col('nas_ip', 'string', 'IP of the network access device (NAS-IP-Address / EndpointNADAddress).'),
  ];
}

export function attributesColumn(): ColumnDef {
  return col('attributes', 'map', 'Every key=value pair of the message (`\\,` unescaped; repeated keys as a JSON array text).');
}

export const macFormat: Expectation = {
  name: 'endpoint_mac_format',
  action: 'warn',
  description: 'endpoint_mac is null or a 48-bit MAC in lower-case colon form',
  check: (row) => row.endpoint_mac === null || row.endpoint_mac === undefined || (typeof row.endpoint_mac === 'string' && MAC48.test(row.endpoint_mac)),
};

export const ipFormat: Expectation = {
  name: 'endpoint_ip_format',
  action: 'warn',
  description: 'endpoint_ip is null or an IPv4/IPv6 address',
  check: (row) => row.endpoint_ip === null || row.endpoint_ip === undefined || (typeof row.endpoint_ip === 'string' && isIpAddress(row.endpoint_ip)),
};
