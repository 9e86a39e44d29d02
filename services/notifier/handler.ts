// Posts each alert of an envelope to Slack unless this destination already received it.
// A 4xx other than 429 dead-letters the alert; 429 and 5xx are retried (by the client, then by redelivery).
import { NonRetryableError, splitLines, type InputMessage, type Logger } from '@sluice/runtime';
import { postToSlack, toSlackMessage, type Alert } from '@sluice/slack';
import type { DeliveredAlerts } from './deliveredAlerts.ts';

const dec = new TextDecoder();

export async function notifyBatch(msg: InputMessage, opts: { webhookUrl: string; delivered: DeliveredAlerts; log: Logger; onPosted?: () => void; onSkipped?: () => void }): Promise<void> {
  for (const line of splitLines(msg.data)) {
    let alert: Alert;
    try {
      alert = JSON.parse(dec.decode(line)) as Alert;
    } catch (e) {
      throw new NonRetryableError(`alert is not valid JSON: ${(e as Error).message}`);
    }
    if (!alert.alert_id) throw new NonRetryableError('alert has no alert_id');
    const state = await opts.delivered.state(alert.alert_id);
    if (state === 'sent') {
      opts.onSkipped?.();
      continue;
    }
    // `posting` means a previous attempt crashed between the post and the record: Slack has no idempotency key,
    // so we post again (at-least-once in that narrow window) rather than risk losing the alert.
    if (state === 'posting') opts.log.warn({ alert_id: alert.alert_id }, 'previous delivery outcome unknown; posting again');
    await opts.delivered.markPosting(alert.alert_id);
    const res = await postToSlack(opts.webhookUrl, toSlackMessage(alert));
    if (res.outcome === 'rejected') throw new NonRetryableError(`Slack rejected alert ${alert.alert_id}: ${res.status} ${res.body}`);
    await opts.delivered.markSent(alert.alert_id);
    opts.onPosted?.();
    opts.log.info({ alert_id: alert.alert_id, rule: alert.rule }, 'alert posted to Slack');
  }
}
