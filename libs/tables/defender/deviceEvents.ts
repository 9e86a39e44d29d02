// Silver table for Defender XDR AdvancedHunting-DeviceEvents (the catch-all device table: exploit protection,
// ASR, AMSI, PowerShell commands, memory API calls, USB, screenshots, …): declared columns, partitioning, expectations.
import type { TableDefinition } from '../tableDefinition.ts';
import { accountColumns, deviceColumns, initiatingProcessColumns, initiatingSessionColumns, prop, trailerColumns } from './defenderColumns.ts';
import { deviceIdPresent, isPresent, portInRange, reportIdNonNegative } from './defenderExpectations.ts';

export const deviceEvents: TableDefinition = {
  name: 'defender_device_events',
  layer: 'silver',
  doc: 'Defender for Endpoint miscellaneous device events (AdvancedHunting-DeviceEvents) streamed through Event Hubs; the event-specific details are in AdditionalFields.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('FileName', 'string', 'Name of the file the recorded action applied to.'),
    prop('FolderPath', 'string', 'Folder of the file the recorded action applied to.'),
    prop('SHA1', 'string', 'SHA-1 of the file.'),
    prop('SHA256', 'string', 'SHA-256 of the file (often empty).'),
    prop('MD5', 'string', 'MD5 of the file.'),
    prop('FileSize', 'long', 'Size of the file in bytes.'),
    ...accountColumns(false),
    prop('RemoteUrl', 'string', 'URL or FQDN that was connected to.'),
    prop('RemoteDeviceName', 'string', 'Device that performed a remote operation on this device.'),
    prop('ProcessId', 'long', 'PID of the process the event is about.'),
    prop('ProcessCommandLine', 'string', 'Command line of the process the event is about.'),
    prop('ProcessCreationTime', 'timestamp', 'Start time of the process the event is about.'),
    prop('ProcessTokenElevation', 'string', 'UAC token elevation type of the process the event is about.'),
    prop('LogonId', 'long', 'Logon session id (unique per device between restarts).'),
    prop('RegistryKey', 'string', 'Registry key the recorded action applied to.'),
    prop('RegistryValueName', 'string', 'Registry value name the recorded action applied to.'),
    prop('RegistryValueData', 'string', 'Registry value data the recorded action applied to.'),
    prop('RemoteIP', 'string', 'IP address that was connected to.'),
    prop('RemotePort', 'integer', 'Port on the remote end.'),
    prop('LocalIP', 'string', 'IP address on the device.'),
    prop('LocalPort', 'integer', 'Port on the device.'),
    prop('FileOriginUrl', 'string', 'URL the file was downloaded from.'),
    prop('FileOriginIP', 'string', 'IP address the file was downloaded from.'),
    // Microsoft documents no integrity level / token elevation of the initiating process for this table.
    ...initiatingProcessColumns().filter((c) => c.name !== 'InitiatingProcessIntegrityLevel' && c.name !== 'InitiatingProcessTokenElevation'),
    prop('InitiatingProcessLogonId', 'long', 'Logon session of the initiating process.'),
    prop('InitiatingProcessUniqueId', 'string', 'Unique id of the initiating process (kept as text: values exceed 2^53).'),
    ...initiatingSessionColumns(),
    prop('CreatedProcessSessionId', 'long', 'Windows session id of the process the event is about.'),
    prop('IsProcessRemoteSession', 'boolean', 'Whether that process runs in an RDP session.'),
    prop('ProcessRemoteSessionDeviceName', 'string', 'Device the RDP session of that process came from.'),
    prop('ProcessRemoteSessionIP', 'string', 'IP address the RDP session of that process came from.'),
    ...trailerColumns(true),
  ],
  enrich: { geoip: ['RemoteIP'], domain: ['RemoteUrl'], attribution: ['LocalIP'] },
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    portInRange('valid_remote_port', 'RemotePort'),
    portInRange('valid_local_port', 'LocalPort'),
    {
      // Microsoft lists DeviceEvents action types only in the portal (200+, growing): require one, not a known one.
      name: 'action_type_present',
      action: 'warn',
      description: 'ActionType is non-empty (it names the kind of event; AdditionalFields depends on it)',
      check: (row) => isPresent(row.ActionType),
    },
  ],
};
