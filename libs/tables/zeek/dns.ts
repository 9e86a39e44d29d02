// Silver table for Zeek dns.log: one row per DNS query/response pair.
import type { TableDefinition } from '../tableDefinition.ts';
import { CONN_ID, trailerColumns, TS, UID, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { connectionExpectations } from './zeekExpectations.ts';

export const DNS_FIELDS: readonly ZeekField[] = [
  TS,
  UID,
  ...CONN_ID,
  ['proto', 'enum', 'Transport protocol of the query (udp, tcp)'],
  ['trans_id', 'count', 'DNS transaction id'],
  ['rtt', 'interval', 'Time between query and response, in seconds'],
  ['query', 'string', 'Domain name queried'],
  ['qclass', 'count', 'Query class value'],
  ['qclass_name', 'string', 'Query class name (C_INTERNET, …)'],
  ['qtype', 'count', 'Query type value'],
  ['qtype_name', 'string', 'Query type name (A, AAAA, PTR, …)'],
  ['rcode', 'count', 'Response code value'],
  ['rcode_name', 'string', 'Response code name (NOERROR, NXDOMAIN, …)'],
  ['AA', 'bool', 'Authoritative answer flag'],
  ['TC', 'bool', 'Truncation flag'],
  ['RD', 'bool', 'Recursion desired flag'],
  ['RA', 'bool', 'Recursion available flag'],
  ['Z', 'count', 'Reserved field (normally 0)'],
  ['answers', 'vector[string]', 'Answer resource record data, in order'],
  ['TTLs', 'vector[interval]', 'TTL of each answer, in seconds'],
  ['rejected', 'bool', 'Whether the server rejected the query'],
  ['auth', 'set[string]', 'Authority section names (policy dns/auth-addl)'],
  ['addl', 'set[string]', 'Additional section names (policy dns/auth-addl)'],
];

export const zeekDns: TableDefinition = {
  name: 'zeek_dns',
  layer: 'silver',
  doc: 'Zeek dns.log: one row per DNS query and its response (answers and TTLs as JSON arrays).',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [...zeekColumns(DNS_FIELDS), ...trailerColumns()],
  enrich: { domain: ['query'], attribution: ['id_orig_h'] },
  expectations: connectionExpectations(),
};
