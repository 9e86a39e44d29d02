// Table `network_connection`: Sysmon network connections (event 3) with OSSEM-style names; dst_ip is GeoIP enriched.
import type { TableDefinition } from '../tableDefinition.ts';
import { col, layoutColumn, processColumns, sysmonEventColumns } from './winlogColumns.ts';
import { eventIdIn, portInRange, processGuidPresent } from './winlogExpectations.ts';

export const NETWORK_EVENT_IDS = [3] as const;

export const winlogNetworkConnection: TableDefinition = {
  name: 'network_connection',
  layer: 'silver',
  doc: 'Sysmon network connections (event 3) from winlogbeat, with OSSEM-style column names.',
  partitionBy: ['eventDate'],
  eventTime: 'event_time',
  columns: [
    ...sysmonEventColumns(),
    ...processColumns(),
    col('network_protocol', 'string', 'Transport protocol (Protocol: tcp, udp).'),
    col('network_initiated', 'boolean', 'Whether the process initiated the connection (Initiated).'),
    col('src_is_ipv6', 'boolean', 'SourceIsIpv6.'),
    col('src_ip', 'string', 'Source address (SourceIp).'),
    col('src_host_name', 'string', 'Source host name (SourceHostname).'),
    col('src_port', 'integer', 'Source port (SourcePort).'),
    col('src_port_name', 'string', 'Source port name (SourcePortName).'),
    col('dst_is_ipv6', 'boolean', 'DestinationIsIpv6.'),
    col('dst_ip', 'string', 'Destination address (DestinationIp; GeoIP enriched).'),
    col('dst_host_name', 'string', 'Destination host name (DestinationHostname).'),
    col('dst_port', 'integer', 'Destination port (DestinationPort).'),
    col('dst_port_name', 'string', 'Destination port name (DestinationPortName).'),
    layoutColumn(),
  ],
  enrich: { geoip: ['dst_ip'], attribution: ['src_ip'] },
  expectations: [eventIdIn(NETWORK_EVENT_IDS), processGuidPresent, portInRange('src_port'), portInRange('dst_port')],
};
