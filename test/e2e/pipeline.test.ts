// End to end on a real nats-server with every service as a process: exact rows per table, quarantine with reasons,
// one alert, one Slack post — and the same exact counts when a service is SIGKILLed and restarted midway.
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { H, KV_BUCKETS } from '@sluice/runtime';
import { DeltaTable, vacuum } from '@sluice/delta';
import { defenderTables } from '@sluice/tables';
import { findTables } from '../../cli/lakeTables.ts';
import { waitReady } from '../../cli/pipeline.ts';
import { countSubject, readSubject, until } from '../support/rawStream.ts';
import { DEFENDER_CATEGORIES, generateDefenderRecords, type GeneratedDefender } from '../fixtures/defenderGenerator.ts';
import { feed, keyOfRaw, rowsOf, startHarness, waitPipelineIdle, type Harness } from './pipelineHarness.ts';

let h: Harness | undefined;
afterEach(async () => {
  const logs = h?.logs;
  const codes = await h?.close();
  h = undefined;
  // Every service must stop cleanly on SIGTERM; on failure show the last log lines of the ones that did not.
  const bad = [...(codes ?? new Map())].filter(([, c]) => c !== 0).map(([n]) => n);
  if (bad.length && logs) console.error(logs.filter((l) => bad.some((n) => l.startsWith(`${n} `))).slice(-40).join('\n'));
  if (codes) expect(Object.fromEntries([...codes].filter(([, c]) => c !== 0))).toEqual({});
});

function generate(seed: number, perCategory: number): GeneratedDefender {
  return generateDefenderRecords({
    seed,
    counts: Object.fromEntries([...DEFENDER_CATEGORIES.map((c) => [c, perCategory]), ['Unknown', 7]]),
    listeners: [{ deviceId: 'dev-listener-0001', deviceName: 'ws-finance-17', port: 3389 }],
    malformed: 12,
  });
}

async function assertLake(h: Harness, gen: GeneratedDefender, bronzeRows: number): Promise<void> {
  const lake = h.pipeline.lakePath;
  const { expected, records } = gen;

  const bronze = await rowsOf(lake, 'bronze', 'bronze');
  expect(bronze.length).toBe(bronzeRows);
  // Every generated record is in bronze exactly once (payload lines exploded).
  const bronzeKeys: string[] = [];
  for (const row of bronze) {
    const v = JSON.parse(row.raw as string) as { records?: unknown[] };
    for (const r of v.records ?? [v]) bronzeKeys.push(keyOfRaw(JSON.stringify(r)) + '@' + (r as { category: string }).category);
  }
  expect(bronzeKeys.length).toBe(records.length);
  expect(new Set(bronzeKeys).size).toBe(records.length);
  expect(new Set(bronze.map((r) => r.source))).toEqual(new Set(['defender']));

  const malformedKeys = new Set(expected.malformed.map((m) => `${m.deviceId}#${m.reportId}`));
  for (const category of DEFENDER_CATEGORIES) {
    const def = defenderTables[category]!;
    const rows = await rowsOf(lake, 'silver', def.name);
    expect(rows.length, `${def.name} rows`).toBe(expected.categories[category].valid);
    const keys = rows.map((r) => `${r.DeviceId}#${r.ReportId}`);
    expect(new Set(keys).size, `${def.name} unique keys`).toBe(rows.length);
    const want = records
      .filter((r) => r.category === `AdvancedHunting-${category}`)
      .map((r) => `${r.properties.DeviceId}#${r.properties.ReportId}`)
      .filter((k) => !malformedKeys.has(k));
    expect(new Set(keys)).toEqual(new Set(want));
    // Typed values and lineage survived every hop.
    const row = rows[0]!;
    const src = records.find((r) => `${r.properties.DeviceId}#${r.properties.ReportId}` === `${row.DeviceId}#${row.ReportId}` && r.category.endsWith(category))!;
    expect(row.Timestamp).toBe(Date.parse(src.properties.Timestamp as string) * 1000 + micros(src.properties.Timestamp as string));
    expect(row.eventDate).toBe(Math.floor((row.Timestamp as number) / 86_400_000_000));
    expect(row._source).toBe('defender');
    expect(JSON.parse(row._raw as string)).toEqual(src);
    expect(typeof row._raw_seq).toBe('number');
  }

  const quarantine = await rowsOf(lake, 'quarantine', 'quarantine');
  const mustQuarantine = expected.malformed.filter((m) => m.disposition === 'quarantine');
  expect(quarantine.length).toBe(mustQuarantine.length);
  for (const m of mustQuarantine) {
    const q = quarantine.find((r) => keyOfRaw(r.raw as string) === `${m.deviceId}#${m.reportId}`);
    expect(q, `quarantined ${m.kind} ${m.deviceId}#${m.reportId}`).toBeDefined();
    expect(q!.reason).toContain(m.reason);
    expect(q!.stage).toBe('parser');
  }

  const unrouted = await rowsOf(lake, 'bronze', 'unrouted');
  expect(unrouted.length).toBe(expected.unknown.count);
  expect(new Set(unrouted.map((r) => r.category))).toEqual(new Set([expected.unknown.category]));

  const alerts = await rowsOf(lake, 'gold', 'alerts');
  expect(alerts.length).toBe(1);
  expect(alerts[0]).toMatchObject({ rule: 'vulnerable_service_listening', entity: 'ws-finance-17' });
  expect(h.receiver.posts.length).toBe(1);
  expect(JSON.stringify(h.receiver.posts[0]!.body)).toContain('ws-finance-17');
}

/** Every service answers /healthz and /readyz, and /metrics counts what the lake holds. */
async function assertMetrics(h: Harness, gen: GeneratedDefender): Promise<void> {
  const text = async (service: string, path: string) => {
    const res = await fetch(`http://127.0.0.1:${h.pipeline.services.get(service)!.port}${path}`);
    expect(res.status, `${service} ${path}`).toBe(200);
    return res.text();
  };
  const value = (metrics: string, name: string, labels: Record<string, string>) => {
    const line = metrics.split('\n').find((l) => l.startsWith(name + '{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  for (const name of h.pipeline.services.keys()) {
    await text(name, '/healthz');
    await text(name, '/readyz');
  }
  // One parser process parses every Defender category (one durable consumer each).
  const m = await text('parser-defender', '/metrics');
  let validTotal = 0;
  for (const category of DEFENDER_CATEGORIES) {
    const def = defenderTables[category]!;
    const quarantined = gen.expected.malformed.filter((x) => x.category === category && x.disposition === 'quarantine').length;
    const coercion = value(m, 'sluice_expectation_failures_total', { table: def.name, rule: 'coercion' });
    const quarantineRules = def.expectations.filter((e) => e.action === 'quarantine').reduce((n, e) => n + value(m, 'sluice_expectation_failures_total', { table: def.name, rule: e.name }), 0);
    expect(coercion + quarantineRules, `${def.name} quarantine counters`).toBeGreaterThanOrEqual(quarantined);
    validTotal += gen.expected.categories[category].valid;
  }
  expect(value(m, 'sluice_records_out_total', { stream: 'parsed' }), 'parser records out').toBe(validTotal);
  const sink = await text('sink', '/metrics');
  expect(value(sink, 'sluice_delta_rows_total', { table: 'quarantine' })).toBe(gen.expected.malformed.filter((x) => x.disposition === 'quarantine').length);
  expect(value(sink, 'sluice_delta_commits_total', { table: 'bronze' })).toBeGreaterThan(0);
  const splitter = await text('splitter', '/metrics');
  expect(value(splitter, 'sluice_splitter_records_total', { category: '_unknown' })).toBe(gen.expected.unknown.count);
  const notifier = await text('notifier', '/metrics');
  expect(value(notifier, 'sluice_notifier_alerts_total', { destination: 'slack', outcome: 'posted' })).toBe(1);
}

/** The sub-millisecond digits of an ISO timestamp, in µs (Date.parse keeps only milliseconds). */
function micros(iso: string): number {
  const m = /\.(\d+)/.exec(iso);
  if (!m) return 0;
  return Number(m[1]!.padEnd(7, '0').slice(3, 6));
}

describe('pipeline end to end', () => {
  it('lands every record exactly where it belongs', async () => {
    h = await startHarness();
    const gen = generate(11, 40);
    const plan = await feed(h.pipeline, gen.records);
    await waitPipelineIdle(h.nats.url);
    await assertLake(h, gen, plan.bronzeRows);
    await assertMetrics(h, gen);
  });

  for (const [point, label] of [
    ['sink.afterCommit:4', 'between a Delta commit and its acks'],
    ['sink.beforeCommit:4', 'between writing Parquet files and committing them'],
  ] as const) {
    it(`keeps exact counts when the sink dies ${label}`, async () => {
      h = await startHarness({ serviceEnv: { sink: { SLUICE_FAULT: point } } });
      const gen = generate(31, 300);
      const plan = await feed(h.pipeline, gen.records);
      const sink = h.pipeline.services.get('sink')!;
      const code = await Promise.race([sink.exited, new Promise((r) => setTimeout(() => r('alive'), 60_000))]);
      expect(code, 'the fault point killed the sink').not.toBe('alive');
      expect(sink.child.signalCode).toBe('SIGKILL');
      await h.pipeline.restart('sink', { SLUICE_FAULT: '' });
      await waitPipelineIdle(h.nats.url);
      await assertLake(h, gen, plan.bronzeRows);
      if (point.startsWith('sink.beforeCommit')) {
        // The killed flush left Parquet files no commit references; vacuum finds and removes exactly those.
        const removed: string[] = [];
        for (const t of findTables(h.pipeline.lakePath)) removed.push(...(await vacuum(t, { retentionHours: 0, force: true })));
        expect(removed.length).toBeGreaterThan(0);
        await assertLake(h, gen, plan.bronzeRows);
      }
    });
  }

  for (const victim of ['sink', 'splitter', 'parser-defender', 'notifier']) {
    it(`keeps exact counts when ${victim} is SIGKILLed and restarted midway`, async () => {
      h = await startHarness();
      const gen = generate(23, 400);
      const feeding = feed(h.pipeline, gen.records);
      await new Promise((r) => setTimeout(r, 1500));
      await h.pipeline.kill(victim, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      await h.pipeline.restart(victim);
      const plan = await feeding;
      await waitPipelineIdle(h.nats.url);
      await assertLake(h, gen, plan.bronzeRows);
    });
  }

  it('keeps exact counts with two sink replicas on four event partitions when one is SIGKILLed and restarted', async () => {
    h = await startHarness({ sinkReplicas: 2, eventPartitions: 4 });
    expect([...h.pipeline.services.keys()].filter((n) => n.startsWith('sink'))).toEqual(['sink-0', 'sink-1']);
    const gen = generate(29, 400);
    const feeding = feed(h.pipeline, gen.records);
    await new Promise((r) => setTimeout(r, 1500));
    await h.pipeline.kill('sink-1', 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await h.pipeline.restart('sink-1');
    const plan = await feeding;
    await waitPipelineIdle(h.nats.url);
    await assertLake(h, gen, plan.bronzeRows);
    // Both replicas committed to the silver tables, each under its own partitions' txn app ids
    // (replica 0 owns p0 and p2, replica 1 owns p1 and p3).
    const partitions = new Set<string>();
    for (const category of DEFENDER_CATEGORIES) {
      const name = defenderTables[category]!.name;
      const snap = await (await DeltaTable.open(join(h.pipeline.lakePath, 'silver', name))).snapshot();
      for (const id of snap.txns.keys()) {
        expect(id).toMatch(new RegExp(`^sluice-sink-silver-${name}-p[0-3]$`));
        partitions.add(id.slice(id.lastIndexOf('-p') + 2));
      }
    }
    expect(['0', '2'].some((p) => partitions.has(p)), 'replica 0 wrote silver').toBe(true);
    expect(['1', '3'].some((p) => partitions.has(p)), 'replica 1 wrote silver').toBe(true);
    // Bronze too: raw partitions (by object) are shared the same way, each under its own txn app id.
    const bronzeTxns = [...(await (await DeltaTable.open(join(h.pipeline.lakePath, 'bronze', 'bronze'))).snapshot()).txns.keys()];
    for (const id of bronzeTxns) expect(id).toMatch(/^sluice-sink-bronze-p[0-3]$/);
    const rawOwners = new Set(bronzeTxns.map((id) => Number(id.slice(-1)) % 2));
    expect(rawOwners, 'both replicas wrote bronze').toEqual(new Set([0, 1]));
  });

  it('keeps exact counts when the collector is SIGKILLed while ingesting a directory', async () => {
    h = await startHarness();
    const gen = generate(37, 1200); // 6020 records: 6 NDJSON files of ~1000 lines, one record per line
    const files = 6;
    const per = Math.ceil(gen.records.length / files);
    const names: string[] = [];
    for (let f = 0; f < files; f++) {
      const lines = gen.records.slice(f * per, (f + 1) * per).map((r) => JSON.stringify(r));
      const name = `batch-${f}.ndjson`;
      // Written under a temporary name the collector ignores, then renamed: each file appears complete.
      writeFileSync(join(h.pipeline.inbox, `${name}.tmp`), lines.join('\n') + '\n');
      renameSync(join(h.pipeline.inbox, `${name}.tmp`), join(h.pipeline.inbox, name));
      names.push(name);
    }
    const nc = await connect({ servers: h.nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      // Kill as soon as the collector has stored its first envelope of these files (about a second after they
      // appear: settle 0.5 s, poll 1 s), so the kill lands while it is still publishing and recording positions.
      await until(async () => (await countSubject(jsm, 'RAW', 'raw.defender.0')) > 0, 30_000, 'the collector to start publishing');
      await h.pipeline.kill('collector', 'SIGKILL');
      await h.pipeline.restart('collector');
      await waitReady(h.pipeline, 90_000, ['collector']);

      // The restarted collector finishes every file: each position reaches the file's size.
      const kv = await new Kvm(nc).open(KV_BUCKETS.collectorPositions);
      const finished = async () => {
        const done = new Set<string>();
        for await (const key of await kv.keys('defender.>')) {
          const e = await kv.get(key);
          if (!e?.value?.length) continue;
          const p = e.json<{ path: string; offset: number; pending?: number }>();
          if (p.pending === undefined && p.offset === statSync(join(h!.pipeline.inbox, p.path)).size) done.add(p.path);
        }
        return names.every((n) => done.has(n));
      };
      await until(finished, 90_000, 'the restarted collector to finish every file');

      // RAW holds every record exactly once: the replayed batches were dropped as duplicates.
      const raw = await readSubject(jsm, 'RAW', 'raw.defender.0');
      expect(raw.reduce((s, e) => s + Number(e.headers[H.count]), 0)).toBe(gen.records.length);
      expect(new Set(raw.flatMap((e) => e.lines)).size).toBe(gen.records.length);
    } finally {
      await nc.close();
    }
    await waitPipelineIdle(h.nats.url, 180_000);
    await assertLake(h, gen, gen.records.length);
  });
});
