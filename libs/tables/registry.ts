// Every table sluice writes, for services that handle all of them (enricher, sink) and for generated docs.
import { cloudtrailTables } from './cloudtrail/index.ts';
import { crowdstrikeTables } from './crowdstrike/index.ts';
import { defenderTables } from './defender/index.ts';
import { dhcpTables } from './dhcp/index.ts';
import { iseTables } from './ise/index.ts';
import { threatintelTables } from './threatintel/index.ts';
import { vpcflowTables } from './vpcflow/index.ts';
import { winlogTables } from './winlog/index.ts';
import { zeekTables } from './zeek/index.ts';
import { alertsTable, bronzeTable, ipLookupTable, quarantineTable, unroutedTable } from './platform/index.ts';
import type { TableDefinition } from './tableDefinition.ts';

/** Silver tables of every source family (category → table per family). */
export const familyTables: Readonly<Record<string, Readonly<Record<string, TableDefinition>>>> = {
  defender: defenderTables,
  cloudtrail: cloudtrailTables,
  vpcflow: vpcflowTables,
  zeek: zeekTables,
  ise: iseTables,
  dhcp: dhcpTables,
  crowdstrike: crowdstrikeTables,
  winlog: winlogTables,
  threatintel: threatintelTables,
};

export function allTables(): TableDefinition[] {
  const silver = Object.values(familyTables).flatMap((t) => Object.values(t));
  return [bronzeTable, unroutedTable, ...silver, alertsTable, ipLookupTable, quarantineTable];
}
