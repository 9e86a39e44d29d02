// Silver table for Defender XDR AdvancedHunting-DeviceNetworkEvents (connections, listeners, inspected traffic):
// declared columns, partitioning and expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import { deviceColumns, initiatingProcessColumns, initiatingSessionColumns, prop, trailerColumns } from './defenderColumns.ts';
import { actionTypeKnown, deviceIdPresent, portInRange, reportIdNonNegative } from './defenderExpectations.ts';

export const NETWORK_ACTION_TYPES = [
  'ConnectionSuccess',
  'ConnectionFailed',
  'ConnectionAttempt',
  'ConnectionRequest',
  'ConnectionFound',
  'ConnectionAcknowledged',
  'InboundConnectionAccepted',
  'InboundConnectionAttempt',
  'InboundConnectionAcknowledged',
  'ListeningConnectionCreated',
  'NetworkSignatureInspected',
  'DnsConnectionInspected',
  'HttpConnectionInspected',
  'SslConnectionInspected',
  'SshConnectionInspected',
  'IcmpConnectionInspected',
] as const;

export const deviceNetworkEvents: TableDefinition = {
  name: 'defender_device_network_events',
  layer: 'silver',
  doc: 'Defender for Endpoint network connection and listener events (AdvancedHunting-DeviceNetworkEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('RemoteIP', 'string', 'IP address of the remote end.'),
    prop('RemotePort', 'integer', 'Port on the remote end.'),
    prop('RemoteUrl', 'string', 'URL or FQDN that was connected to.'),
    prop('LocalIP', 'string', 'IP address on the device.'),
    prop('LocalPort', 'integer', 'Port on the device (the listening port for ListeningConnectionCreated).'),
    prop('Protocol', 'string', 'Network protocol (e.g. Tcp, TcpV4, Udp).'),
    prop('LocalIPType', 'string', 'Kind of the local address (Public, Private, Loopback, …).'),
    prop('RemoteIPType', 'string', 'Kind of the remote address (Public, Private, Loopback, …).'),
    ...initiatingProcessColumns(),
    ...initiatingSessionColumns(),
    ...trailerColumns(true),
  ],
  enrich: { geoip: ['RemoteIP'], domain: ['RemoteUrl'], attribution: ['LocalIP'] },
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    portInRange('valid_remote_port', 'RemotePort'),
    portInRange('valid_local_port', 'LocalPort'),
    actionTypeKnown(NETWORK_ACTION_TYPES),
    {
      name: 'listener_has_local_port',
      action: 'warn',
      description: 'ListeningConnectionCreated rows carry the listening LocalPort',
      check: (row) => row.ActionType !== 'ListeningConnectionCreated' || typeof row.LocalPort === 'number',
    },
  ],
};
