// Column groups shared by the Defender XDR AdvancedHunting tables that are not device tables (email, identity,
// cloud apps, alerts): their ReportId is a string id, not a per-device counter, and they have no MachineGroup.
import type { ColumnDef } from '../tableDefinition.ts';
import { envelopeColumns, prop } from './defenderColumns.ts';

/** The event time column, read from `properties.Timestamp`. */
export function timestampColumn(doc = 'When the event was recorded (UTC).'): ColumnDef {
  return prop('Timestamp', 'timestamp', doc, false);
}

/** ReportId (string event id), optionally AdditionalFields, then the Event Hubs envelope fields. */
export function serviceTrailer(withAdditionalFields: boolean): ColumnDef[] {
  const cols = [prop('ReportId', 'string', 'Unique identifier of the event.')];
  if (withAdditionalFields) cols.push(prop('AdditionalFields', 'json', 'Extra event details as JSON text.'));
  return [...cols, ...envelopeColumns()];
}

/** The acting account of the Defender for Identity tables. */
export function identityAccountColumns(): ColumnDef[] {
  return [
    prop('AccountName', 'string', 'User name of the account.'),
    prop('AccountDomain', 'string', 'Domain of the account.'),
    prop('AccountUpn', 'string', 'User principal name of the account.'),
    prop('AccountSid', 'string', 'Security identifier (SID) of the account.'),
    prop('AccountObjectId', 'string', 'Entra ID object id of the account.'),
    prop('AccountDisplayName', 'string', 'Display name of the account.'),
  ];
}

/** Source and destination endpoints of the Defender for Identity tables. */
export function identityEndpointColumns(): ColumnDef[] {
  return [
    prop('DeviceName', 'string', 'Name of the device the activity came from.'),
    prop('IPAddress', 'string', 'IP address of the device the activity came from.'),
    prop('Port', 'integer', 'Source port of the activity.'),
    prop('DestinationDeviceName', 'string', 'Device running the server application that processed the activity.'),
    prop('DestinationIPAddress', 'string', 'IP address of that device.'),
    prop('DestinationPort', 'integer', 'Destination port of the activity.'),
    prop('TargetDeviceName', 'string', 'Device the activity was applied to.'),
    prop('TargetAccountDisplayName', 'string', 'Display name of the account the activity was applied to.'),
    prop('Location', 'string', 'City, country or other location of the activity.'),
  ];
}
