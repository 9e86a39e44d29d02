// Registry of the Windows event log (winlogbeat) tables keyed by category token: `winlog` (every record),
// `process` (Sysmon 1/5/18) and `network_connection` (Sysmon 3).
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { winlogNetworkConnection } from './networkConnection.ts';
import { winlogProcess } from './process.ts';
import { winlogBronze } from './winlogBronze.ts';

export { NETWORK_EVENT_IDS, winlogNetworkConnection } from './networkConnection.ts';
export { PROCESS_EVENT_IDS, winlogProcess } from './process.ts';
export { SOURCE_TYPES, winlogBronze } from './winlogBronze.ts';

export const winlogTables: Record<string, TableDefinition> = {
  winlog: winlogBronze,
  process: winlogProcess,
  network_connection: winlogNetworkConnection,
};

for (const def of Object.values(winlogTables)) assertValidDefinition(def);
