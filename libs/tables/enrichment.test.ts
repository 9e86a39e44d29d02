// Enrichment columns derived from table definitions (part of the full/Delta schema), every family table's
// defaults are valid string columns, and per-table configuration overrides with errors naming the bad key.
import { describe, expect, it } from 'vitest';
import { applyEnrichmentOverrides, enrichmentColumnsOf, geoColumnNames } from './enrichment.ts';
import { fullColumnNames } from './lineage.ts';
import { allTables, familyTables } from './registry.ts';
import { assertValidDefinition, type TableDefinition } from './tableDefinition.ts';

const t = (name: string): TableDefinition => allTables().find((d) => d.name === name)!;

describe('enrichment columns', () => {
  it('adds scope, geo, location and AS columns per IP column and domain columns per name column, before the lineage', () => {
    const def = t('zeek_http');
    expect(def.enrich).toEqual({ geoip: ['id_resp_h'], domain: ['host'] });
    expect(enrichmentColumnsOf(def).map((c) => `${c.name}:${c.type}`)).toEqual([
      'id_resp_h_scope:string',
      'id_resp_h_geo_country:string',
      'id_resp_h_geo_city:string',
      'id_resp_h_geo_latitude:double',
      'id_resp_h_geo_longitude:double',
      'id_resp_h_asn:long',
      'id_resp_h_as_org:string',
      'host_registered_domain:string',
      'host_public_suffix:string',
    ]);
    const names = fullColumnNames(def);
    expect(names.indexOf('host_public_suffix')).toBe(names.indexOf('_source') - 1);
    expect(geoColumnNames('RemoteIP')).toMatchObject({ country: 'RemoteIP_geo_country', asOrg: 'RemoteIP_as_org' });
  });

  it('declares defaults for the tables with public IPs and DNS names', () => {
    const expected: Record<string, { geoip?: string[]; domain?: string[] }> = {
      crowdstrike_dns_request: { geoip: ['aip'], domain: ['DomainName'] },
      crowdstrike_network_connect: { geoip: ['aip', 'RemoteAddressIP4'] },
      crowdstrike_user_logon: { geoip: ['aip', 'RemoteAddressIP4'] },
      zeek_dns: { domain: ['query'] },
      zeek_conn: { geoip: ['id_resp_h'] },
      zeek_http: { geoip: ['id_resp_h'], domain: ['host'] },
      zeek_ssl: { geoip: ['id_resp_h'], domain: ['server_name'] },
      cloudtrail: { geoip: ['sourceIPAddress'] },
      defender_device_network_events: { geoip: ['RemoteIP'], domain: ['RemoteUrl'] },
      defender_identity_logon_events: { geoip: ['IPAddress'] },
      defender_email_events: { geoip: ['SenderIPv4', 'SenderIPv6'], domain: ['SenderFromDomain'] },
      vpc_flow: { geoip: ['srcaddr', 'dstaddr'] },
    };
    for (const [name, enrich] of Object.entries(expected)) expect(t(name).enrich, name).toEqual(enrich);
    for (const def of [...Object.values(familyTables.ise!), ...Object.values(familyTables.dhcp!)]) expect(def.enrich, def.name).toBeUndefined();
  });

  it('every declared enrichment names a string column of its table', () => {
    for (const def of allTables()) {
      for (const c of [...(def.enrich?.geoip ?? []), ...(def.enrich?.domain ?? [])]) {
        expect(def.columns.find((x) => x.name === c)?.type, `${def.name}.${c}`).toBe('string');
      }
      expect(() => assertValidDefinition(def)).not.toThrow();
    }
  });

  it('assertValidDefinition rejects an enrichment of an unknown or non-string column', () => {
    const base = t('zeek_conn');
    expect(() => assertValidDefinition({ ...base, enrich: { geoip: ['nope'] } })).toThrow('table zeek_conn: enrich.geoip: unknown column "nope"');
    expect(() => assertValidDefinition({ ...base, enrich: { domain: ['duration'] } })).toThrow(/enrich.domain: column "duration" is \w+, not string/);
  });
});

describe('applyEnrichmentOverrides', () => {
  const defs = allTables();

  it('replaces the kinds given, keeps the others, and disables with an empty list', () => {
    const out = applyEnrichmentOverrides(defs, { zeek_conn: { geoip: ['id_orig_h', 'id_resp_h'] }, zeek_http: { domain: [] }, zeek_dns: { geoip: [] , domain: [] } });
    const get = (n: string) => out.find((d) => d.name === n)!;
    expect(get('zeek_conn').enrich).toEqual({ geoip: ['id_orig_h', 'id_resp_h'] });
    expect(get('zeek_http').enrich).toEqual({ geoip: ['id_resp_h'], domain: [] });
    expect(enrichmentColumnsOf(get('zeek_dns'))).toEqual([]);
    expect(fullColumnNames(get('zeek_conn'))).toContain('id_orig_h_as_org');
    expect(get('zeek_ssl')).toBe(t('zeek_ssl')); // untouched tables are the same objects
    expect(t('zeek_conn').enrich).toEqual({ geoip: ['id_resp_h'] }); // the registry is not modified
    expect(applyEnrichmentOverrides(defs, undefined)).toEqual(defs);
  });

  it('names every bad key', () => {
    const bad = () =>
      applyEnrichmentOverrides(defs, {
        no_such_table: { geoip: ['x'] },
        zeek_conn: { geoip: ['id_resp_h', 'nope', 'duration', 'id_resp_h'] },
        zeek_dns: { domainz: ['query'] } as never,
        bronze_raw: { geoip: [] },
      });
    expect(bad).toThrow('enricher.tables.no_such_table: unknown table "no_such_table"');
    expect(bad).toThrow(/enricher\.tables\.zeek_conn\.geoip\[1\]: unknown column "nope" in table zeek_conn \(string columns: .*id_resp_h/);
    expect(bad).toThrow(/enricher\.tables\.zeek_conn\.geoip\[2\]: column "duration" is \w+, enrichment needs a string column/);
    expect(bad).toThrow('enricher.tables.zeek_conn.geoip[3]: column "id_resp_h" is listed twice');
    expect(bad).toThrow('enricher.tables.zeek_dns.domainz: unknown key (expected geoip or domain)');
  });

  it('refuses tables that are not silver and output columns that clash', () => {
    const bronze = defs.find((d) => d.layer === 'bronze')!;
    expect(() => applyEnrichmentOverrides(defs, { [bronze.name]: { geoip: [] } })).toThrow(`enricher.tables.${bronze.name}: table "${bronze.name}" is bronze, only silver tables are enriched`);
    const clash: TableDefinition = { ...t('zeek_conn'), name: 'clash', columns: [...t('zeek_conn').columns, { name: 'uid_scope', type: 'string' }] };
    expect(() => applyEnrichmentOverrides([clash], { clash: { geoip: ['uid'] } }, 'x')).toThrow('x.clash: output column "uid_scope" clashes with a declared column');
  });
});
