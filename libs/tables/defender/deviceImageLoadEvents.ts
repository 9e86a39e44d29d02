// Silver table for Defender XDR AdvancedHunting-DeviceImageLoadEvents (DLL / image loads): declared columns,
// partitioning and expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import { deviceColumns, initiatingProcessColumns, initiatingSessionColumns, prop, trailerColumns } from './defenderColumns.ts';
import { actionTypeKnown, deviceIdPresent, isPresent, reportIdNonNegative } from './defenderExpectations.ts';

export const IMAGE_LOAD_ACTION_TYPES = ['ImageLoaded'] as const;

export const deviceImageLoadEvents: TableDefinition = {
  name: 'defender_device_image_load_events',
  layer: 'silver',
  doc: 'Defender for Endpoint image (DLL) load events (AdvancedHunting-DeviceImageLoadEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('FileName', 'string', 'Name of the loaded image.'),
    prop('FolderPath', 'string', 'Path of the loaded image.'),
    prop('SHA1', 'string', 'SHA-1 of the loaded image.'),
    prop('SHA256', 'string', 'SHA-256 of the loaded image (often empty).'),
    prop('MD5', 'string', 'MD5 of the loaded image.'),
    prop('FileSize', 'long', 'Size of the loaded image in bytes.'),
    ...initiatingProcessColumns(),
    ...initiatingSessionColumns(),
    ...trailerColumns(false),
  ],
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    actionTypeKnown(IMAGE_LOAD_ACTION_TYPES),
    {
      name: 'image_file_name_present',
      action: 'warn',
      description: 'FileName of the loaded image is non-empty (image-load rules match on it)',
      check: (row) => isPresent(row.FileName),
    },
  ],
};
