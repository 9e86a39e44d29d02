// Silver tables for the Defender XDR cloud activity tables: AdvancedHunting-CloudAppEvents (Defender for Cloud Apps
// activity in Microsoft 365 and connected SaaS apps) and -CloudAuditEvents (Defender for Cloud control-plane audit of
// Azure, AWS, GCP and Kubernetes). RawEventData keeps the source audit record.
import type { TableDefinition } from '../tableDefinition.ts';
import { prop } from './defenderColumns.ts';
import { isPresent, keyPresent } from './defenderExpectations.ts';
import { serviceTrailer, timestampColumn } from './serviceColumns.ts';

const reportIdPresent = keyPresent('report_id_present', 'ReportId', 'it identifies the event');

export const cloudAppEvents: TableDefinition = {
  name: 'defender_cloud_app_events',
  layer: 'silver',
  doc: 'Defender for Cloud Apps activity events (AdvancedHunting-CloudAppEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('ActionType', 'string', 'Activity as named by the source application (e.g. FileDownloaded, Send, MailItemsAccessed).'),
    prop('Application', 'string', 'Application the activity happened in.'),
    prop('ApplicationId', 'integer', 'Defender for Cloud Apps id of the application.'),
    prop('AppInstanceId', 'integer', 'Instance of the application.'),
    prop('AccountObjectId', 'string', 'Entra ID object id of the account.'),
    prop('AccountId', 'string', 'Account id as known to Defender for Cloud Apps (object id, UPN or other).'),
    prop('AccountDisplayName', 'string', 'Display name of the account.'),
    prop('IsAdminOperation', 'boolean', 'Whether an administrator performed the activity.'),
    prop('DeviceType', 'string', 'Type of the client device.'),
    prop('OSPlatform', 'string', 'Operating system of the client device.'),
    prop('IPAddress', 'string', 'Client IP address.'),
    prop('IsAnonymousProxy', 'boolean', 'Whether the IP address is a known anonymous proxy.'),
    prop('CountryCode', 'string', 'Two-letter country of the client IP (Microsoft geolocation).'),
    prop('City', 'string', 'City of the client IP (Microsoft geolocation).'),
    prop('ISP', 'string', 'Internet service provider of the client IP.'),
    prop('UserAgent', 'string', 'User agent of the client.'),
    prop('ActivityType', 'string', 'Type of activity.'),
    prop('ActivityObjects', 'json', 'Objects involved in the activity (files, folders, accounts, …), JSON array.'),
    prop('ObjectName', 'string', 'Name of the object acted on.'),
    prop('ObjectType', 'string', 'Type of the object acted on.'),
    prop('ObjectId', 'string', 'Identifier of the object acted on.'),
    prop('AccountType', 'string', 'Kind of account: Regular, System, Admin, Application.'),
    prop('IsExternalUser', 'boolean', 'Whether the user is outside the organisation.'),
    prop('IsImpersonated', 'boolean', 'Whether one user acted for another.'),
    prop('IPTags', 'json', 'Tags of the IP address (organisation-defined and Microsoft), JSON array.'),
    prop('IPCategory', 'string', 'Category of the IP address.'),
    prop('UserAgentTags', 'json', 'Tags of the user agent (Native client, Outdated browser, Robot, …), JSON array.'),
    prop('RawEventData', 'json', 'Source audit record of the activity, JSON object.'),
    prop('LastSeenForUser', 'json', 'When each attribute was last seen for this user, JSON object.'),
    prop('UncommonForUser', 'json', 'Attributes of the event that are uncommon for this user, JSON array.'),
    prop('AuditSource', 'string', 'Audit data source (Defender for Cloud Apps access control, other).'),
    prop('SessionData', 'json', 'Session details of the activity, JSON object.'),
    prop('OAuthAppId', 'string', 'OAuth application id that performed the activity.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['IPAddress'] },
  expectations: [
    reportIdPresent,
    {
      // ActionType is the source application's own operation name: no closed list exists.
      name: 'action_type_present',
      action: 'warn',
      description: 'ActionType is non-empty (it names the activity)',
      check: (row) => isPresent(row.ActionType),
    },
  ],
};

export const cloudAuditEvents: TableDefinition = {
  name: 'defender_cloud_audit_events',
  layer: 'silver',
  doc: 'Defender for Cloud control-plane audit events of Azure, AWS, GCP and Kubernetes (AdvancedHunting-CloudAuditEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('AuditSource', 'string', 'Cloud the audit record comes from (Azure, AWS, GCP).'),
    prop('DataSource', 'string', 'Audit data source (Azure Resource Manager, Azure Kubernetes Service, AWS CloudTrail, …).'),
    prop('ActionType', 'string', 'Kind of operation (Create, Read, Update, Delete, Other; streamed as CloudAuditEvent<Kind>).'),
    prop('OperationName', 'string', 'Operation name as it appears in the audit record.'),
    prop('ResourceId', 'string', 'Identifier of the cloud resource accessed.'),
    prop('AzureResourceId', 'string', 'Azure resource id of the resource accessed.'),
    prop('AwsResourceName', 'string', 'AWS resource name of the resource accessed.'),
    prop('GcpFullResourceName', 'string', 'Google Cloud resource name of the resource accessed.'),
    prop('Account', 'string', 'Account (object id, ARN, principal) that performed the operation.'),
    prop('IPAddress', 'string', 'Client IP address (may list several, comma-separated).'),
    prop('IsAnonymousProxy', 'boolean', 'Whether the IP address is a known anonymous proxy.'),
    prop('CountryCode', 'string', 'Two-letter country of the client IP (Microsoft geolocation).'),
    prop('City', 'string', 'City of the client IP (Microsoft geolocation).'),
    prop('ISP', 'string', 'Internet service provider of the client IP.'),
    prop('UserAgent', 'string', 'User agent of the client.'),
    prop('RawEventData', 'json', 'Source audit record, JSON object.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['IPAddress'] },
  expectations: [
    reportIdPresent,
    {
      name: 'operation_name_present',
      action: 'warn',
      description: 'OperationName is non-empty (it names the audited operation)',
      check: (row) => isPresent(row.OperationName),
    },
  ],
};
