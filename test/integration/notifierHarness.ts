// Shared set-up for the notifier integration tests: a real nats-server with the sluice topology, notifier
// destinations driven by the runtime's ConsumeLoop (as runService does), alert builders and polling helpers.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ConsumeLoop, createLogger, createMetrics, ensureConsumer, KV_BUCKETS, provisionTopology, type CommonConfig } from '@sluice/runtime';
import type { Alert, WebhookReceiver } from '@sluice/slack';
import type { SlackConfig } from '../../services/notifier/config.ts';
import { DeliveryLedger } from '../../services/notifier/deliveryLedger.ts';
import type { Destination } from '../../services/notifier/destination.ts';
import { notifyMessage, type Outcome } from '../../services/notifier/handler.ts';
import { slackDestination } from '../../services/notifier/slackDestination.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { fastRetryConfig } from '../support/runtimeConfig.ts';

export const log = createLogger('notifier', 'silent');
const enc = new TextEncoder();

export interface Harness {
  server: NatsServerHandle;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  cfg: CommonConfig;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  const cfg = fastRetryConfig();
  await provisionTopology(nc, jsm, cfg);
  const kv = await new Kvm(nc).open(KV_BUCKETS.notifierDelivered);
  return {
    server,
    nc,
    js: jetstream(nc),
    jsm,
    kv,
    cfg,
    async close() {
      await nc.close();
      await server.stop();
    },
  };
}

export const LEASE_MS = 5000;

export function ledger(h: Harness, destination: string, owner?: string): DeliveryLedger {
  return new DeliveryLedger(h.kv, destination, LEASE_MS, owner);
}

export function slackConfig(over: Partial<SlackConfig> = {}): SlackConfig {
  return { enabled: true, routes: [], aggregateWindowSeconds: 0, aggregateMaxAlerts: 100, ratePerSecond: 1000, burst: 1, timeoutMs: 2000, maxRetries: 3, ...over };
}

export function slack(h: Harness, over: Partial<SlackConfig>, owner?: string): Destination {
  return slackDestination(slackConfig(over), ledger(h, 'slack', owner), LEASE_MS);
}

export interface Running {
  outcomes: Outcome[];
  stop(): Promise<void>;
}

/** Runs `dest` on a durable consumer of `alerts.<subject>`, like the notifier service does. */
export async function run(h: Harness, dest: Destination, durable: string, subject: string): Promise<Running> {
  const filterSubject = `alerts.${subject}`;
  await ensureConsumer(h.jsm, { stream: 'ALERTS', durable, filterSubject }, h.cfg.consumer);
  const outcomes: Outcome[] = [];
  const loop = new ConsumeLoop({
    stage: 'notifier',
    js: h.js,
    consumer: await h.js.consumers.get('ALERTS', durable),
    stream: 'ALERTS',
    handler: (m) => notifyMessage(m, dest, { log, count: (o) => outcomes.push(o) }),
    cfg: h.cfg.consumer,
    maxInFlight: 256,
    log,
    metrics: createMetrics('notifier'),
    onFatal: () => undefined,
  });
  loop.start();
  return {
    outcomes,
    async stop() {
      await loop.stopFetching();
      await dest.flush();
      await loop.idle();
      await dest.close();
    },
  };
}

export function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    alert_id: id,
    rule: 'vulnerable_service_listening',
    severity: 'high',
    title: `RDP listening on ws-${id}`,
    entity: `ws-${id}`,
    event_time: '2024-05-01T13:45:10.123Z',
    created_time: '2024-05-01T13:45:11.000Z',
    detail: { LocalPort: 3389, service: 'RDP' },
    evidence: [{ table: 'defender_device_network_events', source: 'defender', object: 'f.json', raw_seq: 7 }],
    ...over,
  };
}

/** Publishes each inner list as one ALERTS message (NDJSON), without message ids: a replay is a real second copy. */
export async function publish(h: Harness, subject: string, messages: Alert[][]): Promise<void> {
  for (const m of messages) await h.js.publish(`alerts.${subject}`, enc.encode(m.map((a) => JSON.stringify(a) + '\n').join('')));
}

/** The alert ids each post carries (single: the Alert ID field; aggregated: the Alert IDs section). */
export function postedIds(r: WebhookReceiver, from = 0): string[][] {
  return r.posts.slice(from).map((p) => {
    const json = JSON.stringify(p.body);
    const many = /\*Alert IDs \(\d+\)\*\\n([^"]*)"/.exec(json);
    if (many) return many[1]!.split(', ');
    const one = /\*Alert ID\*\\n([^"]*)"/.exec(json);
    return one ? [one[1]!] : ['?'];
  });
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function pending(h: Harness, durable: string): Promise<[number, number]> {
  const info = await h.jsm.consumers.info('ALERTS', durable);
  return [info.num_pending, info.num_ack_pending];
}
