// Shared set-up for end-to-end tests: a real nats-server, the local Slack receiver, every service as a process,
// and helpers to feed generated Defender data and read back what landed in the lake.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTable } from '@sluice/delta';
import { startWebhookReceiver } from '@sluice/slack';
import { startPipeline, waitReady, type Pipeline } from '../../cli/pipeline.ts';
import { waitIdle } from '../../cli/streamStatus.ts';
import { toEventHubPayloads, type DefenderRecord } from '../fixtures/defenderGenerator.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

export interface Harness {
  nats: NatsServerHandle;
  receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  pipeline: Pipeline;
  workDir: string;
  logs: string[];
  close(): Promise<Map<string, number | null>>;
}

export async function startHarness(opts: { serviceEnv?: Record<string, Record<string, string>>; sinkReplicas?: number; eventPartitions?: number } = {}): Promise<Harness> {
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const nats = await startNatsServer();
  const receiver = await startWebhookReceiver({ port: 0 });
  const logs: string[] = [];
  const pipeline = await startPipeline({
    workDir,
    natsUrl: nats.url,
    webhookUrl: receiver.url,
    onLog: (s, l) => logs.push(`${s} ${l}`),
    // A notifier killed between claiming an alert and recording its post leaves the claim to expire before a new
    // one takes over: the 120 s default lease is as long as waitPipelineIdle waits, so tests use a short one.
    overrides: { sink: { flush: { maxLatencySeconds: 1, maxRows: 5000 } }, notifier: { claimLeaseSeconds: 20 } },
    serviceEnv: opts.serviceEnv,
    sinkReplicas: opts.sinkReplicas,
    eventPartitions: opts.eventPartitions,
  });
  await waitReady(pipeline, 90_000);
  return {
    nats,
    receiver,
    pipeline,
    workDir,
    logs,
    async close() {
      const codes = await pipeline.stop();
      await receiver.close();
      await nats.stop();
      rmSync(workDir, { recursive: true, force: true });
      return codes;
    },
  };
}

/** How many bronze rows each way of feeding produces, so the test knows the exact bronze count. */
export interface FeedPlan {
  bronzeRows: number;
}

/**
 * Feeds records four ways: HTTP POST of Event Hub payload documents (exploded by the collector), HTTP POST of
 * NDJSON payload lines, a pretty-printed JSON document file, and a gzip NDJSON file of single records.
 */
export async function feed(p: Pipeline, records: DefenderRecord[]): Promise<FeedPlan> {
  const q = Math.ceil(records.length / 4);
  const [a, b, c, d] = [records.slice(0, q), records.slice(q, 2 * q), records.slice(2 * q, 3 * q), records.slice(3 * q)];
  let bronzeRows = 0;
  for (const payload of toEventHubPayloads(a, 10)) {
    const res = await fetch(`${p.httpUrl}/ingest/defender`, { method: 'POST', body: JSON.stringify(payload) });
    if (res.status !== 202) throw new Error(`POST → ${res.status} ${await res.text()}`);
    bronzeRows += payload.records.length;
  }
  const lines = toEventHubPayloads(b, 7).map((x) => JSON.stringify(x));
  const res = await fetch(`${p.httpUrl}/ingest/defender`, { method: 'POST', body: lines.join('\n') + '\n' });
  if (res.status !== 202) throw new Error(`POST → ${res.status} ${await res.text()}`);
  bronzeRows += lines.length;
  writeFileSync(join(p.inbox, 'doc.json'), JSON.stringify({ records: c }, null, 2));
  bronzeRows += c.length;
  writeFileSync(join(p.inbox, 'singles.ndjson.gz'), gzipSync(d.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  bronzeRows += d.length;
  return { bronzeRows };
}

export async function waitPipelineIdle(natsUrl: string, timeoutMs = 120_000): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await waitIdle(await jetstreamManager(nc), { timeoutMs, stableMs: 3000 });
  } finally {
    await nc.close();
  }
}

export async function rowsOf(lake: string, layer: string, table: string): Promise<Record<string, unknown>[]> {
  return (await readTable(join(lake, layer, table))).rows;
}

/** (DeviceId, ReportId) of a Defender record given as JSON text. */
export function keyOfRaw(raw: string): string {
  const r = JSON.parse(raw) as { properties?: { DeviceId?: unknown; ReportId?: unknown } };
  return `${String(r.properties?.DeviceId)}#${String(r.properties?.ReportId)}`;
}
