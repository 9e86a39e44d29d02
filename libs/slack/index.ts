// Public surface of @sluice/slack: alert → Block Kit rendering, webhook delivery, and a local webhook stand-in.
// Import from here; the individual files are implementation layout.
export type { Alert, EvidenceRef, Severity } from './alert.ts';
export {
  SLACK_LIMITS,
  escapeMrkdwn,
  truncate,
  type ContextBlock,
  type DividerBlock,
  type HeaderBlock,
  type MrkdwnText,
  type PlainText,
  type SectionBlock,
  type SlackBlock,
  type SlackMessage,
  type TextObject,
} from './blockKit.ts';
export { SEVERITY_EMOJI, toSlackMessage } from './slackMessage.ts';
export { toAggregateMessage } from './aggregateMessage.ts';
export { RetryableDeliveryError, backoffMs, parseRetryAfter, postToSlack, type PostOptions, type PostResult } from './slackClient.ts';
export { SLACK_ERRORS, startWebhookReceiver, type ReceivedPost, type ScriptedAnswer, type WebhookReceiver, type WebhookReceiverOptions } from './webhookReceiver.ts';
export { validateWebhookPayload, type WebhookError } from './webhookValidation.ts';
