// Registry of the Defender XDR silver tables keyed by AdvancedHunting category (without the prefix),
// and the category → table name mapping the parser routes with.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { deviceFileEvents } from './deviceFileEvents.ts';
import { deviceLogonEvents } from './deviceLogonEvents.ts';
import { deviceNetworkEvents } from './deviceNetworkEvents.ts';
import { deviceProcessEvents } from './deviceProcessEvents.ts';
import { deviceRegistryEvents } from './deviceRegistryEvents.ts';
import { alertEvidence, alertInfo } from './alertTables.ts';
import { cloudAppEvents, cloudAuditEvents } from './cloudTables.ts';
import { deviceEvents } from './deviceEvents.ts';
import { deviceImageLoadEvents } from './deviceImageLoadEvents.ts';
import { deviceFileCertificateInfo, deviceInfo, deviceNetworkInfo } from './deviceInventory.ts';
import { emailAttachmentInfo, emailEvents, emailPostDeliveryEvents, emailUrlInfo, messagePostDeliveryEvents, urlClickEvents } from './emailTables.ts';
import { identityDirectoryEvents, identityLogonEvents, identityQueryEvents } from './identityTables.ts';

export { deviceFileEvents, FILE_ACTION_TYPES } from './deviceFileEvents.ts';
export { deviceLogonEvents, LOGON_ACTION_TYPES, LOGON_TYPES } from './deviceLogonEvents.ts';
export { deviceNetworkEvents, NETWORK_ACTION_TYPES } from './deviceNetworkEvents.ts';
export { deviceProcessEvents, PROCESS_ACTION_TYPES } from './deviceProcessEvents.ts';
export { deviceRegistryEvents, REGISTRY_ACTION_TYPES } from './deviceRegistryEvents.ts';
export { ALERT_SEVERITIES, alertEvidence, alertInfo, EVIDENCE_ROLES } from './alertTables.ts';
export { cloudAppEvents, cloudAuditEvents } from './cloudTables.ts';
export { deviceEvents } from './deviceEvents.ts';
export { deviceImageLoadEvents, IMAGE_LOAD_ACTION_TYPES } from './deviceImageLoadEvents.ts';
export { deviceFileCertificateInfo, deviceInfo, deviceNetworkInfo, ONBOARDING_STATUSES } from './deviceInventory.ts';
export {
  DELIVERY_ACTIONS,
  EMAIL_DIRECTIONS,
  emailAttachmentInfo,
  emailEvents,
  emailPostDeliveryEvents,
  emailUrlInfo,
  messagePostDeliveryEvents,
  TEAMS_POST_DELIVERY_ACTION_TYPES,
  URL_CLICK_ACTION_TYPES,
  urlClickEvents,
} from './emailTables.ts';
export { IDENTITY_LOGON_ACTION_TYPES, identityDirectoryEvents, identityLogonEvents, identityQueryEvents } from './identityTables.ts';

/** Prefix of the `category` field of streamed AdvancedHunting records. */
export const ADVANCED_HUNTING_PREFIX = 'AdvancedHunting-';

/** Category (without 'AdvancedHunting-') → table definition. */
export const defenderTables: Record<string, TableDefinition> = {
  DeviceProcessEvents: deviceProcessEvents,
  DeviceNetworkEvents: deviceNetworkEvents,
  DeviceLogonEvents: deviceLogonEvents,
  DeviceFileEvents: deviceFileEvents,
  DeviceRegistryEvents: deviceRegistryEvents,
  DeviceEvents: deviceEvents,
  DeviceImageLoadEvents: deviceImageLoadEvents,
  DeviceInfo: deviceInfo,
  DeviceNetworkInfo: deviceNetworkInfo,
  DeviceFileCertificateInfo: deviceFileCertificateInfo,
  EmailEvents: emailEvents,
  EmailAttachmentInfo: emailAttachmentInfo,
  EmailUrlInfo: emailUrlInfo,
  EmailPostDeliveryEvents: emailPostDeliveryEvents,
  UrlClickEvents: urlClickEvents,
  MessagePostDeliveryEvents: messagePostDeliveryEvents,
  IdentityLogonEvents: identityLogonEvents,
  IdentityQueryEvents: identityQueryEvents,
  IdentityDirectoryEvents: identityDirectoryEvents,
  CloudAppEvents: cloudAppEvents,
  CloudAuditEvents: cloudAuditEvents,
  AlertInfo: alertInfo,
  AlertEvidence: alertEvidence,
};

for (const def of Object.values(defenderTables)) assertValidDefinition(def);

/** 'AdvancedHunting-DeviceNetworkEvents' or 'DeviceNetworkEvents' → 'DeviceNetworkEvents'. */
export function defenderCategoryKey(category: string): string {
  return category.startsWith(ADVANCED_HUNTING_PREFIX) ? category.slice(ADVANCED_HUNTING_PREFIX.length) : category;
}

/** The table for a record's category (with or without the prefix); undefined for categories sluice has no table for. */
export function defenderTableOf(category: string): TableDefinition | undefined {
  const key = defenderCategoryKey(category);
  return Object.hasOwn(defenderTables, key) ? defenderTables[key] : undefined;
}

/** Table name for a category, e.g. 'AdvancedHunting-DeviceProcessEvents' → 'defender_device_process_events'; undefined if unknown. */
export function defenderTableName(category: string): string | undefined {
  return defenderTableOf(category)?.name;
}
