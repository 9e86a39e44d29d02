// Registry of the Zeek silver tables keyed by log path (the `#path` / `_path` / file name token).
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { zeekConn } from './conn.ts';
import { zeekDhcp } from './dhcp.ts';
import { zeekDns } from './dns.ts';
import { zeekHttp } from './http.ts';
import { zeekNotice } from './notice.ts';
import { zeekSsl } from './ssl.ts';

export { zeekConn, CONN_FIELDS, CONN_PROTOS } from './conn.ts';
export { zeekDhcp, DHCP_FIELDS } from './dhcp.ts';
export { zeekDns, DNS_FIELDS } from './dns.ts';
export { zeekHttp, HTTP_FIELDS } from './http.ts';
export { zeekNotice, NOTICE_FIELDS } from './notice.ts';
export { zeekSsl, SSL_FIELDS } from './ssl.ts';
export { columnTypeOf, RESCUED_COLUMN, zeekColumnName, type ZeekField } from './zeekColumns.ts';

/** Zeek log path → table definition. */
export const zeekTables: Record<string, TableDefinition> = {
  conn: zeekConn,
  dhcp: zeekDhcp,
  dns: zeekDns,
  http: zeekHttp,
  notice: zeekNotice,
  ssl: zeekSsl,
};

for (const def of Object.values(zeekTables)) assertValidDefinition(def);
