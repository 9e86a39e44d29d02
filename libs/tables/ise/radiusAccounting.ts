// Silver table for Cisco ISE RADIUS accounting (logging category CISE_RADIUS_Accounting): network sessions of
// wired, wireless and VPN clients — Start, Interim-Update (watchdog) and Stop with the address the NAS framed
// (Framed-IP-Address), the user, the client MAC (Calling-Station-ID) and the session's counters. The ip_attribution
// rule reads it: who held which address during which session.
import type { TableDefinition } from '../tableDefinition.ts';
import { attributesColumn, endpointColumns, ipFormat, iseHeaderColumns, macFormat } from './iseColumns.ts';

/** Acct-Status-Type values of a session (RFC 2866); Accounting-On / -Off are NAS restarts. */
export const ACCT_STATUS_TYPES = ['Start', 'Interim-Update', 'Stop', 'Accounting-On', 'Accounting-Off'] as const;

export const iseRadiusAccounting: TableDefinition = {
  name: 'ise_radius_accounting',
  layer: 'silver',
  doc: 'Cisco ISE RADIUS accounting (CISE_RADIUS_Accounting): session Start / Interim-Update / Stop with the framed IP, user and client MAC.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...iseHeaderColumns(),
    ...endpointColumns(),
    { name: 'acct_status_type', type: 'string', doc: 'Acct-Status-Type: Start, Interim-Update, Stop (Accounting-On / Accounting-Off: the NAS restarted).' },
    { name: 'acct_session_id', type: 'string', doc: 'Acct-Session-Id: the NAS session id; Start, updates and Stop of one session share it.' },
    { name: 'audit_session_id', type: 'string', doc: 'CPMSessionID / cisco-av-pair audit-session-id: the ISE session id (joins authentications).' },
    { name: 'event_timestamp', type: 'timestamp', unit: 's', doc: 'Event-Timestamp: when the NAS saw the event (epoch seconds → UTC), when sent.' },
    { name: 'acct_session_time', type: 'long', doc: 'Acct-Session-Time: seconds the session has lasted (updates, Stop).' },
    { name: 'acct_delay_time', type: 'integer', doc: 'Acct-Delay-Time: seconds the NAS spent trying to send this record.' },
    { name: 'acct_input_octets', type: 'long', doc: 'Acct-Input-Octets: bytes received from the client.' },
    { name: 'acct_output_octets', type: 'long', doc: 'Acct-Output-Octets: bytes sent to the client.' },
    { name: 'acct_input_packets', type: 'long', doc: 'Acct-Input-Packets.' },
    { name: 'acct_output_packets', type: 'long', doc: 'Acct-Output-Packets.' },
    { name: 'acct_terminate_cause', type: 'string', doc: 'Acct-Terminate-Cause of a Stop (User Request, Idle Timeout, Lost Carrier, …).' },
    { name: 'calling_station_id', type: 'string', doc: 'Calling-Station-ID as sent: the client MAC (wired / wireless) or the client public IP (VPN).' },
    { name: 'called_station_id', type: 'string', doc: 'Called-Station-ID: the access point / switch port MAC (and SSID), or the VPN head-end address.' },
    { name: 'network_device_name', type: 'string', doc: 'NetworkDeviceName: the network device (NAS) as configured in ISE.' },
    { name: 'nas_identifier', type: 'string', doc: 'NAS-Identifier sent by the network device.' },
    { name: 'nas_port_type', type: 'string', doc: 'NAS-Port-Type: Ethernet, Wireless - IEEE 802.11, Virtual (VPN), …' },
    { name: 'framed_ipv6_address', type: 'string', doc: 'Framed-IPv6-Address when the NAS reports one.' },
    attributesColumn(),
  ],
  expectations: [
    {
      name: 'acct_status_type_known',
      action: 'warn',
      description: `acct_status_type is one of ${ACCT_STATUS_TYPES.join(', ')}`,
      check: (row) => typeof row.acct_status_type === 'string' && (ACCT_STATUS_TYPES as readonly string[]).includes(row.acct_status_type),
    },
    {
      name: 'acct_session_id_present',
      action: 'warn',
      description: 'acct_session_id is present (Start, updates and Stop of a session are tied by it)',
      check: (row) => typeof row.acct_session_id === 'string' && row.acct_session_id !== '',
    },
    macFormat,
    ipFormat,
  ],
};
