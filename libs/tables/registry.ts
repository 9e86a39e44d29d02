// Every table sluice writes, for services that handle all of them (enricher, sink) and for generated docs.
import { defenderTables } from './defender/index.ts';
import { alertsTable, bronzeTable, quarantineTable, unroutedTable } from './platform/index.ts';
import type { TableDefinition } from './tableDefinition.ts';

export function allTables(): TableDefinition[] {
  return [bronzeTable, unroutedTable, ...Object.values(defenderTables), alertsTable, quarantineTable];
}
