// Silver tables for Defender XDR alerts: AdvancedHunting-AlertInfo (one row per alert) and -AlertEvidence (one row
// per entity of an alert: file, process, IP, URL, user, mailbox, …), joined on AlertId.
import type { TableDefinition } from '../tableDefinition.ts';
import { envelopeColumns, prop } from './defenderColumns.ts';
import { keyPresent, valueKnown } from './defenderExpectations.ts';
import { timestampColumn } from './serviceColumns.ts';

export const ALERT_SEVERITIES = ['Informational', 'Low', 'Medium', 'High', 'UnSpecified'] as const;
export const EVIDENCE_ROLES = ['Impacted', 'Related', 'Contextual'] as const;

const alertIdPresent = keyPresent('alert_id_present', 'AlertId', 'it joins AlertInfo and AlertEvidence');
const severityKnown = valueKnown('severity_known', 'Severity', ALERT_SEVERITIES);

export const alertInfo: TableDefinition = {
  name: 'defender_alert_info',
  layer: 'silver',
  doc: 'Alerts from the Defender XDR products (AdvancedHunting-AlertInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn('When the alert was recorded (UTC).'),
    prop('AlertId', 'string', 'Identifier of the alert.', false),
    prop('Title', 'string', 'Title of the alert.'),
    prop('Category', 'string', 'Kind of threat or activity (e.g. InitialAccess, Execution).'),
    prop('Severity', 'string', 'Severity: Informational, Low, Medium, High.'),
    prop('ServiceSource', 'string', 'Product that raised the alert.'),
    prop('DetectionSource', 'string', 'Detection technology or sensor behind the alert.'),
    prop('AttackTechniques', 'json', 'MITRE ATT&CK techniques, JSON array text (may be empty text).'),
    ...envelopeColumns(),
  ],
  expectations: [alertIdPresent, severityKnown],
};

export const alertEvidence: TableDefinition = {
  name: 'defender_alert_evidence',
  layer: 'silver',
  doc: 'Entities involved in Defender XDR alerts (AdvancedHunting-AlertEvidence) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn('When the evidence was recorded (UTC).'),
    prop('AlertId', 'string', 'Identifier of the alert.', false),
    prop('Title', 'string', 'Title of the alert.'),
    prop('Categories', 'json', 'Categories of the alert, JSON array text.'),
    prop('AttackTechniques', 'json', 'MITRE ATT&CK techniques, JSON array text (may be empty text).'),
    prop('ServiceSource', 'string', 'Product that raised the alert.'),
    prop('DetectionSource', 'string', 'Detection technology or sensor behind the alert.'),
    prop('Severity', 'string', 'Severity of the alert.'),
    prop('EntityType', 'string', 'Kind of entity (File, Process, Machine, Ip, Url, User, Mailbox, MailMessage, …).'),
    prop('EvidenceRole', 'string', 'How the entity is involved: Impacted or Related.'),
    prop('EvidenceDirection', 'string', 'Whether the entity is the source or destination of a connection.'),
    prop('FileName', 'string', 'Name of the file.'),
    prop('FolderPath', 'string', 'Folder of the file.'),
    prop('SHA1', 'string', 'SHA-1 of the file.'),
    prop('SHA256', 'string', 'SHA-256 of the file.'),
    prop('FileSize', 'long', 'Size of the file in bytes.'),
    prop('ThreatFamily', 'string', 'Malware family of the file or process.'),
    prop('RemoteIP', 'string', 'Remote IP address.'),
    prop('RemoteUrl', 'string', 'URL or FQDN.'),
    prop('AccountName', 'string', 'User name of the account.'),
    prop('AccountDomain', 'string', 'Domain of the account.'),
    prop('AccountSid', 'string', 'SID of the account.'),
    prop('AccountObjectId', 'string', 'Entra ID object id of the account.'),
    prop('AccountUpn', 'string', 'UPN of the account.'),
    prop('DeviceId', 'string', 'Defender identifier of the device.'),
    prop('DeviceName', 'string', 'Name of the device.'),
    prop('LocalIP', 'string', 'Local IP address.'),
    prop('NetworkMessageId', 'string', 'Identifier of the email message.'),
    prop('EmailSubject', 'string', 'Subject of the email message.'),
    prop('ApplicationId', 'integer', 'Defender for Cloud Apps id of the application.'),
    prop('Application', 'string', 'Name of the application.'),
    prop('OAuthApplicationId', 'string', 'Id of the third-party OAuth application.'),
    prop('ProcessCommandLine', 'string', 'Command line of the process.'),
    prop('RegistryKey', 'string', 'Registry key.'),
    prop('RegistryValueName', 'string', 'Registry value name.'),
    prop('RegistryValueData', 'string', 'Registry value data.'),
    prop('AdditionalFields', 'json', 'Full entity as JSON text.'),
    prop('CloudResource', 'string', 'Cloud resource name.'),
    prop('CloudPlatform', 'string', 'Cloud platform of the resource (Azure, AWS, GCP).'),
    prop('ResourceType', 'string', 'Type of the cloud resource.'),
    prop('ResourceID', 'string', 'Identifier of the cloud resource.'),
    prop('SubscriptionId', 'string', 'Cloud subscription of the resource.'),
    prop('MachineGroup', 'string', 'Machine group of the device (present in streamed records).'),
    ...envelopeColumns(),
  ],
  enrich: { geoip: ['RemoteIP'], domain: ['RemoteUrl'] },
  expectations: [
    alertIdPresent,
    severityKnown,
    valueKnown('evidence_role_known', 'EvidenceRole', EVIDENCE_ROLES),
    keyPresent('entity_type_present', 'EntityType', 'it says which columns describe the entity', 'warn'),
  ],
};
