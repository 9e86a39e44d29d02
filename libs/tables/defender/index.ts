// Registry of the Defender XDR silver tables keyed by AdvancedHunting category (without the prefix),
// and the category → table name mapping the parser routes with.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { deviceFileEvents } from './deviceFileEvents.ts';
import { deviceLogonEvents } from './deviceLogonEvents.ts';
import { deviceNetworkEvents } from './deviceNetworkEvents.ts';
import { deviceProcessEvents } from './deviceProcessEvents.ts';
import { deviceRegistryEvents } from './deviceRegistryEvents.ts';

export { deviceFileEvents, FILE_ACTION_TYPES } from './deviceFileEvents.ts';
export { deviceLogonEvents, LOGON_ACTION_TYPES, LOGON_TYPES } from './deviceLogonEvents.ts';
export { deviceNetworkEvents, NETWORK_ACTION_TYPES } from './deviceNetworkEvents.ts';
export { deviceProcessEvents, PROCESS_ACTION_TYPES } from './deviceProcessEvents.ts';
export { deviceRegistryEvents, REGISTRY_ACTION_TYPES } from './deviceRegistryEvents.ts';

/** Prefix of the `category` field of streamed AdvancedHunting records. */
export const ADVANCED_HUNTING_PREFIX = 'AdvancedHunting-';

/** Category (without 'AdvancedHunting-') → table definition. */
export const defenderTables: Record<string, TableDefinition> = {
  DeviceProcessEvents: deviceProcessEvents,
  DeviceNetworkEvents: deviceNetworkEvents,
  DeviceLogonEvents: deviceLogonEvents,
  DeviceFileEvents: deviceFileEvents,
  DeviceRegistryEvents: deviceRegistryEvents,
};

for (const def of Object.values(defenderTables)) assertValidDefinition(def);

/** 'AdvancedHunting-DeviceNetworkEvents' or 'DeviceNetworkEvents' → 'DeviceNetworkEvents'. */
export function defenderCategoryKey(category: string): string {
  return category.startsWith(ADVANCED_HUNTING_PREFIX) ? category.slice(ADVANCED_HUNTING_PREFIX.length) : category;
}

/** The table for a record's category (with or without the prefix); undefined for categories sluice has no table for. */
export function defenderTableOf(category: string): TableDefinition | undefined {
  const key = defenderCategoryKey(category);
  return Object.hasOwn(defenderTables, key) ? defenderTables[key] : undefined;
}

/** Table name for a category, e.g. 'AdvancedHunting-DeviceProcessEvents' → 'defender_device_process_events'; undefined if unknown. */
export function defenderTableName(category: string): string | undefined {
  return defenderTableOf(category)?.name;
}
