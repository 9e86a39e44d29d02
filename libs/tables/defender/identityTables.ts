// Silver tables for the Defender for Identity AdvancedHunting tables: IdentityLogonEvents (authentication against
// Active Directory and Entra ID), IdentityQueryEvents (LDAP, DNS, SAMR queries) and IdentityDirectoryEvents
// (directory changes: group membership, password resets, …). Rows are keyed by the string ReportId.
import type { TableDefinition } from '../tableDefinition.ts';
import { prop } from './defenderColumns.ts';
import { actionTypeKnown, isPresent, keyPresent, portInRange } from './defenderExpectations.ts';
import { identityAccountColumns, identityEndpointColumns, serviceTrailer, timestampColumn } from './serviceColumns.ts';

export const IDENTITY_LOGON_ACTION_TYPES = ['LogonSuccess', 'LogonFailed'] as const;

const reportIdPresent = keyPresent('report_id_present', 'ReportId', 'it identifies the event');
const actionTypePresent: TableDefinition['expectations'][number] = {
  // Microsoft lists these action types only in the portal schema reference: require one, not a known one.
  name: 'action_type_present',
  action: 'warn',
  description: 'ActionType is non-empty (it names the kind of activity)',
  check: (row) => isPresent(row.ActionType),
};
const portRules = [portInRange('valid_port', 'Port'), portInRange('valid_destination_port', 'DestinationPort')];

export const identityLogonEvents: TableDefinition = {
  name: 'defender_identity_logon_events',
  layer: 'silver',
  doc: 'Defender for Identity / Entra ID authentication events (AdvancedHunting-IdentityLogonEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('ActionType', 'string', 'LogonSuccess or LogonFailed.'),
    prop('Application', 'string', 'Application that recorded the logon (Active Directory, Microsoft Entra ID, …).'),
    prop('LogonType', 'string', 'Kind of logon (Interactive, Resource access, Credentials validation, …).'),
    prop('Protocol', 'string', 'Authentication protocol (Kerberos, NTLM, LDAP, …).'),
    prop('FailureReason', 'string', 'Why the logon failed, for failed attempts.'),
    ...identityAccountColumns(),
    prop('DeviceType', 'string', 'Type of the device the logon came from.'),
    prop('OSPlatform', 'string', 'Operating system of the device the logon came from.'),
    prop('ISP', 'string', 'Internet service provider of IPAddress.'),
    ...identityEndpointColumns(),
    prop('UncommonForUser', 'json', 'Attributes of the event that are uncommon for this user, JSON array.'),
    prop('LastSeenForUser', 'json', 'When each attribute was last seen for this user, JSON object.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['IPAddress'], attribution: ['IPAddress'] },
  expectations: [reportIdPresent, actionTypeKnown(IDENTITY_LOGON_ACTION_TYPES), ...portRules],
};

export const identityQueryEvents: TableDefinition = {
  name: 'defender_identity_query_events',
  layer: 'silver',
  doc: 'Queries against Active Directory objects seen by Defender for Identity (AdvancedHunting-IdentityQueryEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('ActionType', 'string', 'Kind of query (LDAP query, DNS query, SAMR query, …).'),
    prop('Application', 'string', 'Application that recorded the query.'),
    prop('QueryType', 'string', 'Type of query (QueryGroup, QueryUser, EnumerateUsers, …).'),
    prop('QueryTarget', 'string', 'User, group, device or domain that was queried.'),
    prop('Query', 'string', 'The query text.'),
    prop('Protocol', 'string', 'Protocol of the query.'),
    ...identityAccountColumns(),
    ...identityEndpointColumns(),
    prop('TargetAccountUpn', 'string', 'UPN of the account that was queried.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['IPAddress'] },
  expectations: [reportIdPresent, actionTypePresent, ...portRules],
};

export const identityDirectoryEvents: TableDefinition = {
  name: 'defender_identity_directory_events',
  layer: 'silver',
  doc: 'Changes to directory objects seen by Defender for Identity (AdvancedHunting-IdentityDirectoryEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('ActionType', 'string', 'Kind of change (Group Membership changed, Account Password changed, …).'),
    prop('Application', 'string', 'Application that recorded the change.'),
    prop('Protocol', 'string', 'Protocol of the change.'),
    ...identityAccountColumns(),
    prop('ISP', 'string', 'Internet service provider of IPAddress.'),
    ...identityEndpointColumns(),
    prop('TargetAccountUpn', 'string', 'UPN of the account that was changed.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['IPAddress'] },
  expectations: [reportIdPresent, actionTypePresent, ...portRules],
};
