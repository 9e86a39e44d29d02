// Silver table for Zeek dhcp.log (Zeek 2.6+ layout): one row per DHCP exchange, with the client MAC and the
// requested/assigned addresses. The log has no `uid` or `id.*`: it lists the uids of the exchange's connections.
import type { TableDefinition } from '../tableDefinition.ts';
import { trailerColumns, TS, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { tsNotNull } from './zeekExpectations.ts';

export const DHCP_FIELDS: readonly ZeekField[] = [
  TS,
  ['uids', 'set[string]', 'uids of the connections that carried the exchange'],
  ['client_addr', 'addr', 'IP address of the client (when it had one)'],
  ['server_addr', 'addr', 'IP address of the DHCP server'],
  ['mac', 'string', 'Client hardware (MAC) address'],
  ['host_name', 'string', 'Host name the client sent (option 12)'],
  ['client_fqdn', 'string', 'FQDN the client sent (option 81)'],
  ['domain', 'string', 'Domain name the server gave (option 15)'],
  ['requested_addr', 'addr', 'Address the client asked for'],
  ['assigned_addr', 'addr', 'Address the server assigned'],
  ['lease_time', 'interval', 'Lease duration in seconds'],
  ['client_message', 'string', 'Message the client sent with a DHCPDECLINE'],
  ['server_message', 'string', 'Message the server sent with a DHCPNAK'],
  ['msg_types', 'vector[string]', 'DHCP message types seen in the exchange, in order (DISCOVER, OFFER, REQUEST, ACK, …)'],
  ['duration', 'interval', 'Time from the first to the last message of the exchange, in seconds'],
  ['msg_orig', 'vector[addr]', 'Sender address of each message (policy dhcp/msg-orig)'],
  ['client_software', 'string', 'Client software (vendor class, policy dhcp/software)'],
  ['server_software', 'string', 'Server software (policy dhcp/software)'],
  ['circuit_id', 'string', 'Relay agent circuit id (policy dhcp/sub-opts)'],
  ['agent_remote_id', 'string', 'Relay agent remote id (policy dhcp/sub-opts)'],
  ['subscriber_id', 'string', 'Relay agent subscriber id (policy dhcp/sub-opts)'],
];

export const zeekDhcp: TableDefinition = {
  name: 'zeek_dhcp',
  layer: 'silver',
  doc: 'Zeek dhcp.log: one row per DHCP exchange with client MAC, host name and requested/assigned addresses.',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [...zeekColumns(DHCP_FIELDS), ...trailerColumns()],
  expectations: [
    tsNotNull,
    {
      name: 'assigned_addr_has_mac',
      action: 'warn',
      description: 'a row with assigned_addr also has mac (needed to attribute the address)',
      check: (row) => row.assigned_addr === null || row.assigned_addr === undefined || (typeof row.mac === 'string' && row.mac !== ''),
    },
  ],
};
