// Silver table for Defender XDR AdvancedHunting-DeviceProcessEvents (process creation and related events):
// declared columns, partitioning and expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import {
  accountColumns,
  deviceColumns,
  initiatingProcessColumns,
  initiatingSessionColumns,
  prop,
  trailerColumns,
} from './defenderColumns.ts';
import { actionTypeKnown, deviceIdPresent, isPresent, reportIdNonNegative } from './defenderExpectations.ts';

export const PROCESS_ACTION_TYPES = ['ProcessCreated'] as const;

export const deviceProcessEvents: TableDefinition = {
  name: 'defender_device_process_events',
  layer: 'silver',
  doc: 'Defender for Endpoint process creation events (AdvancedHunting-DeviceProcessEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('FileName', 'string', 'File name of the created process image.'),
    prop('FolderPath', 'string', 'Path of the created process image.'),
    prop('SHA1', 'string', 'SHA-1 of the created process image.'),
    prop('SHA256', 'string', 'SHA-256 of the created process image (often empty).'),
    prop('MD5', 'string', 'MD5 of the created process image.'),
    prop('FileSize', 'long', 'Size in bytes of the created process image.'),
    prop('ProcessVersionInfoCompanyName', 'string', 'Company name from the new process image version info.'),
    prop('ProcessVersionInfoProductName', 'string', 'Product name from the new process image version info.'),
    prop('ProcessVersionInfoProductVersion', 'string', 'Product version from the new process image version info.'),
    prop('ProcessVersionInfoInternalFileName', 'string', 'Internal file name from the new process image version info.'),
    prop('ProcessVersionInfoOriginalFileName', 'string', 'Original file name from the new process image version info.'),
    prop('ProcessVersionInfoFileDescription', 'string', 'File description from the new process image version info.'),
    prop('ProcessId', 'long', 'Process id (PID) of the created process.'),
    prop('ProcessCommandLine', 'string', 'Command line of the created process.'),
    prop('ProcessIntegrityLevel', 'string', 'Windows integrity level of the created process.'),
    prop('ProcessTokenElevation', 'string', 'UAC token elevation type of the created process.'),
    prop('ProcessCreationTime', 'timestamp', 'Start time of the created process.'),
    ...accountColumns(true),
    prop('LogonId', 'long', 'Logon session of the created process (unique per device between restarts).'),
    ...initiatingProcessColumns(),
    prop('InitiatingProcessLogonId', 'long', 'Logon session of the initiating process.'),
    prop('InitiatingProcessSignerType', 'string', 'Signer type of the initiating process image.'),
    prop('InitiatingProcessSignatureStatus', 'string', 'Signature status of the initiating process image.'),
    ...initiatingSessionColumns(),
    prop('CreatedProcessSessionId', 'long', 'Windows session id of the created process.'),
    prop('IsProcessRemoteSession', 'boolean', 'Whether the created process runs in an RDP session.'),
    prop('ProcessRemoteSessionDeviceName', 'string', 'Device the RDP session of the created process came from.'),
    prop('ProcessRemoteSessionIP', 'string', 'IP address the RDP session of the created process came from.'),
    ...trailerColumns(true),
  ],
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    actionTypeKnown(PROCESS_ACTION_TYPES),
    {
      name: 'process_file_name_present',
      action: 'warn',
      description: 'FileName of the created process is non-empty (process rules match on it)',
      check: (row) => isPresent(row.FileName),
    },
    {
      name: 'process_id_non_negative',
      action: 'warn',
      description: 'ProcessId is null or >= 0',
      check: (row) => row.ProcessId === null || (typeof row.ProcessId === 'number' && row.ProcessId >= 0),
    },
  ],
};
