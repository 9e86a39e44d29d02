// A notifier destination: one durable consumer on ALERTS, one KV ledger namespace, one AlertBatcher.
import type { Alert } from '@sluice/slack';
import type { AlertBatcher, DeliveryOutcome } from './alertBatcher.ts';

export interface Destination {
  /** Ledger namespace and metrics label: `slack`, `eventhubs-kafka`, `eventhubs-https`. */
  name: string;
  /** Its own durable consumer, so a slow destination never holds back another. */
  durable: string;
  deliver(alert: Alert): Promise<DeliveryOutcome>;
  /** Sends open groups now and waits for sends in progress (shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function batcherDestination(name: string, batcher: AlertBatcher, close: () => Promise<void> = async () => undefined): Destination {
  return {
    name,
    durable: `notifier-${name}`,
    deliver: (a) => batcher.deliver(a),
    async flush() {
      batcher.flushAll();
      await batcher.idle();
    },
    close,
  };
}
