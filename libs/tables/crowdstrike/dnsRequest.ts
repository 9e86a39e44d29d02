// Silver table crowdstrike_dns_request: DNS lookups seen by the Falcon sensor (DnsRequest).
import type { TableDefinition } from '../tableDefinition.ts';
import { eventColumns, fdr, rescuedColumn } from './crowdstrikeColumns.ts';
import { aidPresent } from './crowdstrikeExpectations.ts';

export const crowdstrikeDnsRequest: TableDefinition = {
  name: 'crowdstrike_dns_request',
  layer: 'silver',
  doc: 'CrowdStrike Falcon DNS requests (DnsRequest) from the Falcon Data Replicator.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...eventColumns(),
    fdr('DomainName', 'string', 'Name that was looked up (IoC: domain/hostname).'),
    fdr('RequestType', 'integer', 'DNS record type requested (1 A, 28 AAAA, …).'),
    fdr('DnsResponseType', 'integer', 'Kind of response.'),
    fdr('QueryStatus', 'long', 'Status of the query (0 success, else a Windows DNS error code).'),
    fdr('IP4Records', 'string', 'IPv4 answers, ";"-separated.'),
    fdr('CNAMERecords', 'string', 'CNAME chain, ";"-separated.'),
    fdr('FirstIP4Record', 'string', 'First IPv4 answer.'),
    fdr('RespondingDnsServer', 'string', 'Server that answered.'),
    fdr('InterfaceIndex', 'long', 'Network interface index.'),
    fdr('DualRequest', 'boolean', 'Whether A and AAAA were asked together ("1"/"0" in FDR).'),
    fdr('DnsRequestCount', 'integer', 'Number of identical requests folded into this event.'),
    rescuedColumn(),
  ],
  enrich: { geoip: ['aip'], domain: ['DomainName'] },
  expectations: [aidPresent],
};
