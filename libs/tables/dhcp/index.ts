// Registry of the DHCP silver table keyed by the category token the `dhcp` family routes to.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { dhcpLeases } from './dhcpLeases.ts';

export { dhcpLeases, DHCP_EVENT_TYPES, TYPES_WITHOUT_IP, TYPES_WITHOUT_MAC } from './dhcpLeases.ts';
export { isIpAddress, MAC48, macOrText, normalizeMac } from './addresses.ts';

/** Category token → table. */
export const dhcpTables: Record<string, TableDefinition> = { lease: dhcpLeases };

for (const def of Object.values(dhcpTables)) assertValidDefinition(def);
