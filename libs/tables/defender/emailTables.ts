// Silver tables for the Defender for Office 365 AdvancedHunting tables: EmailEvents (one row per message and
// recipient), EmailAttachmentInfo, EmailUrlInfo, EmailPostDeliveryEvents (ZAP, manual remediation) and
// UrlClickEvents (Safe Links clicks), plus MessagePostDeliveryEvents (the Teams counterpart of post-delivery actions).
// Messages are keyed by NetworkMessageId (email) or TeamsMessageId (Teams).
import type { TableDefinition } from '../tableDefinition.ts';
import { prop } from './defenderColumns.ts';
import { actionTypeKnown, keyPresent, valueKnown } from './defenderExpectations.ts';
import { serviceTrailer, timestampColumn } from './serviceColumns.ts';

export const DELIVERY_ACTIONS = ['Delivered', 'Junked', 'Blocked', 'Replaced'] as const;
export const EMAIL_DIRECTIONS = ['Inbound', 'Outbound', 'Intra-org', 'Unknown'] as const;
export const TEAMS_POST_DELIVERY_ACTION_TYPES = ['Manual remediation', 'Phish ZAP', 'Malware ZAP'] as const;
export const URL_CLICK_ACTION_TYPES = ['ClickAllowed', 'ClickBlocked', 'ClickBlockedByTenantPolicy', 'UrlErrorPage', 'UrlScanInProgress'] as const;

const networkMessageIdPresent = keyPresent('network_message_id_present', 'NetworkMessageId', 'it identifies the message across the email tables');

const nonNegative = (name: string, column: string): TableDefinition['expectations'][number] => ({
  name,
  action: 'warn',
  description: `${column} is null or >= 0`,
  check: (row) => row[column] === null || (typeof row[column] === 'number' && row[column] >= 0),
});

export const emailEvents: TableDefinition = {
  name: 'defender_email_events',
  layer: 'silver',
  doc: 'Defender for Office 365 message delivery events (AdvancedHunting-EmailEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('NetworkMessageId', 'string', 'Identifier of the message in Microsoft 365.', false),
    prop('InternetMessageId', 'string', 'Message-ID header set by the sending system.'),
    prop('SenderMailFromAddress', 'string', 'Envelope sender (MAIL FROM / Return-Path) address.'),
    prop('SenderFromAddress', 'string', 'Sender address of the From header.'),
    prop('SenderDisplayName', 'string', 'Display name of the sender.'),
    prop('SenderObjectId', 'string', 'Entra ID object id of the sender.'),
    prop('SenderMailFromDomain', 'string', 'Envelope sender domain.'),
    prop('SenderFromDomain', 'string', 'Domain of the From header.'),
    prop('SenderIPv4', 'string', 'IPv4 address of the last mail server that relayed the message.'),
    prop('SenderIPv6', 'string', 'IPv6 address of the last mail server that relayed the message.'),
    prop('RecipientEmailAddress', 'string', 'Recipient address (after distribution list expansion).'),
    prop('RecipientObjectId', 'string', 'Entra ID object id of the recipient.'),
    prop('Subject', 'string', 'Subject of the message.'),
    prop('EmailClusterId', 'long', 'Cluster of similar messages.'),
    prop('EmailDirection', 'string', 'Direction: Inbound, Outbound, Intra-org.'),
    prop('DeliveryAction', 'string', 'Delivery action: Delivered, Junked, Blocked, Replaced.'),
    prop('DeliveryLocation', 'string', 'Where the message was delivered (Inbox/folder, Junk, Quarantine, …).'),
    prop('ThreatTypes', 'string', 'Verdicts of the filtering stack (Phish, Malware, Spam, …).'),
    prop('ThreatNames', 'string', 'Names of the detected threats.'),
    prop('DetectionMethods', 'json', 'Detection technologies per verdict, JSON object text (e.g. {"Phish":["URL detonation"]}).'),
    prop('ConfidenceLevel', 'json', 'Confidence of the spam/phish verdicts, JSON object text.'),
    prop('BulkComplaintLevel', 'integer', 'Bulk complaint level (BCL) of the sender.'),
    prop('EmailAction', 'string', 'Final action taken on the message.'),
    prop('EmailActionPolicy', 'string', 'Policy that took effect.'),
    prop('EmailActionPolicyGuid', 'string', 'Identifier of that policy.'),
    prop('AuthenticationDetails', 'json', 'SPF, DKIM, DMARC and CompAuth verdicts, JSON object text.'),
    prop('AttachmentCount', 'integer', 'Number of attachments.'),
    prop('UrlCount', 'integer', 'Number of embedded URLs.'),
    prop('EmailLanguage', 'string', 'Detected language of the content.'),
    prop('Connectors', 'string', 'Mail flow connectors the message went through.'),
    prop('OrgLevelAction', 'string', 'Action from an organisation-level policy.'),
    prop('OrgLevelPolicy', 'string', 'Organisation-level policy that triggered it.'),
    prop('UserLevelAction', 'string', 'Action from a mailbox-level policy.'),
    prop('UserLevelPolicy', 'string', 'Mailbox-level policy that triggered it.'),
    ...serviceTrailer(true),
  ],
  enrich: { geoip: ['SenderIPv4', 'SenderIPv6'], domain: ['SenderFromDomain'] },
  expectations: [
    networkMessageIdPresent,
    valueKnown('delivery_action_known', 'DeliveryAction', DELIVERY_ACTIONS),
    valueKnown('email_direction_known', 'EmailDirection', EMAIL_DIRECTIONS),
    nonNegative('attachment_count_non_negative', 'AttachmentCount'),
    nonNegative('url_count_non_negative', 'UrlCount'),
  ],
};

export const emailAttachmentInfo: TableDefinition = {
  name: 'defender_email_attachment_info',
  layer: 'silver',
  doc: 'Attachments of messages seen by Defender for Office 365 (AdvancedHunting-EmailAttachmentInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('NetworkMessageId', 'string', 'Identifier of the message in Microsoft 365.', false),
    prop('SenderFromAddress', 'string', 'Sender address of the From header.'),
    prop('SenderDisplayName', 'string', 'Display name of the sender.'),
    prop('SenderObjectId', 'string', 'Entra ID object id of the sender.'),
    prop('RecipientEmailAddress', 'string', 'Recipient address.'),
    prop('RecipientObjectId', 'string', 'Entra ID object id of the recipient.'),
    prop('FileName', 'string', 'Name of the attached file.'),
    prop('FileType', 'string', 'File extension type.'),
    prop('SHA256', 'string', 'SHA-256 of the attached file.'),
    prop('FileSize', 'long', 'Size of the attached file in bytes.'),
    prop('ThreatTypes', 'string', 'Verdicts on the attachment (Malware, Phish, …).'),
    prop('ThreatNames', 'string', 'Names of the detected threats.'),
    prop('DetectionMethods', 'json', 'Detection technologies per verdict, JSON object text.'),
    ...serviceTrailer(false),
  ],
  expectations: [
    networkMessageIdPresent,
    {
      name: 'sha256_valid',
      action: 'warn',
      description: 'SHA256 is null or a 64-digit hex string (IoC matching keys on it)',
      check: (row) => row.SHA256 === null || (typeof row.SHA256 === 'string' && /^[0-9a-fA-F]{64}$/.test(row.SHA256)),
    },
  ],
};

export const emailUrlInfo: TableDefinition = {
  name: 'defender_email_url_info',
  layer: 'silver',
  doc: 'URLs in messages seen by Defender for Office 365 (AdvancedHunting-EmailUrlInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('NetworkMessageId', 'string', 'Identifier of the message in Microsoft 365.', false),
    prop('Url', 'string', 'Full URL found in the message.'),
    prop('UrlDomain', 'string', 'Domain part of the URL.'),
    prop('UrlLocation', 'string', 'Part of the message the URL was found in (Body, Subject, Attachment, …).'),
    ...serviceTrailer(false),
  ],
  enrich: { domain: ['Url'] },
  expectations: [networkMessageIdPresent, keyPresent('url_present', 'Url', 'the row is about this URL', 'warn')],
};

export const emailPostDeliveryEvents: TableDefinition = {
  name: 'defender_email_post_delivery_events',
  layer: 'silver',
  doc: 'Actions on messages after delivery: ZAP, manual remediation, redelivery (AdvancedHunting-EmailPostDeliveryEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('NetworkMessageId', 'string', 'Identifier of the message in Microsoft 365.', false),
    prop('InternetMessageId', 'string', 'Message-ID header set by the sending system.'),
    prop('Action', 'string', 'Action taken (e.g. Moved to quarantine, Soft delete).'),
    prop('ActionType', 'string', 'Kind of post-delivery action (Malware ZAP, Phish ZAP, Spam ZAP, Manual remediation, Redelivery, …).'),
    prop('ActionTrigger', 'string', 'What triggered the action (SpecialAction, AutomatedInvestigation, …).'),
    prop('ActionResult', 'string', 'Result of the action (Success, Error).'),
    prop('RecipientEmailAddress', 'string', 'Recipient address.'),
    prop('DeliveryLocation', 'string', 'Location of the message after the action.'),
    prop('ThreatTypes', 'string', 'Verdicts that led to the action.'),
    prop('DetectionMethods', 'json', 'Detection technologies per verdict, JSON object text.'),
    ...serviceTrailer(false),
  ],
  expectations: [networkMessageIdPresent],
};

export const urlClickEvents: TableDefinition = {
  name: 'defender_url_click_events',
  layer: 'silver',
  doc: 'Safe Links clicks in email, Teams and Office apps (AdvancedHunting-UrlClickEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn('When the user clicked the link (UTC).'),
    prop('Url', 'string', 'Full URL that was clicked.'),
    prop('ActionType', 'string', 'Whether the click was allowed or blocked (ClickAllowed, ClickBlocked, …).'),
    prop('AccountUpn', 'string', 'UPN of the user who clicked.'),
    prop('Workload', 'string', 'Application the click came from: Email, Office, Teams.'),
    prop('NetworkMessageId', 'string', 'Message containing the link, for email clicks.'),
    prop('ThreatTypes', 'string', 'Verdict at the time of click (Phish, Malware, …).'),
    prop('DetectionMethods', 'string', 'Detection technology behind the verdict.'),
    prop('IPAddress', 'string', 'Public IP address of the device the click came from.'),
    prop('IsClickedThrough', 'boolean', 'Whether the user clicked through to the original URL.'),
    prop('UrlChain', 'json', 'Redirection chain of the URL, JSON array text.'),
    ...serviceTrailer(false),
  ],
  enrich: { geoip: ['IPAddress'], domain: ['Url'] },
  expectations: [
    keyPresent('report_id_present', 'ReportId', 'it identifies the click; click-through rows share it'),
    keyPresent('url_present', 'Url', 'the row is about this URL', 'warn'),
    actionTypeKnown(URL_CLICK_ACTION_TYPES),
  ],
};

export const messagePostDeliveryEvents: TableDefinition = {
  name: 'defender_message_post_delivery_events',
  layer: 'silver',
  doc: 'Actions on Microsoft Teams messages after delivery: ZAP, manual remediation (AdvancedHunting-MessagePostDeliveryEvents) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    timestampColumn(),
    prop('TeamsMessageId', 'string', 'Identifier of the Teams message in Microsoft 365.', false),
    prop('Action', 'string', 'Action taken on the message (Blocked, Moved to quarantine).'),
    prop('ActionType', 'string', 'Kind of post-delivery action: Manual remediation, Phish ZAP, Malware ZAP.'),
    prop('ActionTrigger', 'string', 'What triggered the action (administrator, SpecialAction such as ZAP).'),
    prop('ActionResult', 'string', 'Result of the action.'),
    prop('SenderEmailAddress', 'string', 'Address of the sender.'),
    prop('RecipientDetails', 'json', 'Recipients (SMTP address, display name, type, object id), JSON array.'),
    prop('ThreadTypes', 'string', 'Verdicts of the filtering stack on the message (the streamed name of ThreatTypes).'),
    prop('ThreatTypes', 'string', 'Verdicts of the filtering stack on the message.'),
    prop('ConfidenceLevel', 'json', 'Confidence level per threat type, JSON.'),
    prop('DetectionMethods', 'json', 'Detection technologies per verdict, JSON object text.'),
    prop('LatestDeliveryLocation', 'string', 'Last known location of the message.'),
    prop('IsExternalThread', 'boolean', 'Whether the thread has external recipients.'),
    prop('SafetyTip', 'string', 'Safety tip added to the message, if any.'),
    ...serviceTrailer(false),
  ],
  expectations: [
    keyPresent('teams_message_id_present', 'TeamsMessageId', 'it identifies the message'),
    actionTypeKnown(TEAMS_POST_DELIVERY_ACTION_TYPES),
  ],
};
