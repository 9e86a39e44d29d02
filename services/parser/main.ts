// parser: one deployment per source family (or per group of its categories). cat.<source>.<category> (NDJSON)
// → parsed.<table> (Arrow IPC) + quarantine. Each category has its own durable consumer, so a category can also be
// given its own deployment and scaled alone.
import { Counter } from 'prom-client';
import { ConfigError, isMain, runService, STREAMS, subjects, type ServiceDefinition } from '@sluice/runtime';
import { families, familyFor } from '@sluice/sources';
import { parseBatch, parserContext } from './handler.ts';

export const PARSER_VERSION = '0.2.0';

export interface ParserConfig {
  parser: { source: string; family?: string; category?: string; categories?: string[] };
}

export const parser: ServiceDefinition<ParserConfig> = {
  name: 'parser',
  description: 'parses the categories of one source into typed columns with expectations, lineage and quarantine',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      source: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'defender', description: 'the source name (raw.<source>)' },
      family: { type: 'string', description: 'the source family; default: the source name' },
      category: { type: 'string', minLength: 1, description: 'one category, e.g. DeviceProcessEvents' },
      categories: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'several categories; default: all of the family' },
    },
  },
  flags: {
    category: { key: 'parser.category', help: 'the one category this deployment parses' },
    source: { key: 'parser.source', help: 'the source whose categories this deployment parses' },
    family: { key: 'parser.family', help: 'the source family (default: the source name)' },
  },
  async setup({ config, metrics, log }) {
    const { source } = config.parser;
    const familyName = config.parser.family ?? source;
    const family = familyFor(familyName);
    if (!family) throw new ConfigError(`parser.family: unknown family "${familyName}"; known: ${Object.keys(families).join(', ')}`);
    if (config.parser.category !== undefined && config.parser.categories !== undefined) throw new ConfigError('parser.category: give category or categories, not both');
    const categories = config.parser.categories ?? (config.parser.category !== undefined ? [config.parser.category] : Object.keys(family.tables));
    for (const [i, c] of categories.entries()) {
      if (!Object.hasOwn(family.tables, c)) {
        const key = config.parser.categories ? `parser.categories[${i}]` : 'parser.category';
        throw new ConfigError(`${key}: unknown category "${c}" of family ${family.name}; known: ${Object.keys(family.tables).join(', ')}`);
      }
    }
    const failures = new Counter({
      name: 'sluice_expectation_failures_total',
      help: 'Rows failing an expectation, by table, rule and action (coercion = structural failure)',
      labelNames: ['table', 'rule', 'action'],
      registers: [metrics.registry],
    });
    log.info({ source, family: family.name, categories }, 'parser ready');
    return {
      inputs: categories.map((category) => {
        const ctx = parserContext(family.tables[category]!, PARSER_VERSION, failures, family, category);
        return {
          stream: STREAMS.categorized.name,
          durable: `parser-${source}-${category}`,
          filterSubject: subjects.categorized(source, category),
          handler: async (msg) => parseBatch(msg, ctx),
        };
      }),
    };
  },
};

if (isMain(import.meta.url)) await runService(parser);
