// The notifier's configuration section (`notifier:`): Slack routes and limits, Event Hubs over Kafka and HTTPS.
import type { SlackRouteConfig } from './routes.ts';

export interface SlackConfig {
  enabled: boolean;
  /** Default webhook: alerts no route matches go here (none: they are not sent to Slack). */
  webhookUrl?: string;
  webhookUrlFile?: string;
  routes: SlackRouteConfig[];
  /** Similar alerts (same rule and entity, same webhook) within this many seconds become one message; 0 = off. */
  aggregateWindowSeconds: number;
  aggregateMaxAlerts: number;
  /** Messages per second per webhook (Slack allows about 1) and the burst allowed on top. */
  ratePerSecond: number;
  burst: number;
  timeoutMs: number;
  maxRetries: number;
}

export interface EventHubsKafkaConfig {
  enabled: boolean;
  /** Event Hubs connection string (or its file): gives the brokers (<ns>:9093), SASL PLAIN and the topic (EntityPath). */
  connectionString?: string;
  connectionStringFile?: string;
  /** Overrides: a plain Kafka broker, or a test broker. */
  brokers?: string[];
  topic?: string;
  /** TLS to the brokers: Event Hubs requires it; false only for a local broker. */
  ssl: boolean;
  /** Idempotent producer (InitProducerId): on by default; off for a namespace that refuses it. */
  idempotent: boolean;
  lingerMs: number;
  maxBatch: number;
}

export interface EventHubsHttpsConfig {
  enabled: boolean;
  connectionString?: string;
  connectionStringFile?: string;
  /** The event hub (default: EntityPath of the connection string). */
  hub?: string;
  /** Base URL requests go to instead of https://<namespace> (a local stand-in); tokens still name the namespace. */
  endpoint?: string;
  caFile?: string;
  lingerMs: number;
  maxBatch: number;
  timeoutMs: number;
}

export interface NotifierSection {
  /** A claim older than this is from a crashed replica and may be taken over (longer than one send can take). */
  claimLeaseSeconds: number;
  /** Messages in flight per destination: a held aggregation window keeps its messages unacknowledged. */
  maxInFlight: number;
  slack: SlackConfig;
  eventhubs: { kafka?: EventHubsKafkaConfig; https?: EventHubsHttpsConfig };
}

export interface NotifierConfig {
  notifier: NotifierSection;
}

const url = { type: 'string', pattern: '^https?://' } as const;
const file = { type: 'string', minLength: 1 } as const;
const severity = { type: 'string', enum: ['low', 'medium', 'high', 'critical'] } as const;
const secretSource = { not: { required: ['connectionString', 'connectionStringFile'] } } as const;

export const notifierSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    claimLeaseSeconds: { type: 'number', minimum: 1, default: 120 },
    maxInFlight: { type: 'integer', minimum: 1, default: 256 },
    slack: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        webhookUrl: url,
        webhookUrlFile: file,
        routes: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              rule: { type: 'string', minLength: 1 },
              severity: { anyOf: [severity, { type: 'array', minItems: 1, items: severity }] },
              webhookUrl: url,
              webhookUrlFile: file,
            },
            oneOf: [{ required: ['webhookUrl'] }, { required: ['webhookUrlFile'] }],
          },
        },
        aggregateWindowSeconds: { type: 'number', minimum: 0, maximum: 3600, default: 0 },
        aggregateMaxAlerts: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        ratePerSecond: { type: 'number', exclusiveMinimum: 0, default: 1 },
        burst: { type: 'integer', minimum: 1, default: 1 },
        timeoutMs: { type: 'integer', minimum: 100, default: 10_000 },
        maxRetries: { type: 'integer', minimum: 0, default: 3 },
      },
      not: { required: ['webhookUrl', 'webhookUrlFile'] },
      if: { properties: { enabled: { const: true } } },
      then: { anyOf: [{ required: ['webhookUrl'] }, { required: ['webhookUrlFile'] }, { properties: { routes: { minItems: 1 } }, required: ['routes'] }] },
    },
    eventhubs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kafka: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', default: true },
            connectionString: { type: 'string', minLength: 1 },
            connectionStringFile: file,
            brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]+$' } },
            topic: { type: 'string', minLength: 1 },
            ssl: { type: 'boolean', default: true },
            idempotent: { type: 'boolean', default: true },
            lingerMs: { type: 'integer', minimum: 0, default: 20 },
            maxBatch: { type: 'integer', minimum: 1, default: 500 },
          },
          ...secretSource,
        },
        https: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', default: true },
            connectionString: { type: 'string', minLength: 1 },
            connectionStringFile: file,
            hub: { type: 'string', minLength: 1 },
            endpoint: url,
            caFile: file,
            lingerMs: { type: 'integer', minimum: 0, default: 20 },
            maxBatch: { type: 'integer', minimum: 1, default: 500 },
            timeoutMs: { type: 'integer', minimum: 100, default: 10_000 },
          },
          anyOf: [{ required: ['connectionString'] }, { required: ['connectionStringFile'] }],
          ...secretSource,
        },
      },
    },
  },
} as const;
