// Silver table for Defender XDR AdvancedHunting-DeviceFileEvents (file creation, modification, rename, deletion):
// declared columns, partitioning and expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import { deviceColumns, initiatingProcessColumns, initiatingSessionColumns, prop, trailerColumns } from './defenderColumns.ts';
import { actionTypeKnown, deviceIdPresent, isPresent, portInRange, reportIdNonNegative } from './defenderExpectations.ts';

export const FILE_ACTION_TYPES = ['FileCreated', 'FileModified', 'FileRenamed', 'FileDeleted'] as const;

export const deviceFileEvents: TableDefinition = {
  name: 'defender_device_file_events',
  layer: 'silver',
  doc: 'Defender for Endpoint file system events (AdvancedHunting-DeviceFileEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('FileName', 'string', 'Name of the file acted on.'),
    prop('FolderPath', 'string', 'Folder of the file acted on.'),
    prop('SHA1', 'string', 'SHA-1 of the file.'),
    prop('SHA256', 'string', 'SHA-256 of the file (often empty).'),
    prop('MD5', 'string', 'MD5 of the file.'),
    prop('FileOriginUrl', 'string', 'URL the file was downloaded from.'),
    prop('FileOriginReferrerUrl', 'string', 'Web page that linked to the downloaded file.'),
    prop('FileOriginIP', 'string', 'IP address the file was downloaded from.'),
    prop('PreviousFolderPath', 'string', 'Folder of the file before the action.'),
    prop('PreviousFileName', 'string', 'Name of the file before a rename.'),
    prop('FileSize', 'long', 'Size of the file in bytes.'),
    ...initiatingProcessColumns(),
    prop('RequestProtocol', 'string', 'Network protocol of a remote request (Unknown, Local, SMB, NFS).'),
    prop('RequestSourceIP', 'string', 'Address of the remote device that made the request.'),
    prop('RequestSourcePort', 'integer', 'Source port of the remote request.'),
    prop('RequestAccountName', 'string', 'User name of the remote requester.'),
    prop('RequestAccountDomain', 'string', 'Domain of the remote requester.'),
    prop('RequestAccountSid', 'string', 'SID of the remote requester.'),
    prop('ShareName', 'string', 'Shared folder containing the file.'),
    prop('SensitivityLabel', 'string', 'Information protection label of the file.'),
    prop('SensitivitySubLabel', 'string', 'Information protection sublabel of the file.'),
    prop('IsAzureInfoProtectionApplied', 'boolean', 'Whether Azure Information Protection encrypts the file.'),
    ...initiatingSessionColumns(),
    ...trailerColumns(true),
  ],
  enrich: { geoip: ['FileOriginIP', 'RequestSourceIP'], domain: ['FileOriginUrl'] },
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    portInRange('valid_request_source_port', 'RequestSourcePort'),
    actionTypeKnown(FILE_ACTION_TYPES),
    {
      name: 'file_name_present',
      action: 'warn',
      description: 'FileName is non-empty (file rules match on it)',
      check: (row) => isPresent(row.FileName),
    },
  ],
};
