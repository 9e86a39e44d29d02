// Tests of the CrowdStrike FDR table definitions: valid silver tables, event_simpleName → category mapping,
// column types the detections and IoC matching rely on.
import { describe, expect, it } from 'vitest';
import { fullColumnNames } from '../lineage.ts';
import { assertValidDefinition } from '../tableDefinition.ts';
import { crowdstrikeCategoryOf, crowdstrikeTables } from './index.ts';

describe('crowdstrike tables', () => {
  it('names every table crowdstrike_<category token>', () => {
    for (const [category, def] of Object.entries(crowdstrikeTables)) expect(def.name).toBe(`crowdstrike_${category}`);
    expect(Object.keys(crowdstrikeTables).sort()).toEqual(
      ['dns_request', 'file_write', 'network_accept', 'network_connect', 'network_listen', 'other', 'process', 'user_logon'].sort(),
    );
  });

  it.each(Object.entries(crowdstrikeTables))('%s is a valid silver table partitioned by eventDate on timestamp', (_c, def) => {
    expect(() => assertValidDefinition(def)).not.toThrow();
    expect(def.layer).toBe('silver');
    expect(def.partitionBy).toEqual(['eventDate']);
    expect(def.eventTime).toBe('timestamp');
    const ts = def.columns.find((c) => c.name === 'timestamp');
    expect(ts).toMatchObject({ type: 'timestamp', unit: 'ms', nullable: false });
    expect(def.columns.find((c) => c.name === 'ContextTimeStamp')).toMatchObject({ type: 'timestamp', unit: 's' });
    expect(def.enrich?.geoip).toContain('aip');
    expect(def.expectations.find((e) => e.name === 'aid_present')?.action).toBe('quarantine');
    expect(def.columns.every((c) => c.doc)).toBe(true);
    expect(fullColumnNames(def)).toEqual(expect.arrayContaining(['aip_geo_country', '_raw', 'eventDate']));
  });

  it('maps event_simpleName to categories, FileWritten by suffix, the rest to other', () => {
    const cases: [string, string][] = [
      ['ProcessRollup2', 'process'],
      ['SyntheticProcessRollup2', 'process'],
      ['EndOfProcess', 'process'],
      ['DnsRequest', 'dns_request'],
      ['NetworkConnectIP4', 'network_connect'],
      ['NetworkConnectIP6', 'network_connect'],
      ['NetworkListenIP4', 'network_listen'],
      ['NetworkListenIP6', 'network_listen'],
      ['NetworkReceiveAcceptIP4', 'network_accept'],
      ['NetworkReceiveAcceptIP6', 'network_accept'],
      ['UserLogon', 'user_logon'],
      ['UserLogonFailed', 'user_logon'],
      ['UserLogonFailed2', 'user_logon'],
      ['SuspiciousPeFileWritten', 'file_write'],
      ['PeFileWritten', 'file_write'],
      ['ZipFileWritten', 'file_write'],
      ['GzipFileWritten', 'file_write'],
      ['NewExecutableWritten', 'file_write'],
      ['SensorHeartbeat', 'other'],
      ['RawBindIP4', 'other'],
      ['toString', 'other'],
      ['', 'other'],
    ];
    for (const [name, category] of cases) expect([name, crowdstrikeCategoryOf(name)]).toEqual([name, category]);
  });

  it('keeps 64-bit process ids as text and types ports, pids and sizes as numbers', () => {
    const col = (table: string, name: string) => crowdstrikeTables[table]!.columns.find((c) => c.name === name)?.type;
    expect(col('process', 'TargetProcessId')).toBe('string');
    expect(col('process', 'ContextProcessId')).toBe('string');
    expect(col('process', 'RawProcessId')).toBe('long');
    expect(col('network_listen', 'LocalPort')).toBe('integer');
    expect(col('network_listen', 'LocalAddressIP6')).toBe('string');
    expect(col('file_write', 'Size')).toBe('long');
    expect(col('dns_request', 'DualRequest')).toBe('boolean');
    expect(crowdstrikeTables.network_connect!.enrich?.geoip).toEqual(['aip', 'RemoteAddressIP4']);
    expect(crowdstrikeTables.other!.columns.find((c) => c.name === 'fields')).toMatchObject({ type: 'map', from: 'e' });
  });
});
