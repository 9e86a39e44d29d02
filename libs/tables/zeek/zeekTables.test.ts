import { describe, expect, it } from 'vitest';
import { compileValidator } from '../expectations.ts';
import { fullColumnNames } from '../lineage.ts';
import { assertValidDefinition } from '../tableDefinition.ts';
import { columnTypeOf, zeekColumnName, zeekConn, zeekNotice, zeekTables } from './index.ts';

describe('zeek tables', () => {
  it('are valid silver tables partitioned by eventDate with a non-nullable ts in seconds', () => {
    expect(Object.keys(zeekTables)).toEqual(['conn', 'dhcp', 'dns', 'http', 'notice', 'ssl']);
    for (const [key, def] of Object.entries(zeekTables)) {
      assertValidDefinition(def);
      expect(def.name).toBe(`zeek_${key}`);
      expect(def.layer).toBe('silver');
      expect(def.partitionBy).toEqual(['eventDate']);
      expect(def.eventTime).toBe('ts');
      expect(def.columns[0]).toMatchObject({ name: 'ts', type: 'timestamp', unit: 's', nullable: false });
      expect(def.expectations.map((e) => e.name)).toContain('ts_not_null');
      expect(def.columns.at(-1)).toMatchObject({ name: '_rescued_data', type: 'json' });
    }
    // uid is on every log but dhcp (which lists uids); notices may have none, so only the connection logs check it.
    for (const key of ['conn', 'dns', 'http', 'ssl']) expect(zeekTables[key]!.expectations.map((e) => e.name), key).toContain('uid_present');
    expect(zeekNotice.expectations.map((e) => e.name)).not.toContain('uid_present');
    expect(zeekTables.dhcp!.columns.map((c) => c.name)).toContain('uids');
  });

  it('map Zeek names and types to columns', () => {
    expect(zeekColumnName('id.orig_h')).toBe('id_orig_h');
    expect(zeekColumnName('remote_location.country_code')).toBe('remote_location_country_code');
    expect(columnTypeOf('set[string]')).toBe('json');
    expect(columnTypeOf('vector[interval]')).toBe('json');
    expect(columnTypeOf('port')).toBe('integer');
    expect(columnTypeOf('count')).toBe('long');
    expect(columnTypeOf('interval')).toBe('double');
    expect(columnTypeOf('bool')).toBe('boolean');
    expect(columnTypeOf('addr')).toBe('string');
    expect(zeekNotice.columns.find((c) => c.name === 'remote_location_latitude')?.type).toBe('double');
  });

  it('conn carries GeoIP columns for the responder', () => {
    expect(fullColumnNames(zeekConn)).toEqual(expect.arrayContaining(['id_resp_h_geo_country', 'id_resp_h_geo_city', 'eventDate', '_raw']));
  });

  it('expectations: ports in range are quarantined, unknown proto warned', () => {
    const v = compileValidator(zeekConn);
    const base = { ts: 1710115200.5, uid: 'C1', proto: 'tcp', id_orig_p: 1, id_resp_p: 2 };
    expect(v(base).disposition).toBe('keep');
    expect(v({ ...base, id_resp_p: 65_536 })).toMatchObject({ disposition: 'quarantine', failed: ['valid_id_resp_p'] });
    expect(v({ ...base, id_resp_p: -1 }).disposition).toBe('quarantine');
    expect(v({ ...base, proto: 'sctp' })).toMatchObject({ disposition: 'keep', failed: ['proto_known'] });
    expect(v({ ...base, ts: null })).toMatchObject({ disposition: 'quarantine', reasons: ['column ts: required but missing'] });
    expect(v({ ...base, ts: '2024-03-11T00:00:00.000001Z' }).row).toMatchObject({ ts: 1_710_115_200_000_001 });
  });
});
