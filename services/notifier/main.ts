// notifier: alerts.> → Slack incoming webhook, at most once per alert id (KV-backed), retries on 429/5xx.
import { Kvm } from '@nats-io/kv';
import { Counter } from 'prom-client';
import { KV_BUCKETS, isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { DeliveredAlerts } from './deliveredAlerts.ts';
import { notifyBatch } from './handler.ts';

export interface NotifierConfig {
  notifier: { slack: { webhookUrl?: string; enabled: boolean } };
}

export const notifier: ServiceDefinition<NotifierConfig> = {
  name: 'notifier',
  description: 'posts alerts to a Slack incoming webhook, once per alert',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      slack: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { enabled: { type: 'boolean', default: true }, webhookUrl: { type: 'string', pattern: '^https?://' } },
        if: { properties: { enabled: { const: true } } },
        then: { required: ['webhookUrl'] },
      },
    },
  },
  async setup({ config, nc, log, metrics }) {
    const slack = config.notifier.slack;
    if (!slack.enabled || !slack.webhookUrl) {
      log.warn('Slack disabled: no destinations');
      return { inputs: [] };
    }
    const kv = await new Kvm(nc).open(KV_BUCKETS.notifierDelivered);
    const delivered = new DeliveredAlerts(kv, 'slack');
    const sent = new Counter({ name: 'sluice_notifier_alerts_total', help: 'Alerts by destination and outcome', labelNames: ['destination', 'outcome'], registers: [metrics.registry] });
    const webhookUrl = slack.webhookUrl;
    return {
      inputs: [
        {
          stream: STREAMS.alerts.name,
          durable: 'notifier-slack',
          filterSubject: 'alerts.>',
          handler: async (msg) => {
            await notifyBatch(msg, { webhookUrl, delivered, log, onPosted: () => sent.inc({ destination: 'slack', outcome: 'posted' }), onSkipped: () => sent.inc({ destination: 'slack', outcome: 'duplicate_skipped' }) });
            return [];
          },
        },
      ],
    };
  },
};

if (isMain(import.meta.url)) await runService(notifier);
