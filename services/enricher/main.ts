// enricher: parsed.<table> → events.<table>.<partition> (input seq % streams.eventPartitions), adding GeoIP columns declared by each table definition.
import { GeoLookup } from '@sluice/geoip';
import { isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { allTables } from '@sluice/tables';
import { enrichBatch } from './handler.ts';

export interface EnricherConfig {
  enricher: { geoip: { enabled: boolean; cityDatabase?: string } };
}

export const enricher: ServiceDefinition<EnricherConfig> = {
  name: 'enricher',
  description: 'adds GeoIP country/city for public IPs to typed batches',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      geoip: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { enabled: { type: 'boolean', default: true }, cityDatabase: { type: 'string', description: 'path to a GeoIP2/GeoLite2 City .mmdb; default: the embedded GeoLite2-City' } },
      },
    },
  },
  async setup({ config, log }) {
    const g = config.enricher.geoip;
    const geo = g.enabled ? await GeoLookup.open(g.cityDatabase) : null;
    if (geo) log.info({ database: geo.path }, 'GeoIP database loaded');
    const geoFields = new Map(allTables().map((t) => [t.name, t.enrich?.geoip ?? []] as const));
    return {
      inputs: [{ stream: STREAMS.parsed.name, durable: 'enricher', filterSubject: 'parsed.>', handler: async (msg) => enrichBatch(msg, { geo, geoFields, partitions: config.streams.eventPartitions }) }],
    };
  },
};

if (isMain(import.meta.url)) await runService(enricher);
