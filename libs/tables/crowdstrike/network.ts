// Silver tables for the Falcon network events: outbound connections (NetworkConnectIP4/IP6), listening sockets
// (NetworkListenIP4/IP6, read by the "vulnerable service listening" detection) and accepted inbound connections
// (NetworkReceiveAcceptIP4/IP6). One column set, three tables.
import type { ColumnDef, Expectation, TableDefinition } from '../tableDefinition.ts';
import { eventColumns, fdr, rescuedColumn } from './crowdstrikeColumns.ts';
import { aidPresent, portInRange, simpleNameKnown } from './crowdstrikeExpectations.ts';

function networkColumns(): ColumnDef[] {
  return [
    ...eventColumns(),
    fdr('LocalAddressIP4', 'string', 'Local IPv4 address.'),
    fdr('LocalAddressIP6', 'string', 'Local IPv6 address.'),
    fdr('LocalPort', 'integer', 'Local port (the listening port for NetworkListen).'),
    fdr('RemoteAddressIP4', 'string', 'Remote IPv4 address (GeoIP enriched).'),
    fdr('RemoteAddressIP6', 'string', 'Remote IPv6 address.'),
    fdr('RemotePort', 'integer', 'Remote port.'),
    fdr('Protocol', 'integer', 'IANA protocol number (6 TCP, 17 UDP).'),
    fdr('ConnectionFlags', 'long', 'Connection flags.'),
    fdr('ConnectionDirection', 'integer', 'Direction (0 outbound, 1 inbound, 2 neither).'),
    fdr('InContext', 'boolean', 'Whether the event was seen in the context of the owning process ("1"/"0").'),
    fdr('OriginatingURL', 'string', 'URL that caused the connection (mobile sensors).'),
    rescuedColumn(),
  ];
}

function networkTable(name: string, events: readonly string[], doc: string, extra: Expectation[] = []): TableDefinition {
  return {
    name,
    layer: 'silver',
    doc,
    partitionBy: ['eventDate'],
    eventTime: 'timestamp',
    columns: networkColumns(),
    enrich: { geoip: ['aip', 'RemoteAddressIP4'], attribution: ['LocalAddressIP4'] },
    expectations: [
      aidPresent,
      portInRange('LocalPort'),
      portInRange('RemotePort'),
      simpleNameKnown((n) => events.includes(n), `event_simpleName is one of ${events.join(', ')}`),
      ...extra,
    ],
  };
}

export const CONNECT_EVENTS = ['NetworkConnectIP4', 'NetworkConnectIP6'] as const;
export const LISTEN_EVENTS = ['NetworkListenIP4', 'NetworkListenIP6'] as const;
export const ACCEPT_EVENTS = ['NetworkReceiveAcceptIP4', 'NetworkReceiveAcceptIP6'] as const;

export const crowdstrikeNetworkConnect = networkTable(
  'crowdstrike_network_connect',
  CONNECT_EVENTS,
  'CrowdStrike Falcon outbound network connections (NetworkConnectIP4/IP6) from the Falcon Data Replicator.',
);

export const crowdstrikeNetworkListen = networkTable(
  'crowdstrike_network_listen',
  LISTEN_EVENTS,
  'CrowdStrike Falcon listening sockets (NetworkListenIP4/IP6) from the Falcon Data Replicator; LocalPort is the listening port.',
  [
    {
      name: 'listener_has_local_port',
      action: 'warn',
      description: 'NetworkListen rows carry the listening LocalPort',
      check: (row) => typeof row.LocalPort === 'number',
    },
  ],
);

export const crowdstrikeNetworkAccept = networkTable(
  'crowdstrike_network_accept',
  ACCEPT_EVENTS,
  'CrowdStrike Falcon accepted inbound connections (NetworkReceiveAcceptIP4/IP6) from the Falcon Data Replicator.',
);
