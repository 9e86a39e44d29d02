// Silver table for Zeek conn.log: one row per connection (TCP, UDP, ICMP flows) with volumes and state.
import type { TableDefinition } from '../tableDefinition.ts';
import { CONN_ID, trailerColumns, TS, UID, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { connectionExpectations } from './zeekExpectations.ts';

export const CONN_PROTOS = ['tcp', 'udp', 'icmp', 'unknown_transport'] as const;

export const CONN_FIELDS: readonly ZeekField[] = [
  TS,
  UID,
  ...CONN_ID,
  ['proto', 'enum', 'Transport protocol (tcp, udp, icmp)'],
  ['service', 'string', 'Application protocols detected on the connection, comma-separated (e.g. dns, ssl,http)'],
  ['duration', 'interval', 'Connection duration in seconds'],
  ['orig_bytes', 'count', 'Payload bytes sent by the originator'],
  ['resp_bytes', 'count', 'Payload bytes sent by the responder'],
  ['conn_state', 'string', 'Connection state (S0, SF, REJ, RSTO, OTH, …)'],
  ['local_orig', 'bool', 'Whether the originator is in Site::local_nets'],
  ['local_resp', 'bool', 'Whether the responder is in Site::local_nets'],
  ['missed_bytes', 'count', 'Bytes missed in content gaps'],
  ['history', 'string', 'State history of the connection (e.g. ShADadFf)'],
  ['orig_pkts', 'count', 'Packets sent by the originator'],
  ['orig_ip_bytes', 'count', 'IP-level bytes sent by the originator'],
  ['resp_pkts', 'count', 'Packets sent by the responder'],
  ['resp_ip_bytes', 'count', 'IP-level bytes sent by the responder'],
  ['tunnel_parents', 'set[string]', 'uids of encapsulating connections'],
  ['ip_proto', 'count', 'IP protocol number (Zeek 7.1+)'],
  ['orig_l2_addr', 'string', 'Originator link-layer (MAC) address (policy mac-logging)'],
  ['resp_l2_addr', 'string', 'Responder link-layer (MAC) address (policy mac-logging)'],
  ['vlan', 'int', 'Outer VLAN id (policy vlan-logging)'],
  ['inner_vlan', 'int', 'Inner VLAN id (policy vlan-logging)'],
  ['community_id', 'string', 'Community ID flow hash (policy community-id-logging)'],
];

export const zeekConn: TableDefinition = {
  name: 'zeek_conn',
  layer: 'silver',
  doc: 'Zeek conn.log: one row per connection (TCP, UDP, ICMP flows) with byte and packet counts and connection state.',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [...zeekColumns(CONN_FIELDS), ...trailerColumns()],
  enrich: { geoip: ['id_resp_h'], attribution: ['id_orig_h'] },
  expectations: [
    ...connectionExpectations(),
    {
      name: 'proto_known',
      action: 'warn',
      description: `proto is one of ${CONN_PROTOS.join(', ')}`,
      check: (row) => typeof row.proto === 'string' && (CONN_PROTOS as readonly string[]).includes(row.proto),
    },
  ],
};
