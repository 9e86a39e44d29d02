// collector: directory, object-store, syslog and HTTP sources → raw.<source> batches. Positions live in JetStream KV.
// Every input and key is described in docs/sources/collector.md.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Kvm } from '@nats-io/kv';
import { ConfigError, DEFAULT_MAX_BATCH_BYTES, KV_BUCKETS, isMain, runService, type ServiceDefinition } from '@sluice/runtime';
import { familyFor } from '@sluice/sources';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, DirectorySource, type DirectorySourceConfig } from './directorySource.ts';
import { HttpSource, type HttpSourceConfig } from './httpSource.ts';
import type { ObjectStoreSource, ObjectStoreSourceConfig } from './objectStoreSource.ts';
import type { KafkaSource } from './kafkaSource.ts';
import { kafkaSourceSchema, type KafkaSourceConfig } from './kafkaConfig.ts';
import { resolveFamily } from './preamble.ts';
import { SyslogSource, type ListenAddress, type SyslogSourceConfig } from './syslogSource.ts';

type Configured<T> = Omit<T, 'maxBatchBytes' | 'family' | 'rawPartitions'> & { family?: string };

export interface CollectorConfig {
  collector: {
    directories: Configured<DirectorySourceConfig>[];
    objectStores: Configured<ObjectStoreSourceConfig>[];
    syslog: (Configured<SyslogSourceConfig> & { maxBatchBytes?: number })[];
    kafka: Omit<KafkaSourceConfig, 'rawPartitions'>[];
    http: Omit<HttpSourceConfig, 'maxBatchBytes' | 'familyOf'> & { enabled: boolean; tokenFile?: string; families: Record<string, string> };
    maxBatchBytes: number;
  };
}

const sourceName = { type: 'string', pattern: '^[A-Za-z0-9_-]+$' };
const familyName = { type: 'string', pattern: '^[A-Za-z0-9_-]+$' };
const listen = (defaultPort: number) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: defaultPort },
  },
});

export const collector: ServiceDefinition<CollectorConfig> = {
  name: 'collector',
  description: 'ingests files from directories and object stores, syslog and HTTP posts into the RAW stream',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      directories: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: sourceName,
            family: familyName,
            path: { type: 'string', minLength: 1 },
            pollSeconds: { type: 'number', exclusiveMinimum: 0, default: 2 },
            settleSeconds: { type: 'number', minimum: 0, default: 1 },
            maxDecompressedBytes: { type: 'integer', minimum: 1, default: DEFAULT_MAX_DECOMPRESSED_BYTES },
          },
          required: ['source', 'path'],
        },
      },
      objectStores: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: sourceName,
            family: familyName,
            url: { type: 'string', minLength: 1 },
            pollSeconds: { type: 'number', exclusiveMinimum: 0, default: 60 },
            maxObjectBytes: { type: 'integer', minimum: 1, default: 256 * 1024 * 1024 },
            maxDecompressedBytes: { type: 'integer', minimum: 1, default: 1024 * 1024 * 1024 },
            reorderWindow: { type: 'integer', minimum: 0, maximum: 10_000, default: 0 },
            startAfter: { type: 'string', minLength: 1 },
            // Endpoint and addressing only: credentials come from the SDK default chains / environment.
            s3: {
              type: 'object',
              additionalProperties: false,
              properties: {
                endpoint: { type: 'string' },
                region: { type: 'string' },
                forcePathStyle: { type: 'boolean' },
                maxAttempts: { type: 'integer', minimum: 1 },
                listPageSize: { type: 'integer', minimum: 1, maximum: 1000 },
              },
            },
            azure: {
              type: 'object',
              additionalProperties: false,
              properties: {
                endpoint: { type: 'string' },
                accountName: { type: 'string' },
                listPageSize: { type: 'integer', minimum: 1, maximum: 5000 },
              },
            },
          },
          required: ['source', 'url'],
        },
      },
      kafka: { type: 'array', default: [], items: kafkaSourceSchema, description: 'Kafka / Azure Event Hubs consumers (see docs/SOURCES.md)' },
      syslog: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: sourceName,
            family: familyName,
            udp: listen(514),
            tcp: listen(601),
            maxMessageBytes: { type: 'integer', minimum: 64, maximum: 1024 * 1024, default: 64 * 1024 },
            batchMillis: { type: 'integer', minimum: 1, default: 1000 },
            maxPendingBytes: { type: 'integer', minimum: 1024, default: 16 * 1024 * 1024 },
            maxConnections: { type: 'integer', minimum: 1, default: 1000 },
            maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 900 * 1024 },
          },
          required: ['source'],
        },
      },
      http: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: { type: 'boolean', default: false },
          host: { type: 'string', default: '127.0.0.1' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 8088 },
          maxBodyBytes: { type: 'integer', minimum: 1, default: 16 * 1024 * 1024 },
          maxDecompressedBytes: { type: 'integer', minimum: 1, default: 160 * 1024 * 1024 },
          sources: { type: 'array', items: { type: 'string' }, default: [] },
          families: { type: 'object', additionalProperties: familyName, default: {} },
          token: { type: 'string', minLength: 16 },
          tokenFile: { type: 'string', minLength: 1 },
        },
      },
      maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 900 * 1024, default: DEFAULT_MAX_BATCH_BYTES },
    },
  },
  async setup({ config, nc, js, log, metrics }) {
    const c = config.collector;
    const rawPartitions = config.streams.rawPartitions;
    checkUniqueSources(c);
    const kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
    const dirs = c.directories.map(
      (d, i) => new DirectorySource({ ...d, rawPartitions, maxBatchBytes: c.maxBatchBytes, family: resolveFamily(d.source, d.family, `collector.directories[${i}].family`) }, js, kv, log, metrics),
    );
    // Object-store and Kafka sources are loaded only when configured: the S3/Azure SDKs (@sluice/storage) and
    // kafkajs cost ≈ 70 and 14 MiB of RSS in a collector that reads directories and HTTP only.
    const objectStoreModule = c.objectStores.length > 0 ? await import('./objectStoreSource.ts') : undefined;
    const stores: ObjectStoreSource[] = c.objectStores.map(
      (o, i) =>
        new objectStoreModule!.ObjectStoreSource(
          { ...o, rawPartitions, maxBatchBytes: c.maxBatchBytes, family: resolveFamily(o.source, o.family, `collector.objectStores[${i}].family`) },
          js,
          kv,
          log,
          metrics,
        ),
    );
    const syslogs = c.syslog.map((s, i) => {
      const key = `collector.syslog[${i}]`;
      if (!s.udp && !s.tcp) throw new ConfigError(`${key}: set udp and/or tcp (e.g. udp: {port: 514})`);
      for (const proto of ['udp', 'tcp'] as const) {
        const a: ListenAddress | undefined = s[proto];
        if (a && !isLoopback(a.host)) log.warn({ source: s.source, host: a.host, port: a.port }, `syslog ${proto} listens beyond loopback (explicitly configured)`);
      }
      const cfg: SyslogSourceConfig = { ...s, rawPartitions, maxBatchBytes: s.maxBatchBytes ?? c.maxBatchBytes, family: resolveFamily(s.source, s.family, `${key}.family`) };
      return new SyslogSource(cfg, js, log, metrics);
    });
    const kafkaModule = c.kafka.length > 0 ? await import('./kafkaSource.ts') : undefined;
    const kafka: KafkaSource[] = c.kafka.map((k, i) => {
      const family = resolveFamily(k.source, k.family, `collector.kafka[${i}].family`);
      return new kafkaModule!.KafkaSource({ ...k, family: family?.name, rawPartitions }, js, log, metrics);
    });
    let http: HttpSource | undefined;
    if (c.http.enabled) {
      const { enabled: _enabled, tokenFile, families, token: inline, ...rest } = c.http;
      const token = httpToken(inline, tokenFile, c.http.host);
      const resolved = new Map<string, ReturnType<typeof familyFor>>();
      for (const [src, fam] of Object.entries(families)) resolved.set(src, resolveFamily(src, fam, `collector.http.families.${src}`));
      http = new HttpSource({ ...rest, rawPartitions, token, maxBatchBytes: c.maxBatchBytes, familyOf: (s) => (resolved.has(s) ? resolved.get(s) : familyFor(s)) }, js, log, metrics);
    }
    await http?.start();
    for (const s of syslogs) await s.start();
    for (const d of dirs) d.start();
    for (const o of stores) o.start();
    // A bad broker address or credentials stop the collector with a clear error rather than idling.
    for (const k of kafka) await k.start();
    if (!http && dirs.length + stores.length + syslogs.length + kafka.length === 0) {
      log.warn('no sources configured: set collector.directories, collector.objectStores, collector.syslog, collector.kafka or collector.http.enabled');
    }
    return {
      inputs: [],
      stop: async () => {
        await http?.stop();
        await Promise.all([...syslogs.map((s) => s.stop()), ...dirs.map((d) => d.stop()), ...stores.map((o) => o.stop()), ...kafka.map((k) => k.stop())]);
      },
    };
  },
};

/** Two inputs on one source name would share raw.<source> and, for files, KV positions: refuse it. */
function checkUniqueSources(c: CollectorConfig['collector']): void {
  const seen = new Map<string, string>();
  const add = (source: string, where: string) => {
    const prev = seen.get(source);
    if (prev) throw new ConfigError(`${where}: source "${source}" is already used by ${prev}; give each input its own source name`);
    seen.set(source, where);
  };
  c.directories.forEach((d, i) => add(d.source, `collector.directories[${i}]`));
  c.objectStores.forEach((o, i) => add(o.source, `collector.objectStores[${i}]`));
  c.syslog.forEach((s, i) => add(s.source, `collector.syslog[${i}]`));
  c.kafka.forEach((k, i) => add(k.source, `collector.kafka[${i}]`));
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The HTTP bearer token: collector.http.token (set it through SLUICE__COLLECTOR__HTTP__TOKEN or --set, not in the
 * YAML file) or the first line of collector.http.tokenFile (a mounted secret). Required beyond loopback.
 */
export function httpToken(inline: string | undefined, tokenFile: string | undefined, host: string): string | undefined {
  if (inline !== undefined && tokenFile !== undefined) throw new ConfigError('collector.http: set token or tokenFile, not both');
  let token = inline;
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`collector.http.tokenFile: cannot read ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    token = text.split(/\r?\n/)[0]!.trim();
    if (token.length < 16) throw new ConfigError(`collector.http.tokenFile: ${tokenFile} must hold a token of at least 16 characters on its first line`);
  }
  if (token === undefined && !isLoopback(host)) {
    throw new ConfigError(
      `collector.http.host is ${host}, beyond loopback: a bearer token is required (collector.http.tokenFile, or SLUICE__COLLECTOR__HTTP__TOKEN)`,
    );
  }
  return token;
}

if (isMain(import.meta.url)) await runService(collector);
