// Configuration of a Kafka / Azure Event Hubs source (collector.kafka[]), apart from the source itself so the
// collector's config schema does not load kafkajs when no Kafka source is configured.
import { DEFAULT_MAX_BATCH_BYTES } from '@sluice/runtime';

export interface KafkaSourceConfig {
  /** Names raw.<source>. */
  source: string;
  /** Source family name sent with every envelope (default: the source name). */
  family?: string;
  /** host:port list; Event Hubs: `<namespace>.servicebus.windows.net:9093`. */
  brokers: string[];
  /** Topics (Event Hubs: event hub names). */
  topics: string[];
  /** Consumer group (Event Hubs: a consumer group of the event hub, e.g. `$Default`). */
  groupId: string;
  clientId?: string;
  sasl?: { mechanism: 'plain'; username: string; password?: string; passwordFile?: string };
  /** TLS to the brokers (required by Event Hubs). */
  ssl?: boolean;
  maxBatchBytes: number;
  /** A group without committed offsets starts at the oldest retained message (true) or at new ones only (false). */
  fromBeginning: boolean;
  /** A member silent this long is dropped from the group and its partitions reassigned (kafkajs default 30 s). */
  sessionTimeoutMs?: number;
  /** `streams.rawPartitions` (set by the collector): each topic-partition's batches go to one raw partition. */
  rawPartitions?: number;
}

/** JSON schema of one entry of `collector.kafka: [...]` (ajv, with defaults). */
export const kafkaSourceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
    family: { type: 'string', minLength: 1 },
    brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]+$' } },
    topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    groupId: { type: 'string', minLength: 1 },
    clientId: { type: 'string', minLength: 1 },
    sasl: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mechanism: { type: 'string', enum: ['plain'] },
        username: { type: 'string', minLength: 1 },
        password: { type: 'string', minLength: 1 },
        passwordFile: { type: 'string', minLength: 1 },
      },
      required: ['mechanism', 'username'],
      oneOf: [{ required: ['password'] }, { required: ['passwordFile'] }],
    },
    ssl: { type: 'boolean', default: false },
    maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 900 * 1024, default: DEFAULT_MAX_BATCH_BYTES },
    fromBeginning: { type: 'boolean', default: true },
    sessionTimeoutMs: { type: 'integer', minimum: 6000, maximum: 300_000 },
  },
  required: ['source', 'brokers', 'topics', 'groupId'],
} as const;
