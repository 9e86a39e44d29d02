// parser: parses the categories of one source (or of several) into typed columns. cat.<source>.<category> (NDJSON)
// → parsed.<table> (Arrow IPC) + quarantine + quality.<table> (one stats message per envelope). Each category has its
// own durable consumer, so a category can also be given its own deployment and scaled alone, and one process can
// serve several small sources.
import { Counter } from 'prom-client';
import { ConfigError, isMain, runService, STREAMS, subjects, type InputSpec, type ServiceDefinition } from '@sluice/runtime';
import { families, familyFor, type SourceFamily } from '@sluice/sources';
import { parseBatch, parserContext, type ExpectationCounter } from './handler.ts';

export const PARSER_VERSION = '0.2.0';

interface SourceSelection {
  source: string;
  family?: string;
  categories?: string[];
}

export interface ParserConfig {
  parser: { source: string; family?: string; category?: string; categories?: string[]; sources?: SourceSelection[] };
}

const sourcePattern = '^[A-Za-z0-9_-]+$';

export const parser: ServiceDefinition<ParserConfig> = {
  name: 'parser',
  description: 'parses the categories of a source into typed columns with expectations, lineage and quarantine',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      source: { type: 'string', pattern: sourcePattern, default: 'defender', description: 'the source name (raw.<source>)' },
      family: { type: 'string', description: 'the source family; default: the source name' },
      category: { type: 'string', minLength: 1, description: 'one category, e.g. DeviceProcessEvents' },
      categories: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'several categories; default: all of the family' },
      sources: {
        type: 'array',
        minItems: 1,
        description: 'several sources in one process (instead of source/family/category)',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: { type: 'string', pattern: sourcePattern },
            family: { type: 'string' },
            categories: { type: 'array', items: { type: 'string', minLength: 1 } },
          },
          required: ['source'],
        },
      },
    },
  },
  flags: {
    category: { key: 'parser.category', help: 'the one category this deployment parses' },
    source: { key: 'parser.source', help: 'the source whose categories this deployment parses' },
    family: { key: 'parser.family', help: 'the source family (default: the source name)' },
  },
  validate: (config) => {
    const noop = { inc: () => undefined };
    for (const { sel, key } of selectionsOf(config.parser)) inputsOf(sel, key, noop);
  },
  async setup({ config, metrics, log }) {
    const selections = selectionsOf(config.parser);
    const failures = new Counter({
      name: 'sluice_expectation_failures_total',
      help: 'Rows failing an expectation, by table, rule and action (coercion = structural failure)',
      labelNames: ['table', 'rule', 'action'],
      registers: [metrics.registry],
    });
    const inputs = selections.flatMap(({ sel, key }) => inputsOf(sel, key, failures));
    log.info({ sources: selections.map(({ sel }) => sel.source), consumers: inputs.map((i) => i.durable) }, 'parser ready');
    return { inputs };
  },
};

function selectionsOf(p: ParserConfig['parser']): { sel: SourceSelection; key: string }[] {
  if (p.category !== undefined && p.categories !== undefined) throw new ConfigError('parser.category: give category or categories, not both');
  return p.sources
    ? p.sources.map((sel, i) => ({ sel, key: `parser.sources[${i}]` }))
    : [{ sel: { source: p.source, family: p.family, categories: p.categories ?? (p.category !== undefined ? [p.category] : undefined) }, key: 'parser' }];
}

export function inputsOf(sel: SourceSelection, key: string, failures: ExpectationCounter): InputSpec[] {
  const familyName = sel.family ?? sel.source;
  const family: SourceFamily | undefined = familyFor(familyName);
  if (!family) throw new ConfigError(`${key}.family: unknown family "${familyName}"; known: ${Object.keys(families).join(', ')}`);
  const categories = sel.categories ?? Object.keys(family.tables);
  for (const [i, c] of categories.entries()) {
    if (!Object.hasOwn(family.tables, c)) throw new ConfigError(`${key}.categories[${i}]: unknown category "${c}" of family ${family.name}; known: ${Object.keys(family.tables).join(', ')}`);
  }
  return categories.map((category) => {
    // Per-envelope quality stats (quality.<table>) feed the detector's expectation-rate rule.
    const ctx = { ...parserContext(family.tables[category]!, PARSER_VERSION, failures, family, category), qualityStats: true };
    return {
      stream: STREAMS.categorized.name,
      durable: `parser-${sel.source}-${category}`,
      filterSubject: subjects.categorized(sel.source, category),
      handler: async (msg) => parseBatch(msg, ctx),
    };
  });
}

if (isMain(import.meta.url)) await runService(parser);
