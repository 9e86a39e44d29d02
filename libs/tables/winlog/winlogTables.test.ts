// Tests of the winlog table definitions: valid tables, partitioning of winlog_bronze, OSSEM column names and types.
import { describe, expect, it } from 'vitest';
import { fullColumnNames } from '../lineage.ts';
import { assertValidDefinition } from '../tableDefinition.ts';
import { winlogTables } from './index.ts';

describe('winlog tables', () => {
  it('declares winlog → winlog_bronze, process → process, network_connection → network_connection', () => {
    expect(Object.fromEntries(Object.entries(winlogTables).map(([c, d]) => [c, d.name]))).toEqual({
      winlog: 'winlog_bronze',
      process: 'process',
      network_connection: 'network_connection',
    });
    for (const def of Object.values(winlogTables)) {
      expect(() => assertValidDefinition(def)).not.toThrow();
      expect(def.columns.every((c) => c.doc)).toBe(true);
      expect(fullColumnNames(def)).toEqual(expect.arrayContaining(['_raw', '_source', 'eventDate']));
    }
  });

  it('winlog_bronze is partitioned by eventDate and source_type, with event_data as a map', () => {
    const def = winlogTables.winlog!;
    expect(def.partitionBy).toEqual(['eventDate', 'source_type']);
    expect(def.eventTime).toBe('timestamp');
    expect(def.columns.find((c) => c.name === 'source_type')).toMatchObject({ type: 'string', nullable: false });
    expect(def.columns.find((c) => c.name === 'event_data')?.type).toBe('map');
  });

  it('CIM tables use OSSEM-style names, UtcTime as event time, GeoIP on dst_ip', () => {
    const proc = winlogTables.process!;
    const names = proc.columns.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['process_guid', 'process_id', 'process_path', 'process_name', 'process_command_line', 'process_parent_guid', 'process_parent_path', 'process_parent_command_line', 'user_name', 'user_domain', 'file_hashes', 'hash_md5', 'hash_sha1', 'hash_sha256', 'pipe_name', 'event_id', 'host_name', 'event_time']));
    expect(proc.eventTime).toBe('event_time');
    const net = winlogTables.network_connection!;
    expect(net.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['src_ip', 'src_port', 'dst_ip', 'dst_port', 'network_protocol', 'network_initiated', 'dst_host_name', 'process_guid', 'user_name']));
    expect(net.columns.find((c) => c.name === 'dst_port')?.type).toBe('integer');
    expect(net.enrich).toEqual({ geoip: ['dst_ip'], attribution: ['src_ip'] });
    expect(fullColumnNames(net)).toEqual(expect.arrayContaining(['dst_ip_geo_country', 'dst_ip_geo_city']));
  });
});
