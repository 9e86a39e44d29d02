// Registry of the CrowdStrike Falcon Data Replicator silver tables keyed by category token, and the
// event_simpleName → category mapping the splitter routes with.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { crowdstrikeDnsRequest } from './dnsRequest.ts';
import { crowdstrikeFileWrite, isFileWrittenEvent } from './fileWrite.ts';
import { crowdstrikeNetworkAccept, crowdstrikeNetworkConnect, crowdstrikeNetworkListen } from './network.ts';
import { crowdstrikeOther } from './other.ts';
import { crowdstrikeProcess } from './process.ts';
import { crowdstrikeUserLogon } from './userLogon.ts';

export { crowdstrikeDnsRequest } from './dnsRequest.ts';
export { crowdstrikeFileWrite, isFileWrittenEvent } from './fileWrite.ts';
export { ACCEPT_EVENTS, CONNECT_EVENTS, crowdstrikeNetworkAccept, crowdstrikeNetworkConnect, crowdstrikeNetworkListen, LISTEN_EVENTS } from './network.ts';
export { crowdstrikeOther, OTHER_EVENT_KEY } from './other.ts';
export { crowdstrikeProcess, PROCESS_EVENTS } from './process.ts';
export { crowdstrikeUserLogon, LOGON_EVENTS } from './userLogon.ts';
export { RESCUED_COLUMN } from './crowdstrikeColumns.ts';

/** Category token (= table name without `crowdstrike_`) → table. */
export const crowdstrikeTables: Record<string, TableDefinition> = {
  process: crowdstrikeProcess,
  dns_request: crowdstrikeDnsRequest,
  network_connect: crowdstrikeNetworkConnect,
  network_listen: crowdstrikeNetworkListen,
  network_accept: crowdstrikeNetworkAccept,
  user_logon: crowdstrikeUserLogon,
  file_write: crowdstrikeFileWrite,
  other: crowdstrikeOther,
};

for (const def of Object.values(crowdstrikeTables)) assertValidDefinition(def);

const BY_SIMPLE_NAME: ReadonlyMap<string, string> = new Map([
  ['ProcessRollup2', 'process'],
  ['SyntheticProcessRollup2', 'process'],
  ['EndOfProcess', 'process'],
  ['DnsRequest', 'dns_request'],
  ['NetworkConnectIP4', 'network_connect'],
  ['NetworkConnectIP6', 'network_connect'],
  ['NetworkListenIP4', 'network_listen'],
  ['NetworkListenIP6', 'network_listen'],
  ['NetworkReceiveAcceptIP4', 'network_accept'],
  ['NetworkReceiveAcceptIP6', 'network_accept'],
  ['UserLogon', 'user_logon'],
  ['UserLogonFailed', 'user_logon'],
  ['UserLogonFailed2', 'user_logon'],
]);

/** The category token for an event_simpleName; every name has one (`other` for those without a table). */
export function crowdstrikeCategoryOf(simpleName: string): string {
  return BY_SIMPLE_NAME.get(simpleName) ?? (isFileWrittenEvent(simpleName) ? 'file_write' : 'other');
}
