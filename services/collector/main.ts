// collector: directory and HTTP sources → raw.<source> batches. Positions live in JetStream KV.
import { Kvm } from '@nats-io/kv';
import { DEFAULT_MAX_BATCH_BYTES, KV_BUCKETS, isMain, runService, type ServiceDefinition } from '@sluice/runtime';
import { DirectorySource, type DirectorySourceConfig } from './directorySource.ts';
import { HttpSource, type HttpSourceConfig } from './httpSource.ts';

export interface CollectorConfig {
  collector: {
    directories: Omit<DirectorySourceConfig, 'maxBatchBytes'>[];
    http: Omit<HttpSourceConfig, 'maxBatchBytes'> & { enabled: boolean };
    maxBatchBytes: number;
  };
}

export const collector: ServiceDefinition<CollectorConfig> = {
  name: 'collector',
  description: 'ingests files from directories and HTTP posts into the RAW stream',
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
            source: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
            path: { type: 'string', minLength: 1 },
            pollSeconds: { type: 'number', exclusiveMinimum: 0, default: 2 },
            settleSeconds: { type: 'number', minimum: 0, default: 1 },
          },
          required: ['source', 'path'],
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
          sources: { type: 'array', items: { type: 'string' }, default: [] },
        },
      },
      maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 900 * 1024, default: DEFAULT_MAX_BATCH_BYTES },
    },
  },
  async setup({ config, nc, js, log, metrics }) {
    const c = config.collector;
    const kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
    const dirs = c.directories.map((d) => new DirectorySource({ ...d, maxBatchBytes: c.maxBatchBytes } as DirectorySourceConfig, js, kv, log, metrics));
    const http = c.http.enabled ? new HttpSource({ ...c.http, maxBatchBytes: c.maxBatchBytes }, js, log, metrics) : undefined;
    await http?.start();
    for (const d of dirs) d.start();
    if (!http && dirs.length === 0) log.warn('no sources configured: set collector.directories or collector.http.enabled');
    return {
      inputs: [],
      stop: async () => {
        await http?.stop();
        await Promise.all(dirs.map((d) => d.stop()));
      },
    };
  },
};

if (isMain(import.meta.url)) await runService(collector);
