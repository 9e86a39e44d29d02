// detector: stateful detections on enriched events (events.<table>.>), quarantine records (quarantine.>) and the
// parser's quality stats (quality.>) →
// alerts.<rule> (ip_attribution: gold ip_lookup rows on gold.ip_lookup). Each rule's state is partitioned by key;
// this replica owns partitions p % replicas == replica, restores them from the KV bucket sluice_detector_state,
// and snapshots them back (see docs/DETECTIONS.md).
import { Kvm } from '@nats-io/kv';
import { isMain, KV_BUCKETS, runService, type ServiceDefinition } from '@sluice/runtime';
import { dataQualityRule, expectationRateRule, iocRule, ipAttributionRule, listeningRule, newNetworkLoginRule, ownedPartitions, zeekJoinRule, type DetectionRule, type KeyState, type RegisteredDomainOf } from '@sluice/detect';
import { DomainLookup } from '@sluice/domains';
import type { Logger } from '@sluice/runtime';
import { detectorSchema, validateDetectorConfig, type DetectorConfig, type DetectorSection } from './config.ts';
import { createDetectorMetrics } from './detectorMetrics.ts';
import { loadIocTable } from './iocLoader.ts';
import { RuleHost } from './ruleHost.ts';
import { SharedDecode } from './sharedDecode.ts';
import { SnapshotStore } from './snapshotStore.ts';

export type { DetectorConfig } from './config.ts';

const DAY_MS = 86_400_000;

interface EnabledRule {
  rule: DetectionRule<KeyState>;
  ttlDays: number;
  maxKeys: number;
  /** Rules with broadcast inputs: builds their rule-wide state at start (see RuleHostOptions.broadcastLoad). */
  broadcastLoad?: (log: Logger) => Promise<Date | null>;
}

/** Registered domain of a DNS name (tldts, ICANN suffixes, cached). */
export function registeredDomainOf(): RegisteredDomainOf {
  const domains = new DomainLookup();
  return (name) => domains.lookup(name)?.registeredDomain ?? null;
}

/** The rules the configuration enables. */
export function enabledRules(d: DetectorSection): EnabledRule[] {
  const out: EnabledRule[] = [];
  const add = <S extends KeyState, P>(rule: DetectionRule<S, P>, s: { stateTtlDays: number; maxKeys: number }, broadcastLoad?: EnabledRule['broadcastLoad']) =>
    out.push({ rule: rule as unknown as DetectionRule<KeyState>, ttlDays: s.stateTtlDays, maxKeys: s.maxKeys, ...(broadcastLoad ? { broadcastLoad } : {}) });
  if (d.listening.enabled) add(listeningRule(d.listening), d.listening);
  if (d.newNetwork.enabled) add(newNetworkLoginRule(d.newNetwork), d.newNetwork);
  if (d.dataQuality.enabled) add(dataQualityRule(d.dataQuality), d.dataQuality);
  if (d.expectationRate.enabled) add(expectationRateRule(d.expectationRate), d.expectationRate);
  if (d.ioc.enabled) {
    const rule = iocRule({
      mapping: [...d.ioc.mapping, ...d.ioc.addMapping],
      iocTable: d.ioc.table,
      severity: d.ioc.severity,
      latenessMinutes: d.ioc.latenessMinutes,
      ...(d.ioc.registeredDomain ? { registeredDomainOf: registeredDomainOf() } : {}),
    });
    add(rule, d.ioc, (log) => loadIocTable(rule.index, { lakePath: d.ioc.lakePath, table: d.ioc.table, replayMarginMinutes: d.ioc.replayMarginMinutes }, log));
  }
  if (d.zeekJoin.enabled) add(zeekJoinRule(d.zeekJoin), d.zeekJoin);
  if (d.ipAttribution.enabled) add(ipAttributionRule(d.ipAttribution), d.ipAttribution);
  return out;
}

export const detector: ServiceDefinition<DetectorConfig> = {
  name: 'detector',
  description: 'runs stateful detections (vulnerable services listening, login from a new network, IoC matching, Zeek notice ⨝ conn, data quality: expectation failure rates and quarantine counts) and publishes alerts; IP attribution rows for the gold ip_lookup table',
  sectionSchema: detectorSchema,
  async setup({ config, nc, js, jsm, log, metrics, stage }) {
    const d = config.detector;
    validateDetectorConfig(d);
    const owned = ownedPartitions(d.partitions, d.replica, d.replicas);
    if (owned.length === 0) log.warn({ replica: d.replica, partitions: d.partitions }, 'more replicas than partitions: this replica owns none and stays idle');
    const store = new SnapshotStore(await new Kvm(nc).open(KV_BUCKETS.detectorState));
    const dm = createDetectorMetrics(metrics.registry);
    const hosts: RuleHost<KeyState>[] = [];
    // Rules reading the same table decode each of its messages once (see sharedDecode.ts).
    const sharedDecode = new SharedDecode();
    for (const { rule, ttlDays, maxKeys, broadcastLoad } of enabledRules(d)) {
      const host = new RuleHost({
        stage,
        rule,
        partitions: d.partitions,
        owned,
        replica: d.replica,
        limits: { ttlMs: ttlDays * DAY_MS, maxKeysPerPartition: Math.max(1, Math.ceil(maxKeys / Math.max(1, owned.length))) },
        snapshot: d.snapshot,
        js,
        jsm,
        store,
        consumer: config.consumer,
        log,
        metrics,
        dm,
        sharedDecode,
        ...(broadcastLoad ? { broadcastLoad: () => broadcastLoad(log) } : {}),
      });
      await host.restore();
      await host.publishPending();
      if (owned.length) await host.start();
      hosts.push(host);
    }
    return {
      // The detector runs its own ordered loops (RuleHost), not the runtime's concurrent ones.
      inputs: [],
      stop: async () => {
        await Promise.all(hosts.map((h) => h.stop()));
      },
    };
  },
};

if (isMain(import.meta.url)) await runService(detector);
