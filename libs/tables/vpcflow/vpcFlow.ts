// Silver table for AWS VPC and Transit Gateway flow logs (any format version 2–8, default or custom field order):
// one row per flow record, columns named as in AWS's Parquet schema (`account-id` → `account_id`).
import type { ColumnDef, ColumnType, Expectation, Row, TableDefinition } from '../tableDefinition.ts';

function col(name: string, type: ColumnType, doc: string, nullable = true): ColumnDef {
  return { name, type, nullable, doc };
}

const ACTIONS = new Set(['ACCEPT', 'REJECT']);
const LOG_STATUSES = new Set(['OK', 'NODATA', 'SKIPDATA']);

const isPort = (v: Row[string] | undefined): boolean => v === null || v === undefined || (typeof v === 'number' && v >= 0 && v <= 65_535);

export const VPC_FLOW_EXPECTATIONS: Expectation[] = [
  {
    name: 'valid_ports',
    action: 'quarantine',
    description: 'srcport and dstport are null or within 0..65535',
    check: (row) => isPort(row.srcport) && isPort(row.dstport),
  },
  {
    name: 'end_not_before_start',
    action: 'warn',
    description: 'end >= start (the capture window is not reversed)',
    check: (row) => typeof row.start !== 'number' || typeof row.end !== 'number' || row.end >= row.start,
  },
  {
    name: 'log_status_known',
    action: 'warn',
    description: 'log_status is OK, NODATA or SKIPDATA (or absent from a custom format)',
    check: (row) => row.log_status === null || row.log_status === undefined || LOG_STATUSES.has(String(row.log_status)),
  },
  {
    name: 'action_known',
    action: 'warn',
    description: 'action is ACCEPT, REJECT or null (null on NODATA/SKIPDATA rows and Transit Gateway records)',
    check: (row) => row.action === null || row.action === undefined || ACTIONS.has(String(row.action)),
  },
  {
    name: 'ok_row_has_addresses',
    action: 'warn',
    description: 'rows with log_status OK carry srcaddr and dstaddr',
    check: (row) => row.log_status !== 'OK' || (row.srcaddr !== null && row.dstaddr !== null),
  },
];

export const vpcFlow: TableDefinition = {
  name: 'vpc_flow',
  layer: 'silver',
  doc:
    'AWS VPC flow log records (text with a header line or the default version 2 order, or Parquet rows) and Transit ' +
    'Gateway flow log records. NODATA/SKIPDATA rows are kept: most of their fields are null.',
  partitionBy: ['eventDate'],
  eventTime: 'start',
  columns: [
    col('version', 'integer', 'Flow log format version (2–8; 6 for Transit Gateway).'),
    col('account_id', 'string', 'AWS account id owning the interface (text: keeps leading zeros).'),
    col('interface_id', 'string', 'Network interface (ENI) the traffic was recorded on.'),
    col('srcaddr', 'string', 'Source IPv4/IPv6 address (for incoming traffic on the interface: the remote peer).'),
    col('dstaddr', 'string', 'Destination IPv4/IPv6 address.'),
    col('srcport', 'integer', 'Source port (0 for ICMP).'),
    col('dstport', 'integer', 'Destination port (0 for ICMP).'),
    col('protocol', 'integer', 'IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).'),
    col('packets', 'long', 'Packets transferred during the capture window.'),
    col('bytes', 'long', 'Bytes transferred during the capture window.'),
    { name: 'start', type: 'timestamp', unit: 's', nullable: false, doc: 'Start of the capture window (source: Unix epoch seconds); gives eventDate.' },
    { name: 'end', type: 'timestamp', unit: 's', nullable: false, doc: 'End of the capture window (source: Unix epoch seconds).' },
    col('action', 'string', 'ACCEPT or REJECT (null on NODATA/SKIPDATA rows).'),
    col('log_status', 'string', 'OK, NODATA (no traffic in the window) or SKIPDATA (records skipped in the window).'),
    // version 3
    col('vpc_id', 'string', 'VPC of the interface.'),
    col('subnet_id', 'string', 'Subnet of the interface.'),
    col('instance_id', 'string', 'EC2 instance of the interface, when it is yours.'),
    col('tcp_flags', 'integer', 'Bitmask of TCP flags seen in the window (FIN 1, SYN 2, RST 4, SYN-ACK 18).'),
    col('type', 'string', 'Traffic type: IPv4, IPv6 or EFA.'),
    col('pkt_srcaddr', 'string', 'Packet-level source address (differs from srcaddr behind NAT / for middleboxes).'),
    col('pkt_dstaddr', 'string', 'Packet-level destination address.'),
    // version 4
    col('region', 'string', 'AWS Region of the interface.'),
    col('az_id', 'string', 'Availability Zone id of the interface.'),
    col('sublocation_type', 'string', 'wavelength, outpost or localzone.'),
    col('sublocation_id', 'string', 'Id of the sublocation.'),
    // version 5
    col('pkt_src_aws_service', 'string', 'AWS service that owns pkt_srcaddr (e.g. AMAZON, S3, CLOUDFRONT).'),
    col('pkt_dst_aws_service', 'string', 'AWS service that owns pkt_dstaddr.'),
    col('flow_direction', 'string', 'ingress or egress, relative to the interface.'),
    col('traffic_path', 'integer', 'Path egress traffic took (1 same VPC … 8 via VPC peering).'),
    // version 7 (ECS)
    col('ecs_cluster_arn', 'string', 'ARN of the ECS cluster of the task.'),
    col('ecs_cluster_name', 'string', 'Name of the ECS cluster.'),
    col('ecs_container_instance_arn', 'string', 'ARN of the ECS container instance.'),
    col('ecs_container_instance_id', 'string', 'Id of the ECS container instance.'),
    col('ecs_container_id', 'string', 'Docker runtime id of the container.'),
    col('ecs_second_container_id', 'string', 'Docker runtime id of a second container of the task.'),
    col('ecs_service_name', 'string', 'ECS service of the task.'),
    col('ecs_task_definition_arn', 'string', 'ARN of the task definition.'),
    col('ecs_task_arn', 'string', 'ARN of the ECS task.'),
    col('ecs_task_id', 'string', 'Id of the ECS task.'),
    // version 8 and newer
    col('reject_reason', 'string', 'Why traffic was rejected (e.g. BPA: VPC Block Public Access).'),
    col('encryption_status', 'string', 'Whether the traffic was encrypted (newest format versions).'),
    // Transit Gateway flow logs (version 6)
    col('resource_type', 'string', 'Transit Gateway records: TransitGateway.'),
    col('tgw_id', 'string', 'Transit gateway id.'),
    col('tgw_attachment_id', 'string', 'Transit gateway attachment id.'),
    col('tgw_src_vpc_account_id', 'string', 'Account of the source VPC.'),
    col('tgw_dst_vpc_account_id', 'string', 'Account of the destination VPC.'),
    col('tgw_src_vpc_id', 'string', 'Source VPC.'),
    col('tgw_dst_vpc_id', 'string', 'Destination VPC.'),
    col('tgw_src_subnet_id', 'string', 'Source subnet.'),
    col('tgw_dst_subnet_id', 'string', 'Destination subnet.'),
    col('tgw_src_eni', 'string', 'Source transit gateway attachment ENI.'),
    col('tgw_dst_eni', 'string', 'Destination transit gateway attachment ENI.'),
    col('tgw_src_az_id', 'string', 'Availability Zone id of the source.'),
    col('tgw_dst_az_id', 'string', 'Availability Zone id of the destination.'),
    col('tgw_pair_attachment_id', 'string', 'Peer attachment id (ingress/egress pair).'),
    col('packets_lost_no_route', 'long', 'Packets lost: no route.'),
    col('packets_lost_blackhole', 'long', 'Packets lost: blackhole route.'),
    col('packets_lost_mtu_exceeded', 'long', 'Packets lost: MTU exceeded.'),
    col('packets_lost_ttl_expired', 'long', 'Packets lost: TTL expired.'),
    col('_rescued_data', 'json', 'Fields this table does not declare (a newer format), as a JSON object by field name; null when none.'),
  ],
  enrich: { geoip: ['srcaddr', 'dstaddr'], attribution: ['srcaddr'] },
  expectations: VPC_FLOW_EXPECTATIONS,
};
