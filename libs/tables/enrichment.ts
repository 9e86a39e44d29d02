// The enricher's output columns, derived from a table's `enrich` declaration, and the per-table configuration that
// overrides those defaults. Parser, enricher and sink all take a table's columns from here, so they agree.
import type { ColumnDef, TableDefinition, TableEnrichment } from './tableDefinition.ts';

export const ENRICHMENT_KINDS = ['geoip', 'domain', 'attribution'] as const;
export type EnrichmentKind = (typeof ENRICHMENT_KINDS)[number];

/** Names of the columns the enricher adds for one IP column. */
export function geoColumnNames(ipColumn: string) {
  return {
    scope: `${ipColumn}_scope`,
    country: `${ipColumn}_geo_country`,
    city: `${ipColumn}_geo_city`,
    latitude: `${ipColumn}_geo_latitude`,
    longitude: `${ipColumn}_geo_longitude`,
    asn: `${ipColumn}_asn`,
    asOrg: `${ipColumn}_as_org`,
  } as const;
}

/** Names of the columns the enricher adds for one DNS name / host / URL column. */
export function domainColumnNames(nameColumn: string) {
  return { registeredDomain: `${nameColumn}_registered_domain`, publicSuffix: `${nameColumn}_public_suffix` } as const;
}

/** Names of the columns the enricher adds for one internal-address column (who held it at the event time). */
export function attributionColumnNames(ipColumn: string) {
  return { user: `${ipColumn}_user`, mac: `${ipColumn}_mac`, hostname: `${ipColumn}_hostname` } as const;
}

export function geoColumns(ip: string): ColumnDef[] {
  const n = geoColumnNames(ip);
  return [
    { name: n.scope, type: 'string', doc: `Kind of address in ${ip}: public, private, cgnat, loopback, link_local, multicast, reserved or invalid (enricher).` },
    { name: n.country, type: 'string', doc: `ISO country code of ${ip} (GeoIP; null unless public and known).` },
    { name: n.city, type: 'string', doc: `City of ${ip} (GeoIP; null when unknown).` },
    { name: n.latitude, type: 'double', doc: `Approximate latitude of ${ip} (GeoIP).` },
    { name: n.longitude, type: 'double', doc: `Approximate longitude of ${ip} (GeoIP).` },
    { name: n.asn, type: 'long', doc: `Autonomous system number announcing ${ip} (GeoIP ASN).` },
    { name: n.asOrg, type: 'string', doc: `Organisation of that autonomous system (GeoIP ASN).` },
  ];
}

export function domainColumns(name: string): ColumnDef[] {
  const n = domainColumnNames(name);
  return [
    { name: n.registeredDomain, type: 'string', doc: `Registered domain (eTLD+1) of ${name}, e.g. bbc.co.uk (null for IPs and unknown suffixes).` },
    { name: n.publicSuffix, type: 'string', doc: `Public suffix of ${name}, e.g. co.uk.` },
  ];
}

export function attributionColumns(ip: string): ColumnDef[] {
  const n = attributionColumnNames(ip);
  return [
    { name: n.user, type: 'string', doc: `User who held ${ip} at the event time (gold ip_lookup: RADIUS / ISE sessions; null when unknown).` },
    { name: n.mac, type: 'string', doc: `MAC that held ${ip} at the event time (gold ip_lookup: DHCP leases, ISE / RADIUS sessions).` },
    { name: n.hostname, type: 'string', doc: `Host name of the holder of ${ip} at the event time (gold ip_lookup).` },
  ];
}

/** Columns filled by the enricher, in order: per geoip column its 7 columns, per domain column its 2, per attribution column its 3. */
export function enrichmentColumnsOf(def: TableDefinition): ColumnDef[] {
  return [...(def.enrich?.geoip ?? []).flatMap(geoColumns), ...(def.enrich?.domain ?? []).flatMap(domainColumns), ...(def.enrich?.attribution ?? []).flatMap(attributionColumns)];
}

/** Whether a table gets any enrichment column. */
export function hasEnrichment(e: TableEnrichment | undefined): boolean {
  return (e?.geoip?.length ?? 0) + (e?.domain?.length ?? 0) + (e?.attribution?.length ?? 0) > 0;
}

/** Per-table configuration: for each table, the kinds it overrides (a given list replaces the default; [] disables). */
export type EnrichmentOverrides = Readonly<Record<string, Readonly<TableEnrichment>>>;

/**
 * The tables with their `enrich` replaced where `overrides` says so. Throws one error naming every bad key
 * (`<prefix>.<table>…`): unknown table, a table that is not silver, unknown kind, unknown or non-string column,
 * a column listed twice, attribution on a table without an event time, an output column that clashes with a
 * declared one.
 */
export function applyEnrichmentOverrides(defs: readonly TableDefinition[], overrides: EnrichmentOverrides | undefined, prefix = 'enricher.tables'): TableDefinition[] {
  if (!overrides || Object.keys(overrides).length === 0) return [...defs];
  const byName = new Map(defs.map((d) => [d.name, d]));
  const errors: string[] = [];
  const replaced = new Map<string, TableEnrichment>();
  for (const [table, o] of Object.entries(overrides)) {
    const key = `${prefix}.${table}`;
    const def = byName.get(table);
    if (!def) {
      errors.push(`${key}: unknown table "${table}"`);
      continue;
    }
    if (def.layer !== 'silver') {
      errors.push(`${key}: table "${table}" is ${def.layer}, only silver tables are enriched`);
      continue;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      errors.push(`${key}: must be a mapping with geoip, domain and/or attribution lists`);
      continue;
    }
    const next: TableEnrichment = { ...def.enrich };
    for (const [kind, cols] of Object.entries(o) as [string, unknown][]) {
      if (!(ENRICHMENT_KINDS as readonly string[]).includes(kind)) {
        errors.push(`${key}.${kind}: unknown key (expected ${ENRICHMENT_KINDS.join(', ')})`);
        continue;
      }
      if (!Array.isArray(cols)) {
        errors.push(`${key}.${kind}: must be a list of column names`);
        continue;
      }
      if (kind === 'attribution' && cols.length > 0 && !def.eventTime) {
        errors.push(`${key}.attribution: table ${table} has no eventTime column, so no time to attribute its addresses at`);
        continue;
      }
      const seen = new Set<string>();
      cols.forEach((c: unknown, i) => {
        const at = `${key}.${kind}[${i}]`;
        const col = typeof c === 'string' ? def.columns.find((x) => x.name === c) : undefined;
        if (typeof c !== 'string') errors.push(`${at}: must be a column name`);
        else if (!col) errors.push(`${at}: unknown column "${c}" in table ${table} (string columns: ${stringColumns(def)})`);
        else if (col.type !== 'string') errors.push(`${at}: column "${c}" is ${col.type}, enrichment needs a string column`);
        else if (seen.has(c)) errors.push(`${at}: column "${c}" is listed twice`);
        seen.add(String(c));
      });
      next[kind as EnrichmentKind] = cols.filter((c): c is string => typeof c === 'string');
    }
    replaced.set(table, next);
  }
  const out = defs.map((d) => (replaced.has(d.name) ? { ...d, enrich: replaced.get(d.name)! } : d));
  if (errors.length === 0) {
    for (const d of out) {
      if (!replaced.has(d.name)) continue;
      const names = new Set(d.columns.map((c) => c.name));
      for (const c of enrichmentColumnsOf(d)) if (names.has(c.name)) errors.push(`${prefix}.${d.name}: output column "${c.name}" clashes with a declared column`);
    }
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
  return out;
}

function stringColumns(def: TableDefinition): string {
  const s = def.columns.filter((c) => c.type === 'string').map((c) => c.name);
  return s.length > 12 ? `${s.slice(0, 12).join(', ')}, …` : s.join(', ');
}
