// Azure Event Hubs destinations: the Kafka endpoint (SASL PLAIN `$ConnectionString`, TLS, idempotent producer,
// key = alert id) and the HTTPS send API (SAS token, JSON batches). Both send each linger window as one batch.
import { readFileSync } from 'node:fs';
import { EventHubsHttpsSender, EventHubsKafkaProducer, parseConnectionString } from '@sluice/eventhubs';
import { AlertBatcher } from './alertBatcher.ts';
import type { EventHubsHttpsConfig, EventHubsKafkaConfig } from './config.ts';
import type { DeliveryLedger } from './deliveryLedger.ts';
import { batcherDestination, type Destination } from './destination.ts';

function secret(cfg: { connectionString?: string; connectionStringFile?: string }): string | undefined {
  return cfg.connectionString ?? (cfg.connectionStringFile !== undefined ? readFileSync(cfg.connectionStringFile, 'utf8').trim() : undefined);
}

// Broker answers that no retry can change for this batch; anything else (network, leader moves, throttling) is retried.
const REJECTING = new Set(['MESSAGE_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'RECORD_LIST_TOO_LARGE']);

export function eventHubsKafkaDestination(cfg: EventHubsKafkaConfig, ledger: DeliveryLedger, leaseMs: number): Destination {
  const cs = secret(cfg);
  const conn = cs !== undefined ? parseConnectionString(cs) : undefined;
  const brokers = cfg.brokers ?? (conn ? [`${conn.host.replace(/:\d+$/, '')}:9093`] : undefined);
  const topic = cfg.topic ?? conn?.entityPath;
  if (!brokers) throw new Error('notifier.eventhubs.kafka: needs brokers or a connection string');
  if (!topic) throw new Error('notifier.eventhubs.kafka: needs topic or a connection string with EntityPath');
  const producer = new EventHubsKafkaProducer({
    brokers,
    topic,
    ssl: cfg.ssl,
    idempotent: cfg.idempotent,
    clientId: 'sluice-notifier',
    ...(cs !== undefined ? { sasl: { username: '$ConnectionString', password: cs } } : {}),
  });
  const batcher = new AlertBatcher({
    ledger,
    leaseMs,
    maxAlerts: cfg.maxBatch,
    groupOf: () => 'batch',
    holdMs: () => cfg.lingerMs,
    laneOf: () => 'kafka',
    async send(_group, alerts) {
      try {
        await producer.send(alerts.map((a) => ({ key: a.alert_id, value: JSON.stringify(a) })));
        return { ok: true };
      } catch (e) {
        const type = (e as { type?: unknown }).type;
        if (typeof type === 'string' && REJECTING.has(type)) return { ok: false, reason: `Kafka rejected the batch: ${type}` };
        throw e;
      }
    },
  });
  return batcherDestination('eventhubs-kafka', batcher, () => producer.close());
}

export function eventHubsHttpsDestination(cfg: EventHubsHttpsConfig, ledger: DeliveryLedger, leaseMs: number): Destination {
  const cs = secret(cfg);
  if (cs === undefined) throw new Error('notifier.eventhubs.https: needs connectionString or connectionStringFile');
  const conn = parseConnectionString(cs);
  const hub = cfg.hub ?? conn.entityPath;
  if (!hub) throw new Error('notifier.eventhubs.https: needs hub or a connection string with EntityPath');
  const sender = new EventHubsHttpsSender({
    host: conn.host,
    hub,
    sas: { keyName: conn.keyName, key: conn.key },
    timeoutMs: cfg.timeoutMs,
    ...(cfg.endpoint !== undefined ? { endpoint: cfg.endpoint } : {}),
    ...(cfg.caFile !== undefined ? { caFile: cfg.caFile } : {}),
  });
  const batcher = new AlertBatcher({
    ledger,
    leaseMs,
    maxAlerts: cfg.maxBatch,
    groupOf: () => 'batch',
    holdMs: () => cfg.lingerMs,
    laneOf: () => 'https',
    async send(_group, alerts) {
      const events = alerts.map((a) => ({ body: JSON.stringify(a), partitionKey: a.alert_id, properties: { alert_id: a.alert_id, rule: a.rule, severity: a.severity } }));
      // Over 1 MB the group goes as several requests; a failure after the first makes the whole group retry.
      for (const batch of EventHubsHttpsSender.batches(events)) {
        const res = await sender.send(batch);
        if (res.outcome === 'rejected') return { ok: false, reason: `Event Hubs answered ${res.status} ${res.body.slice(0, 200)}` };
      }
      return { ok: true };
    },
  });
  return batcherDestination('eventhubs-https', batcher);
}
