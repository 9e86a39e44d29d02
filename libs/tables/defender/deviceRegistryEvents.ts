// Silver table for Defender XDR AdvancedHunting-DeviceRegistryEvents (registry key and value changes):
// declared columns, partitioning and expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import { deviceColumns, initiatingProcessColumns, initiatingSessionColumns, prop, trailerColumns } from './defenderColumns.ts';
import { actionTypeKnown, deviceIdPresent, isPresent, reportIdNonNegative } from './defenderExpectations.ts';

export const REGISTRY_ACTION_TYPES = [
  'RegistryKeyCreated',
  'RegistryKeyDeleted',
  'RegistryKeyRenamed',
  'RegistryValueSet',
  'RegistryValueDeleted',
] as const;

export const deviceRegistryEvents: TableDefinition = {
  name: 'defender_device_registry_events',
  layer: 'silver',
  doc: 'Defender for Endpoint registry events (AdvancedHunting-DeviceRegistryEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('RegistryKey', 'string', 'Registry key acted on.'),
    prop('RegistryValueType', 'string', 'Data type of the registry value (String, Dword, Binary, …).'),
    prop('RegistryValueName', 'string', 'Name of the registry value.'),
    prop('RegistryValueData', 'string', 'Data of the registry value.'),
    prop('PreviousRegistryKey', 'string', 'Key before the change.'),
    prop('PreviousRegistryValueName', 'string', 'Value name before the change.'),
    prop('PreviousRegistryValueData', 'string', 'Value data before the change.'),
    ...initiatingProcessColumns(),
    ...initiatingSessionColumns(),
    ...trailerColumns(false),
  ],
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    actionTypeKnown(REGISTRY_ACTION_TYPES),
    {
      name: 'registry_key_present',
      action: 'warn',
      description: 'RegistryKey or PreviousRegistryKey is non-empty (deletions may only carry the previous key)',
      check: (row) => isPresent(row.RegistryKey) || isPresent(row.PreviousRegistryKey),
    },
  ],
};
