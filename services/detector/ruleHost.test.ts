// The rule host's snapshot: a partition's KV write failing while the others are still being captured (a KV timeout
// under load) is logged and retried later; it must not become an unhandled rejection that kills the detector
// (the chaos suite saw both detector replicas exit 1 that way). The consumer's ack floor is read before the capture
// and becomes the snapshot's floor; a failed reading keeps the last one and the snapshot is still written.
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DEFAULT_DATA_QUALITY_CONFIG, dataQualityRule, objectBatch, type PartitionSnapshot } from '@sluice/detect';
import { createLogger, createMetrics, type CommonConfig } from '@sluice/runtime';
import { createDetectorMetrics } from './detectorMetrics.ts';
import { RuleHost } from './ruleHost.ts';
import type { SnapshotStore } from './snapshotStore.ts';

describe('rule host snapshot', () => {
  it('logs a failed partition write instead of crashing, and writes the other partitions', async () => {
    const saved: number[] = [];
    const store = {
      saveNow: (_rt: unknown, p: number) => {
        if (p === 0) return Promise.reject(new Error('timeout'));
        saved.push(p);
        return Promise.resolve({ bytes: 1 });
      },
    } as unknown as SnapshotStore;
    const log = createLogger('detector', 'fatal');
    const error = vi.spyOn(log, 'error');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const host = new RuleHost({
        stage: 'detector',
        rule: dataQualityRule(DEFAULT_DATA_QUALITY_CONFIG),
        partitions: 4,
        owned: [0, 1, 2, 3],
        replica: 0,
        limits: { ttlMs: 86_400_000, maxKeysPerPartition: 100 },
        snapshot: { intervalSeconds: 60, everyBatches: 1000 },
        js: {} as JetStreamClient,
        jsm: {} as JetStreamManager,
        store,
        consumer: {} as CommonConfig['consumer'],
        log,
        metrics: createMetrics('detector'),
        dm: createDetectorMetrics(new Registry()),
      });
      await host.snapshot();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(saved).toEqual([1, 2, 3]);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ rule: 'data_quality_quarantine_rate', err: 'timeout' }), 'snapshot failed; state is kept and the next one retries');
  });

  it('reads the ack floor before capturing: it becomes the floor; a failed reading keeps the last one', async () => {
    const snaps: PartitionSnapshot[] = [];
    const store = {
      saveNow: (rt: { snapshot: (p: number) => PartitionSnapshot }, p: number) => {
        snaps.push(rt.snapshot(p));
        return Promise.resolve({ bytes: 1 });
      },
    } as unknown as SnapshotStore;
    let floor: number | Error = 3;
    const jsm = {
      consumers: { info: () => (floor instanceof Error ? Promise.reject(floor) : Promise.resolve({ ack_floor: { stream_seq: floor } })) },
    } as unknown as JetStreamManager;
    const log = createLogger('detector', 'fatal');
    const warn = vi.spyOn(log, 'warn');
    const metrics = createMetrics('detector');
    const host = new RuleHost({
      stage: 'detector',
      rule: dataQualityRule(DEFAULT_DATA_QUALITY_CONFIG),
      partitions: 1,
      owned: [0],
      replica: 0,
      limits: { ttlMs: 86_400_000, maxKeysPerPartition: 100 },
      snapshot: { intervalSeconds: 60, everyBatches: 1000 },
      js: {} as JetStreamClient,
      jsm,
      store,
      consumer: {} as CommonConfig['consumer'],
      log,
      metrics,
      dm: createDetectorMetrics(new Registry()),
    });
    // As start() would leave it: one keyed input loop on its durable.
    (host as unknown as { loops: { input: string; durable: string }[]; stream: string }).loops.push({ input: 'quarantine', durable: 'd' });
    (host as unknown as { stream: string }).stream = 'QUARANTINE';
    // Sequences 1, 2, 3, 5 and 6 applied; 4 lost in flight, so the ack floor stays at 3.
    for (const seq of [1, 2, 3, 5, 6]) host.runtime.apply('quarantine', seq, objectBatch('quarantine', []));
    await host.snapshot();
    expect(snaps[0]).toMatchObject({ positions: { quarantine: 6 }, floors: { quarantine: 3 }, aboveFloor: { quarantine: [2, 1] } });
    floor = new Error('timeout');
    await host.snapshot();
    expect(snaps[1]).toMatchObject({ floors: { quarantine: 3 }, aboveFloor: { quarantine: [2, 1] } });
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ durable: 'd', err: 'timeout' }), 'ack floor not read; the snapshot keeps the last one');
    expect(await metrics.registry.getSingleMetricAsString('sluice_errors_total')).toContain('kind="ack_floor"');
  });
});
