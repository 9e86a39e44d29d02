// Enrichment columns derived from table definitions (part of the full/Delta schema), every family table's
// defaults are valid string columns, and per-table configuration overrides with errors naming the bad key.
import { describe, expect, it } from 'vitest';
import { applyEnrichmentOverrides, attributionColumnNames, enrichmentColumnsOf, geoColumnNames, hasEnrichment } from './enrichment.ts';
import { fullColumnNames } from './lineage.ts';
import { allTables, familyTables } from './registry.ts';
import { assertValidDefinition, type TableDefinition } from './tableDefinition.ts';

const t = (name: string): TableDefinition => allTables().find((d) => d.name === name)!;

describe('enrichment columns', () => {
  it('adds scope, geo, location and AS columns per IP column, domain columns per name column and user / MAC / host per attributed column, before the lineage', () => {
    const def = t('zeek_http');
    expect(def.enrich).toEqual({ geoip: ['id_resp_h'], domain: ['host'], attribution: ['id_orig_h'] });
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
      'id_orig_h_user:string',
      'id_orig_h_mac:string',
      'id_orig_h_hostname:string',
    ]);
    const names = fullColumnNames(def);
    expect(names.indexOf('id_orig_h_hostname')).toBe(names.indexOf('_source') - 1);
    expect(attributionColumnNames('LocalIP')).toEqual({ user: 'LocalIP_user', mac: 'LocalIP_mac', hostname: 'LocalIP_hostname' });
    expect([hasEnrichment(undefined), hasEnrichment({ geoip: [] }), hasEnrichment({ attribution: ['x'] })]).toEqual([false, false, true]);
    expect(geoColumnNames('RemoteIP')).toMatchObject({ country: 'RemoteIP_geo_country', asOrg: 'RemoteIP_as_org' });
  });

  it('declares defaults for the tables with public IPs, DNS names and internal addresses', () => {
    const expected: Record<string, { geoip?: string[]; domain?: string[]; attribution?: string[] }> = {
      crowdstrike_dns_request: { geoip: ['aip'], domain: ['DomainName'] },
      crowdstrike_network_connect: { geoip: ['aip', 'RemoteAddressIP4'], attribution: ['LocalAddressIP4'] },
      crowdstrike_network_listen: { geoip: ['aip', 'RemoteAddressIP4'], attribution: ['LocalAddressIP4'] },
      crowdstrike_user_logon: { geoip: ['aip', 'RemoteAddressIP4'] },
      zeek_dns: { domain: ['query'], attribution: ['id_orig_h'] },
      zeek_conn: { geoip: ['id_resp_h'], attribution: ['id_orig_h'] },
      zeek_http: { geoip: ['id_resp_h'], domain: ['host'], attribution: ['id_orig_h'] },
      zeek_ssl: { geoip: ['id_resp_h'], domain: ['server_name'], attribution: ['id_orig_h'] },
      zeek_notice: { attribution: ['id_orig_h'] },
      cloudtrail: { geoip: ['sourceIPAddress'] },
      defender_device_network_events: { geoip: ['RemoteIP'], domain: ['RemoteUrl'], attribution: ['LocalIP'] },
      defender_device_events: { geoip: ['RemoteIP'], domain: ['RemoteUrl'], attribution: ['LocalIP'] },
      defender_device_logon_events: { geoip: ['RemoteIP'], attribution: ['RemoteIP'] },
      defender_identity_logon_events: { geoip: ['IPAddress'], attribution: ['IPAddress'] },
      defender_email_events: { geoip: ['SenderIPv4', 'SenderIPv6'], domain: ['SenderFromDomain'] },
      vpc_flow: { geoip: ['srcaddr', 'dstaddr'], attribution: ['srcaddr'] },
      network_connection: { geoip: ['dst_ip'], attribution: ['src_ip'] },
    };
    for (const [name, enrich] of Object.entries(expected)) expect(t(name).enrich, name).toEqual(enrich);
    for (const def of [...Object.values(familyTables.ise!), ...Object.values(familyTables.dhcp!)]) expect(def.enrich, def.name).toBeUndefined();
  });

  it('every declared enrichment names a string column of its table', () => {
    for (const def of allTables()) {
      for (const c of [...(def.enrich?.geoip ?? []), ...(def.enrich?.domain ?? []), ...(def.enrich?.attribution ?? [])]) {
        expect(def.columns.find((x) => x.name === c)?.type, `${def.name}.${c}`).toBe('string');
      }
      expect(() => assertValidDefinition(def)).not.toThrow();
    }
  });

  it('assertValidDefinition rejects an enrichment of an unknown or non-string column', () => {
    const base = t('zeek_conn');
    expect(() => assertValidDefinition({ ...base, enrich: { geoip: ['nope'] } })).toThrow('table zeek_conn: enrich.geoip: unknown column "nope"');
    expect(() => assertValidDefinition({ ...base, enrich: { domain: ['duration'] } })).toThrow(/enrich.domain: column "duration" is \w+, not string/);
    const { eventTime: _t, ...timeless } = base;
    expect(() => assertValidDefinition({ ...timeless, enrich: { attribution: ['id_orig_h'] } })).toThrow('table zeek_conn: enrich.attribution needs an eventTime column');
  });
});

describe('applyEnrichmentOverrides', () => {
  const defs = allTables();

  it('replaces the kinds given, keeps the others, and disables with an empty list', () => {
    const out = applyEnrichmentOverrides(defs, { zeek_conn: { geoip: ['id_orig_h', 'id_resp_h'] }, zeek_http: { domain: [] }, zeek_dns: { geoip: [] , domain: [] } });
    const get = (n: string) => out.find((d) => d.name === n)!;
    expect(get('zeek_conn').enrich).toEqual({ geoip: ['id_orig_h', 'id_resp_h'], attribution: ['id_orig_h'] });
    expect(get('zeek_http').enrich).toEqual({ geoip: ['id_resp_h'], domain: [], attribution: ['id_orig_h'] });
    expect(enrichmentColumnsOf(get('zeek_dns')).map((c) => c.name)).toEqual(['id_orig_h_user', 'id_orig_h_mac', 'id_orig_h_hostname']);
    expect(fullColumnNames(get('zeek_conn'))).toContain('id_orig_h_as_org');
    expect(get('zeek_ssl')).toBe(t('zeek_ssl')); // untouched tables are the same objects
    expect(t('zeek_conn').enrich).toEqual({ geoip: ['id_resp_h'], attribution: ['id_orig_h'] }); // the registry is not modified
    const moved = applyEnrichmentOverrides(defs, { zeek_conn: { attribution: ['id_resp_h'] }, cloudtrail: { attribution: [] } });
    expect(fullColumnNames(moved.find((d) => d.name === 'zeek_conn')!)).toEqual(expect.arrayContaining(['id_resp_h_user', 'id_resp_h_mac']));
    expect(fullColumnNames(moved.find((d) => d.name === 'zeek_conn')!)).not.toContain('id_orig_h_user');
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
    expect(bad).toThrow('enricher.tables.zeek_dns.domainz: unknown key (expected geoip, domain, attribution)');
    const timeless: TableDefinition = { ...t('zeek_conn'), name: 'timeless', eventTime: undefined };
    expect(() => applyEnrichmentOverrides([timeless], { timeless: { attribution: ['id_orig_h'] } })).toThrow('enricher.tables.timeless.attribution: table timeless has no eventTime column, so no time to attribute its addresses at');
  });

  it('refuses tables that are not silver and output columns that clash', () => {
    const bronze = defs.find((d) => d.layer === 'bronze')!;
    expect(() => applyEnrichmentOverrides(defs, { [bronze.name]: { geoip: [] } })).toThrow(`enricher.tables.${bronze.name}: table "${bronze.name}" is bronze, only silver tables are enriched`);
    const clash: TableDefinition = { ...t('zeek_conn'), name: 'clash', columns: [...t('zeek_conn').columns, { name: 'uid_scope', type: 'string' }] };
    expect(() => applyEnrichmentOverrides([clash], { clash: { geoip: ['uid'] } }, 'x')).toThrow('x.clash: output column "uid_scope" clashes with a declared column');
  });
});
