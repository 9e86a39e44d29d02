// splitter: raw.<source> → cat.<source>.<category>, one output batch per category per input batch, routed by the
// source's family (libs/sources).
import { Counter } from 'prom-client';
import { isMain, runService, STREAMS, subjects, type ServiceDefinition } from '@sluice/runtime';
import { splitBatch, type SplitStats } from './handler.ts';
import { resolveSources, sourceEntrySchema, type SourceEntry } from './sources.ts';

export interface SplitterConfig {
  splitter: { sources: SourceEntry[] };
}

export const splitter: ServiceDefinition<SplitterConfig> = {
  name: 'splitter',
  description: 'explodes and routes raw records of each source to per-category subjects, by the source family',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { sources: { type: 'array', items: sourceEntrySchema, minItems: 1, default: ['defender'] } },
  },
  async setup({ config, metrics, log }) {
    const sources = resolveSources(config.splitter.sources, 'splitter.sources');
    const routed = new Counter({ name: 'sluice_splitter_records_total', help: 'Records routed, by source and category (_unknown = catch-all)', labelNames: ['source', 'category'], registers: [metrics.registry] });
    const skipped = new Counter({ name: 'sluice_splitter_skipped_total', help: 'Records without data skipped on purpose (e.g. Zeek #close lines), by source', labelNames: ['source'], registers: [metrics.registry] });
    log.info({ sources: sources.map((s) => `${s.source}:${s.family.name}`) }, 'splitter ready');
    return {
      inputs: sources.map(({ source, family }) => ({
        stream: STREAMS.raw.name,
        durable: `splitter-${source}`,
        filterSubject: subjects.rawAllPartitions(source),
        handler: async (msg) => {
          const stats: SplitStats = { byCategory: new Map(), skipped: 0 };
          const out = splitBatch(msg, family, stats);
          for (const [category, n] of stats.byCategory) routed.inc({ source, category }, n);
          if (stats.skipped) skipped.inc({ source }, stats.skipped);
          return out;
        },
      })),
    };
  },
};

if (isMain(import.meta.url)) await runService(splitter);
