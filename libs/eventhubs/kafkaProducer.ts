// Producing to Azure Event Hubs through its Kafka endpoint (or any Kafka broker): SASL PLAIN with the user
// `$ConnectionString` and the connection string as password, TLS on unless turned off for a local broker.
// The producer is idempotent by default, so kafkajs's own retries after a lost ack don't write a message twice.
import { Kafka, logLevel, type Producer } from 'kafkajs';

export interface KafkaProducerOptions {
  /** host:port; Event Hubs: `<ns>.servicebus.windows.net:9093`. */
  brokers: string[];
  topic: string;
  /** SASL PLAIN credentials; Event Hubs: username `$ConnectionString`, password the connection string. */
  sasl?: { username: string; password: string };
  /** TLS to the brokers: required by Event Hubs, off only for a local test broker. */
  ssl: boolean;
  clientId?: string;
  /**
   * Idempotent producer (default true): the broker drops a batch kafkajs re-sends after a lost ack. Needs the
   * InitProducerId API: plain Kafka has it; on Event Hubs check the tier (turn off if the namespace refuses it).
   */
  idempotent?: boolean;
  /** Bound on one send (connect + produce + ack), ms. */
  requestTimeoutMs?: number;
}

export interface KeyedMessage {
  key: string;
  value: string;
}

export class EventHubsKafkaProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(private readonly o: KafkaProducerOptions) {
    const kafka = new Kafka({
      clientId: o.clientId ?? 'sluice-notifier',
      brokers: o.brokers,
      ssl: o.ssl,
      ...(o.sasl ? { sasl: { mechanism: 'plain' as const, username: o.sasl.username, password: o.sasl.password } } : {}),
      requestTimeout: o.requestTimeoutMs ?? 30_000,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
    // Idempotence needs acks from all replicas and at most one in-flight request per connection.
    const idempotent = o.idempotent ?? true;
    this.producer = kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  /** One produce request for the whole batch; resolves when the broker acknowledged every message. */
  async send(messages: KeyedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    await this.producer.send({ topic: this.o.topic, acks: -1, messages });
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}
