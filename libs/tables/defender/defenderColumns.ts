// Column groups shared by the Defender XDR AdvancedHunting device tables (Event Hubs envelope, device, initiating
// process, remote session, report trailer). Types follow Microsoft's documented schema; values live under `properties`.
import type { ColumnDef, ColumnType } from '../tableDefinition.ts';

/** A nullable column read from `properties.<name>` of the Event Hubs record. */
export function prop(name: string, type: ColumnType, doc: string, nullable = true): ColumnDef {
  return { name, type, nullable, from: `properties.${name}`, doc };
}

/** Timestamp, device and action: the leading columns of every device table. */
export function deviceColumns(): ColumnDef[] {
  return [
    prop('Timestamp', 'timestamp', 'When the event was recorded on the device (UTC).', false),
    prop('DeviceId', 'string', 'Defender identifier of the device.', false),
    prop('DeviceName', 'string', 'Fully qualified name of the device.'),
    prop('ActionType', 'string', 'Kind of activity the event reports.'),
  ];
}

/** Columns describing the account of the process itself (process and logon tables). */
export function accountColumns(withUpn: boolean): ColumnDef[] {
  const cols = [
    prop('AccountDomain', 'string', 'Domain of the account.'),
    prop('AccountName', 'string', 'User name of the account.'),
    prop('AccountSid', 'string', 'Security identifier (SID) of the account.'),
  ];
  if (withUpn) {
    cols.push(prop('AccountUpn', 'string', 'User principal name of the account.'));
    cols.push(prop('AccountObjectId', 'string', 'Entra ID object id of the account.'));
  }
  return cols;
}

/** The InitiatingProcess* columns documented for all five device tables. */
export function initiatingProcessColumns(): ColumnDef[] {
  return [
    prop('InitiatingProcessAccountDomain', 'string', 'Domain of the account running the initiating process.'),
    prop('InitiatingProcessAccountName', 'string', 'User name of the account running the initiating process.'),
    prop('InitiatingProcessAccountSid', 'string', 'SID of the account running the initiating process.'),
    prop('InitiatingProcessAccountUpn', 'string', 'UPN of the account running the initiating process.'),
    prop('InitiatingProcessAccountObjectId', 'string', 'Entra ID object id of the account running the initiating process.'),
    prop('InitiatingProcessIntegrityLevel', 'string', 'Windows integrity level of the initiating process.'),
    prop('InitiatingProcessTokenElevation', 'string', 'UAC token elevation type of the initiating process.'),
    prop('InitiatingProcessSHA1', 'string', 'SHA-1 of the initiating process image.'),
    prop('InitiatingProcessSHA256', 'string', 'SHA-256 of the initiating process image (often empty).'),
    prop('InitiatingProcessMD5', 'string', 'MD5 of the initiating process image.'),
    prop('InitiatingProcessFileName', 'string', 'File name of the initiating process image.'),
    prop('InitiatingProcessFileSize', 'long', 'Size in bytes of the initiating process image.'),
    prop('InitiatingProcessVersionInfoCompanyName', 'string', 'Company name from the initiating image version info.'),
    prop('InitiatingProcessVersionInfoProductName', 'string', 'Product name from the initiating image version info.'),
    prop('InitiatingProcessVersionInfoProductVersion', 'string', 'Product version from the initiating image version info.'),
    prop('InitiatingProcessVersionInfoInternalFileName', 'string', 'Internal file name from the initiating image version info.'),
    prop('InitiatingProcessVersionInfoOriginalFileName', 'string', 'Original file name from the initiating image version info.'),
    prop('InitiatingProcessVersionInfoFileDescription', 'string', 'File description from the initiating image version info.'),
    prop('InitiatingProcessId', 'long', 'Process id (PID) of the initiating process.'),
    prop('InitiatingProcessCommandLine', 'string', 'Command line of the initiating process.'),
    prop('InitiatingProcessCreationTime', 'timestamp', 'Start time of the initiating process.'),
    prop('InitiatingProcessFolderPath', 'string', 'Path of the initiating process image.'),
    prop('InitiatingProcessParentId', 'long', 'PID of the parent of the initiating process.'),
    prop('InitiatingProcessParentFileName', 'string', 'File name (or path) of the parent of the initiating process.'),
    prop('InitiatingProcessParentCreationTime', 'timestamp', 'Start time of the parent of the initiating process.'),
  ];
}

/** Remote-desktop session of the initiating process (documented for all device tables since 2024). */
export function initiatingSessionColumns(): ColumnDef[] {
  return [
    prop('InitiatingProcessSessionId', 'long', 'Windows session id of the initiating process.'),
    prop('IsInitiatingProcessRemoteSession', 'boolean', 'Whether the initiating process ran in an RDP session.'),
    prop('InitiatingProcessRemoteSessionDeviceName', 'string', 'Device the RDP session of the initiating process came from.'),
    prop('InitiatingProcessRemoteSessionIP', 'string', 'IP address the RDP session of the initiating process came from.'),
  ];
}

/** Report id, container, free-form extras and machine group; then the Event Hubs envelope fields. */
export function trailerColumns(withAdditionalFields: boolean): ColumnDef[] {
  const cols = [
    prop('ReportId', 'long', 'Per-device event counter; with DeviceId it identifies the event.', false),
    prop('AppGuardContainerId', 'string', 'Application Guard container that isolated the activity.'),
  ];
  if (withAdditionalFields) cols.push(prop('AdditionalFields', 'json', 'Extra event details as JSON text.'));
  cols.push(prop('MachineGroup', 'string', 'Machine group of the device (present in streamed records).'));
  return [...cols, ...envelopeColumns()];
}

/** Fields of the Event Hubs record around `properties`. */
export function envelopeColumns(): ColumnDef[] {
  return [
    { name: 'TenantId', type: 'string', from: 'tenantId', doc: 'Entra tenant that streamed the record.' },
    { name: '_event_hub_time', type: 'timestamp', from: 'time', doc: 'Time the record was published to Event Hubs (record `time`).' },
    {
      name: '_time_received_by_svc',
      type: 'timestamp',
      from: '_TimeReceivedBySvc',
      doc: 'Time the Defender service received the event (record `_TimeReceivedBySvc`, when present).',
    },
  ];
}

