// notifier: ALERTS → Slack (routed, aggregated, rate limited) and Azure Event Hubs (Kafka endpoint and/or HTTPS),
// each destination with its own durable consumer and exactly-once bookkeeping in the JetStream KV ledger.
import { Kvm } from '@nats-io/kv';
import { Counter } from 'prom-client';
import { KV_BUCKETS, isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { notifierSchema, type NotifierConfig } from './config.ts';
import { DeliveryLedger } from './deliveryLedger.ts';
import type { Destination } from './destination.ts';
import { eventHubsHttpsDestination, eventHubsKafkaDestination } from './eventHubsDestinations.ts';
import { notifyMessage, type Outcome } from './handler.ts';
import { slackDestination } from './slackDestination.ts';

export type { NotifierConfig } from './config.ts';

/** Metric labels (`posted`, `duplicate_skipped` kept from the first notifier for dashboards). */
const OUTCOME_LABEL: Record<Outcome, string> = { delivered: 'posted', duplicate: 'duplicate_skipped', unrouted: 'unrouted', rejected: 'rejected', invalid: 'invalid' };

export const notifier: ServiceDefinition<NotifierConfig> = {
  name: 'notifier',
  description: 'delivers alerts to Slack and Azure Event Hubs, exactly once per destination',
  sectionSchema: notifierSchema,
  async setup({ config, nc, log, metrics }) {
    const n = config.notifier;
    const kv = await new Kvm(nc).open(KV_BUCKETS.notifierDelivered);
    const leaseMs = n.claimLeaseSeconds * 1000;
    // A claim must outlive the longest send, or a slow (not crashed) sender's alerts would be taken over and re-sent:
    // every attempt timing out, the backoff between them (≤ 30 s each) and up to 60 s of Retry-After waits.
    const longestSlackMs = n.slack.timeoutMs * (n.slack.maxRetries + 1) + Math.min(30_000, 500 * 2 ** n.slack.maxRetries) * n.slack.maxRetries + 60_000;
    if (n.slack.enabled && longestSlackMs >= leaseMs) {
      log.warn({ claimLeaseSeconds: n.claimLeaseSeconds, longestSlackSendSeconds: Math.ceil(longestSlackMs / 1000) }, 'claimLeaseSeconds is shorter than the longest Slack send: raise it to avoid double posts after slow sends');
    }
    const ledger = (name: string) => new DeliveryLedger(kv, name, leaseMs);
    const destinations: Destination[] = [];
    if (n.slack.enabled) destinations.push(slackDestination(n.slack, ledger('slack'), leaseMs));
    if (n.eventhubs.kafka?.enabled) destinations.push(eventHubsKafkaDestination(n.eventhubs.kafka, ledger('eventhubs-kafka'), leaseMs));
    if (n.eventhubs.https?.enabled) destinations.push(eventHubsHttpsDestination(n.eventhubs.https, ledger('eventhubs-https'), leaseMs));
    if (destinations.length === 0) log.warn('no destinations configured: the notifier consumes nothing');
    const counter = new Counter({ name: 'sluice_notifier_alerts_total', help: 'Alerts by destination and outcome', labelNames: ['destination', 'outcome'], registers: [metrics.registry] });
    return {
      inputs: destinations.map((d) => ({
        stream: STREAMS.alerts.name,
        durable: d.durable,
        filterSubject: 'alerts.>',
        // An aggregation window keeps its messages unacknowledged (heartbeats hold them): allow many in flight.
        maxInFlight: n.maxInFlight,
        handler: (msg) => notifyMessage(msg, d, { log, count: (outcome) => counter.inc({ destination: d.name, outcome: OUTCOME_LABEL[outcome] }) }),
      })),
      async stop() {
        // Send what the windows hold now, so in-flight messages are acknowledged within the shutdown grace.
        await Promise.all(destinations.map((d) => d.flush()));
        await Promise.all(destinations.map((d) => d.close()));
      },
    };
  },
};

if (isMain(import.meta.url)) await runService(notifier);
