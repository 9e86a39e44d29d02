// splitter: RAW → cat.<source>.<category>, one output batch per category per input batch.
import { Counter } from 'prom-client';
import { isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { defenderTables } from '@sluice/tables';
import { splitBatch, type SplitStats } from './handler.ts';

export interface SplitterConfig {
  splitter: { sources: string[] };
}

export const splitter: ServiceDefinition<SplitterConfig> = {
  name: 'splitter',
  description: 'explodes Defender XDR payloads and routes each record to its category subject',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { sources: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' }, minItems: 1, default: ['defender'] } },
  },
  async setup({ config, metrics }) {
    const known = new Set(Object.keys(defenderTables));
    const routed = new Counter({ name: 'sluice_splitter_records_total', help: 'Records routed, by category (_unknown = catch-all)', labelNames: ['category'], registers: [metrics.registry] });
    return {
      inputs: config.splitter.sources.map((source) => ({
        stream: STREAMS.raw.name,
        durable: `splitter-${source}`,
        filterSubject: `raw.${source}`,
        handler: async (msg) => {
          const stats: SplitStats = { byCategory: new Map() };
          const out = splitBatch(msg, known, stats);
          for (const [category, n] of stats.byCategory) routed.inc({ category }, n);
          return out;
        },
      })),
    };
  },
};

if (isMain(import.meta.url)) await runService(splitter);
