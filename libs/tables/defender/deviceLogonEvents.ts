// Silver table for Defender XDR AdvancedHunting-DeviceLogonEvents (logons and other authentication on devices):
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
import { actionTypeKnown, deviceIdPresent, portInRange, reportIdNonNegative } from './defenderExpectations.ts';

export const LOGON_ACTION_TYPES = ['LogonSuccess', 'LogonFailed', 'LogonAttempted'] as const;

export const LOGON_TYPES = [
  'Interactive',
  'RemoteInteractive',
  'Network',
  'Batch',
  'Service',
  'Unlock',
  'NetworkCleartext',
  'NewCredentials',
  'CachedInteractive',
  'CachedRemoteInteractive',
  'CachedUnlock',
] as const;

const logonTypes = new Set<string>(LOGON_TYPES);

export const deviceLogonEvents: TableDefinition = {
  name: 'defender_device_logon_events',
  layer: 'silver',
  doc: 'Defender for Endpoint logon and authentication events (AdvancedHunting-DeviceLogonEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceColumns(),
    prop('LogonType', 'string', 'Kind of logon session (Interactive, RemoteInteractive, Network, Batch, Service, …).'),
    ...accountColumns(false),
    prop('Protocol', 'string', 'Authentication protocol (e.g. Negotiate, NTLM, Kerberos).'),
    prop('FailureReason', 'string', 'Why the logon failed, for failed attempts.'),
    prop('IsLocalAdmin', 'boolean', 'Whether the account is a local administrator.'),
    prop('LogonId', 'long', 'Logon session id (unique per device between restarts).'),
    prop('RemoteDeviceName', 'string', 'Name of the device the logon came from.'),
    prop('RemoteIP', 'string', 'IP address the logon came from.'),
    prop('RemoteIPType', 'string', 'Kind of the remote address (Public, Private, Loopback, …).'),
    prop('RemotePort', 'integer', 'Port on the remote device.'),
    ...initiatingProcessColumns(),
    ...initiatingSessionColumns(),
    ...trailerColumns(true),
  ],
  enrich: { geoip: ['RemoteIP'], attribution: ['RemoteIP'] },
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    portInRange('valid_remote_port', 'RemotePort'),
    actionTypeKnown(LOGON_ACTION_TYPES),
    {
      name: 'logon_type_known',
      action: 'warn',
      description: `LogonType is null or one of ${LOGON_TYPES.join(', ')}`,
      check: (row) => row.LogonType === null || (typeof row.LogonType === 'string' && logonTypes.has(row.LogonType)),
    },
  ],
};
