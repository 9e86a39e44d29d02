// Detector config: defaults fill every rule; schema errors and semantic errors name the key.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sluice/runtime';
import { detectorSchema, validateDetectorConfig, type DetectorConfig } from './config.ts';
import { enabledRules } from './main.ts';

const load = (overrides: Record<string, unknown> = {}) => loadConfig<DetectorConfig>({ section: 'detector', sectionSchema: detectorSchema, env: {}, overrides }).detector;

describe('detector config', () => {
  it('defaults: 16 partitions, one replica, six rules over the default tables', () => {
    const d = load();
    expect([d.partitions, d.replicas, d.replica, d.snapshot.intervalSeconds, d.snapshot.everyBatches]).toEqual([16, 1, 0, 60, 1000]);
    validateDetectorConfig(d);
    expect(enabledRules(d).map((r) => [r.rule.name, r.rule.inputs])).toEqual([
      ['vulnerable_service_listening', ['defender_device_network_events', 'crowdstrike_network_listen']],
      ['login_from_new_network', ['defender_device_logon_events', 'defender_identity_logon_events', 'crowdstrike_user_logon', 'cloudtrail']],
      ['data_quality_quarantine_rate', ['quarantine']],
      ['ioc_match', [...new Set(d.ioc.mapping.map((e) => e.table))]],
      ['zeek_notice_conn', ['zeek_notice', 'zeek_conn']],
      ['ip_attribution', ['dhcp', 'ise_posture', 'ise_profiler']],
    ]);
    expect(enabledRules(d)[5]!.rule.emitsTable).toBe('ip_lookup');
    expect(enabledRules(d)[3]!.rule.broadcast?.inputs).toEqual(['iocs']);
    expect(enabledRules(d)[3]!.rule.inputs).toContain('crowdstrike_dns_request');
    expect(d.newNetwork.learningDays).toBe(7);
    expect([d.zeekJoin.windowSeconds, d.zeekJoin.latenessSeconds, d.zeekJoin.unjoined]).toEqual([300, 600, 'emit']);
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
    const off = Object.fromEntries(['listening', 'newNetwork', 'dataQuality', 'ioc', 'zeekJoin', 'ipAttribution'].map((r) => [`detector.${r}.enabled`, false]));
    expect(() => validateDetectorConfig(load(off))).toThrow(/every rule is disabled/);
  });
});
