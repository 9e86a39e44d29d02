// The enricher's configuration: defaults, per-table overrides (unknown keys, tables and columns named), and the
// resulting enrichment map.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@sluice/runtime';
import { enrichmentByTable, eventTimeByTable } from './handler.ts';
import { enrichedTables, enricher, type EnricherConfig } from './main.ts';

function load(yaml: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'enricher-config-')), 'sluice.yaml');
  writeFileSync(file, yaml);
  return loadConfig<EnricherConfig>({ section: 'enricher', sectionSchema: enricher.sectionSchema, file, env: {} });
}

describe('enricher configuration', () => {
  it('fills defaults: embedded databases, 5 s reload polling, domains on, attribution on, no overrides', () => {
    const c = load('nats: { url: nats://x:4222 }\n');
    expect(c.enricher).toEqual({
      geoip: { enabled: true, reloadIntervalSeconds: 5, cacheSize: 100_000 },
      domain: { enabled: true, privateSuffixes: false, cacheSize: 100_000 },
      attribution: { enabled: true, lakePath: '', replayMarginMinutes: 60, retentionHours: 168, pruneIntervalSeconds: 600 },
      tables: {},
    });
    const m = enrichmentByTable(enrichedTables(c.enricher));
    expect(m.get('zeek_ssl')).toEqual({ geoip: ['id_resp_h'], domain: ['server_name'], attribution: ['id_orig_h'] });
    expect(m.has('dhcp')).toBe(false);
    const times = eventTimeByTable(enrichedTables(c.enricher));
    expect([times.get('zeek_ssl'), times.get('defender_device_network_events'), times.get('vpc_flow'), times.has('cloudtrail')]).toEqual(['ts', 'Timestamp', 'start', false]);
  });

  it('overrides per table', () => {
    const c = load(`
enricher:
  geoip: { cityDatabase: /data/GeoLite2-City.mmdb, asnDatabase: /data/GeoLite2-ASN.mmdb, reloadIntervalSeconds: 60 }
  tables:
    zeek_conn: { geoip: [id_orig_h, id_resp_h] }
    zeek_dns: { domain: [], attribution: [] }
    dhcp: { domain: [hostname] }
    cloudtrail: { attribution: [sourceIPAddress] }
`);
    expect(c.enricher.geoip).toMatchObject({ cityDatabase: '/data/GeoLite2-City.mmdb', asnDatabase: '/data/GeoLite2-ASN.mmdb', reloadIntervalSeconds: 60 });
    const m = enrichmentByTable(enrichedTables(c.enricher));
    expect(m.get('zeek_conn')).toEqual({ geoip: ['id_orig_h', 'id_resp_h'], attribution: ['id_orig_h'] });
    expect(m.has('zeek_dns')).toBe(false); // its enrichments disabled
    expect(m.get('dhcp')).toEqual({ domain: ['hostname'] });
    expect(m.get('cloudtrail')).toEqual({ geoip: ['sourceIPAddress'], attribution: ['sourceIPAddress'] });
    expect(eventTimeByTable(enrichedTables(c.enricher)).get('cloudtrail')).toBe('eventTime');
  });

  it('names unknown keys (schema) and unknown tables and columns (definitions)', () => {
    expect(() => load('enricher: { geoip: { cityDb: /x.mmdb } }')).toThrow(/enricher\.geoip\.cityDb: unknown key/);
    expect(() => load('enricher: { attribution: { retentionHours: 0 } }')).toThrow(/enricher\.attribution\.retentionHours/);
    expect(() => load('enricher: { tables: { zeek_conn: { geo: [id_resp_h] } } }')).toThrow(/enricher\.tables\.zeek_conn\.geo: unknown key/);
    expect(() => load('enricher: { tables: { zeek_conn: { geoip: id_resp_h } } }')).toThrow(/enricher\.tables\.zeek_conn\.geoip: must be array/);
    const c = load('enricher: { tables: { zeek_con: { geoip: [] }, zeek_http: { domain: [hots] } } }');
    expect(() => enrichedTables(c.enricher)).toThrow(ConfigError);
    expect(() => enrichedTables(c.enricher)).toThrow(/enricher\.tables\.zeek_con: unknown table "zeek_con"; enricher\.tables\.zeek_http\.domain\[0\]: unknown column "hots" in table zeek_http/);
  });
});
