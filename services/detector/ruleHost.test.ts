// The rule host's snapshot: a partition's KV write failing while the others are still being captured (a KV timeout
// under load) is logged and retried later; it must not become an unhandled rejection that kills the detector
// (the chaos suite saw both detector replicas exit 1 that way).
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DEFAULT_DATA_QUALITY_CONFIG, dataQualityRule } from '@sluice/detect';
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
});
