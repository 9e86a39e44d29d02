// parser: one deployment per category. cat.<source>.<category> (NDJSON) → parsed.<table> (Arrow IPC) + quarantine.
import { Counter } from 'prom-client';
import { ConfigError, isMain, runService, STREAMS, subjects, type ServiceDefinition } from '@sluice/runtime';
import { defenderTables } from '@sluice/tables';
import { parseBatch, parserContext } from './handler.ts';

export const PARSER_VERSION = '0.1.0';

export interface ParserConfig {
  parser: { source: string; category: string };
}

export const parser: ServiceDefinition<ParserConfig> = {
  name: 'parser',
  description: 'parses one category into typed columns with expectations, lineage and quarantine',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      source: { type: 'string', default: 'defender' },
      category: { type: 'string', minLength: 1, description: 'e.g. DeviceProcessEvents' },
    },
    required: ['category'],
  },
  flags: { category: { key: 'parser.category', help: 'the category this deployment parses' } },
  async setup({ config, metrics, log }) {
    const { source, category } = config.parser;
    const def = defenderTables[category];
    if (!def) throw new ConfigError(`parser.category: unknown category "${category}"; known: ${Object.keys(defenderTables).join(', ')}`);
    const failures = new Counter({
      name: 'sluice_expectation_failures_total',
      help: 'Rows failing an expectation, by table, rule and action (coercion = structural failure)',
      labelNames: ['table', 'rule', 'action'],
      registers: [metrics.registry],
    });
    const ctx = parserContext(def, PARSER_VERSION, failures);
    log.info({ category, table: def.name, expectations: def.expectations.map((e) => `${e.name}:${e.action}`) }, 'parser ready');
    return {
      inputs: [
        {
          stream: STREAMS.categorized.name,
          durable: `parser-${source}-${category}`,
          filterSubject: subjects.categorized(source, category),
          handler: async (msg) => parseBatch(msg, ctx),
        },
      ],
    };
  },
};

if (isMain(import.meta.url)) await runService(parser);
