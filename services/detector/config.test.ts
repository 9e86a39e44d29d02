// Detector config: defaults fill every rule; schema errors and semantic errors name the key.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sluice/runtime';
import { detectorSchema, validateDetectorConfig, type DetectorConfig } from './config.ts';
import { enabledRules } from './main.ts';

const load = (overrides: Record<string, unknown> = {}) => loadConfig<DetectorConfig>({ section: 'detector', sectionSchema: detectorSchema, env: {}, overrides }).detector;

describe('detector config', () => {
  it('defaults: 16 partitions, one replica, seven rules over the default tables', () => {
    const d = load();
    expect([d.partitions, d.replicas, d.replica, d.snapshot.intervalSeconds, d.snapshot.everyBatches]).toEqual([16, 1, 0, 60, 1000]);
    validateDetectorConfig(d);
    expect(enabledRules(d).map((r) => [r.rule.name, r.rule.inputs])).toEqual([
      ['vulnerable_service_listening', ['defender_device_network_events', 'crowdstrike_network_listen']],
      ['login_from_new_network', ['defender_device_logon_events', 'defender_identity_logon_events', 'crowdstrike_user_logon', 'cloudtrail']],
      ['data_quality_quarantine_rate', ['quarantine']],
      ['data_quality_expectation_rate', ['quality']],
      ['ioc_match', [...new Set(d.ioc.mapping.map((e) => e.table))]],
      ['zeek_notice_conn', ['zeek_notice', 'zeek_conn']],
      ['ip_attribution', ['dhcp', 'ise_posture', 'ise_profiler', 'ise_radius_accounting']],
    ]);
    expect(enabledRules(d)[6]!.rule.emitsTable).toBe('ip_lookup');
    expect(enabledRules(d)[4]!.rule.broadcast?.inputs).toEqual(['iocs']);
    expect(enabledRules(d)[4]!.rule.inputs).toContain('crowdstrike_dns_request');
    expect(d.newNetwork.learningDays).toBe(7);
    expect([d.zeekJoin.windowSeconds, d.zeekJoin.latenessSeconds, d.zeekJoin.unjoined]).toEqual([300, 600, 'emit']);
    expect(enabledRules(d)[3]!.rule.reads).toBe('quality');
    expect([d.expectationRate.windowMinutes, d.expectationRate.maxRatio, d.expectationRate.minRows, d.expectationRate.severity]).toEqual([15, 0.05, 200, 'medium']);
  });

  it('names the key of schema errors', () => {
    expect(() => load({ 'detector.newNetwork.learningDays': -1 })).toThrow(/detector\.newNetwork\.learningDays: must be >= 0/);
    expect(() => load({ 'detector.listening.ports': [3389, 70000] })).toThrow(/detector\.listening\.ports\.1: must be <= 65535/);
    expect(() => load({ 'detector.dataQuality.windowMinuts': 5 })).toThrow(/detector\.dataQuality.*windowMinuts/);
    // Adding a mapped table is one line of config.
    const d = load({ 'detector.ioc.addMapping': [{ table: 'zeek_dns', column: 'answers', type: 'IPv4', device: 'id_orig_h', time: 'ts' }] });
    expect(d.ioc.addMapping).toHaveLength(1);
  });

  it('names the key of semantic errors: replica range, unknown tables and columns, nothing enabled', () => {
    expect(() => validateDetectorConfig(load({ 'detector.replicas': 2, 'detector.replica': 2 }))).toThrow('detector.replica: 2 must be below detector.replicas (2)');
    const d = load();
    d.newNetwork.sources[1]!.ip = ['IPAddres'];
    expect(() => validateDetectorConfig(d)).toThrow('detector.newNetwork.sources[1].ip[0]: table defender_identity_logon_events has no column "IPAddres"');
    const e = load();
    e.listening.sources[0]!.table = 'defender_net';
    expect(() => validateDetectorConfig(e)).toThrow('detector.listening.sources[0].table: unknown table "defender_net"');
    expect(() => validateDetectorConfig(load({ 'detector.dataQuality.tables': { nope: 3 } }))).toThrow('detector.dataQuality.tables.nope: unknown table "nope"');
    expect(() => validateDetectorConfig(load({ 'detector.ioc.addMapping': [{ table: 'zeek_dns', column: 'qery', type: 'hostname' }] }))).toThrow(
      'detector.ioc.addMapping[0].column: table zeek_dns has no column "qery"',
    );
    expect(() => load({ 'detector.ioc.addMapping': [{ table: 'zeek_dns', column: 'query', type: 'host' }] })).toThrow(/detector\.ioc\.addMapping\.0\.type/);
    expect(() => validateDetectorConfig(load({ 'detector.zeekJoin.connTable': 'zeek_con' }))).toThrow('detector.zeekJoin.connTable: unknown table "zeek_con"');
    expect(() => validateDetectorConfig(load({ 'detector.ipAttribution.iseTables': ['ise_postur'] }))).toThrow('detector.ipAttribution.iseTables[0]: unknown table "ise_postur"');
    const off = Object.fromEntries(['listening', 'newNetwork', 'dataQuality', 'expectationRate', 'ioc', 'zeekJoin', 'ipAttribution'].map((r) => [`detector.${r}.enabled`, false]));
    expect(() => validateDetectorConfig(load(off))).toThrow(/every rule is disabled/);
  });

  it('login identities: domain maps and AWS accounts checked, errors naming the key', () => {
    const d = load({ 'detector.newNetwork.identity.domains': { CORP: 'corp.com' }, 'detector.newNetwork.identity.aliases': { 'CORP\\asmith': 'alice@corp.com' } });
    expect([d.newNetwork.identity, d.newNetwork.skipMachineAccounts, d.newNetwork.skipServiceAccounts]).toEqual([{ domains: { CORP: 'corp.com' }, awsAccounts: {}, aliases: { 'CORP\\asmith': 'alice@corp.com' } }, true, true]);
    expect(() => load({ 'detector.newNetwork.identity.domains': { CORP: 'corp' } })).toThrow(/detector\.newNetwork\.identity\.domains\.CORP: must match pattern/);
    expect(() => validateDetectorConfig(load({ 'detector.newNetwork.identity.awsAccounts': { '1234': 'corp.com' } }))).toThrow('detector.newNetwork.identity.awsAccounts.1234: not an AWS account id (12 digits)');
    expect(() => load({ 'detector.newNetwork.identity.domain': {} })).toThrow(/detector\.newNetwork\.identity.*domain/);
  });

  it('expectation rate: ratios within 0…1, tables and expectation names that exist, ignore entries checked, each error naming its key', () => {
    expect(() => load({ 'detector.expectationRate.maxRatio': 1.5 })).toThrow(/detector\.expectationRate\.maxRatio: must be <= 1/);
    expect(() => load({ 'detector.expectationRate.minRows': 0 })).toThrow(/detector\.expectationRate\.minRows: must be >= 1/);
    expect(() => load({ 'detector.expectationRate.tables': { zeek_conn: { maxRatio: -0.1 } } })).toThrow(/detector\.expectationRate\.tables\.zeek_conn\.maxRatio: must be >= 0/);
    expect(() => load({ 'detector.expectationRate.tables': { zeek_conn: { maxRatoi: 0.1 } } })).toThrow(/detector\.expectationRate\.tables\.zeek_conn.*maxRatoi/);
    expect(() => load({ 'detector.expectationRate.expectations': { device_id_present: 2 } })).toThrow(/detector\.expectationRate\.expectations\.device_id_present: must be <= 1/);
    const v = (o: Record<string, unknown>) => () => validateDetectorConfig(load(o));
    expect(v({ 'detector.expectationRate.tables': { zeek_con: { maxRatio: 0.1 } } })).toThrow('detector.expectationRate.tables.zeek_con: unknown table "zeek_con"');
    expect(v({ 'detector.expectationRate.tables': { defender_device_network_events: { expectations: { device_id_presnt: 0.1 } } } })).toThrow(
      /^detector\.expectationRate\.tables\.defender_device_network_events\.expectations\.device_id_presnt: unknown expectation "device_id_presnt" of table defender_device_network_events; known: .*device_id_present/,
    );
    expect(v({ 'detector.expectationRate.expectations': { nope_check: 0.1 } })).toThrow(/^detector\.expectationRate\.expectations\.nope_check: unknown expectation "nope_check"; known: /);
    expect(v({ 'detector.expectationRate.ignore': ['zeek_fields', 'zeek_conn.*', 'nope.*'] })).toThrow('detector.expectationRate.ignore[2]: unknown table "nope"');
    expect(v({ 'detector.expectationRate.ignore': ['defender_device_network_events.bogus'] })).toThrow(/^detector\.expectationRate\.ignore\[0\]: unknown expectation "bogus" of table defender_device_network_events/);
    // Valid: a table's own expectation, a decoder check anywhere, a whole table ignored.
    const d = load({
      'detector.expectationRate.tables': { defender_device_network_events: { maxRatio: 0.2, minRows: 50, expectations: { device_id_present: 0.01, parse: 0.5 } } },
      'detector.expectationRate.expectations': { zeek_fields: 0.3 },
      'detector.expectationRate.ignore': ['zeek_conn.*', 'defender_device_network_events.device_id_present', 'parse'],
    });
    validateDetectorConfig(d);
    expect(d.expectationRate.tables.defender_device_network_events).toEqual({ maxRatio: 0.2, minRows: 50, expectations: { device_id_present: 0.01, parse: 0.5 } });
  });
});
