// Notifier against a real nats-server (KV delivery state) and the real local Slack webhook receiver: one post per
// alert across redeliveries and crashes, rejected posts dead-lettered unmarked, and the runtime's DLQ path for a 400.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumeLoop, createLogger, createMetrics, ensureConsumer, H, KV_BUCKETS, NonRetryableError, provisionTopology, type CommonConfig, type InputMessage } from '@sluice/runtime';
import { startWebhookReceiver, type Alert, type WebhookReceiver } from '@sluice/slack';
import { DeliveredAlerts } from '../../services/notifier/deliveredAlerts.ts';
import { notifyBatch } from '../../services/notifier/handler.ts';
import { fastRetryConfig } from '../support/runtimeConfig.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let cfg: CommonConfig;
let delivered: DeliveredAlerts;
let receiver: WebhookReceiver;
const log = createLogger('notifier', 'silent');
const enc = new TextEncoder();

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  cfg = fastRetryConfig();
  await provisionTopology(nc, jsm, cfg);
  delivered = new DeliveredAlerts(await new Kvm(nc).open(KV_BUCKETS.notifierDelivered), 'slack');
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await nc?.close();
  await server?.stop();
});

function alert(id: string): Alert {
  return {
    alert_id: id,
    rule: 'vulnerable_service_listening',
    severity: 'high',
    title: `RDP listening on ws-${id} (port 3389)`,
    entity: `ws-${id}`,
    event_time: '2024-05-01T13:45:10.123Z',
    created_time: '2024-05-01T13:45:11.000Z',
    detail: { DeviceId: id, LocalPort: 3389, service: 'RDP' },
    evidence: [{ table: 'defender_device_network_events', source: 'defender', object: 'f.json', raw_seq: 7 }],
  };
}

function envelope(alerts: Alert[], seq = 1): InputMessage {
  const data = enc.encode(alerts.map((a) => JSON.stringify(a) + '\n').join(''));
  return { subject: 'alerts.vulnerable_service_listening', data, headers: { [H.encoding]: 'ndjson', [H.count]: String(alerts.length) }, stream: 'ALERTS', seq, deliveryCount: 1 };
}

/** Entities of the posts the receiver accepted since `from` (the entity shows in the fallback text). */
function postedSince(from: number): string[] {
  return receiver.posts.slice(from).map((p) => /— (\S+) \(/.exec((p.body as { text: string }).text)?.[1] ?? '?');
}

const notify = (msg: InputMessage, webhookUrl = receiver.url) => notifyBatch(msg, { webhookUrl, delivered, log });

describe('notifyBatch', () => {
  it('posts an alert once and skips its redelivery', async () => {
    const from = receiver.posts.length;
    const msg = envelope([alert('n1')]);
    await notify(msg);
    expect(await delivered.state('n1')).toBe('sent');
    await notify({ ...msg, deliveryCount: 2 });
    expect(postedSince(from)).toEqual(['ws-n1']);
  });

  it('posts both alerts of a two-alert envelope, and neither again on redelivery', async () => {
    const from = receiver.posts.length;
    const msg = envelope([alert('n2a'), alert('n2b')]);
    await notify(msg);
    await notify(msg);
    expect(postedSince(from)).toEqual(['ws-n2a', 'ws-n2b']);
    expect([await delivered.state('n2a'), await delivered.state('n2b')]).toEqual(['sent', 'sent']);
  });

  it('throws NonRetryableError on a 404 and leaves the alert unsent, so a later replay delivers it once', async () => {
    const from = receiver.posts.length;
    const msg = envelope([alert('n3')]);
    const wrong = receiver.url.replace(/\/[^/]+$/, '/wrong');
    const err = await notify(msg, wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect((err as Error).message).toContain('404 no_service');
    expect(await delivered.state('n3')).not.toBe('sent');
    expect(postedSince(from)).toEqual([]);
    await notify(msg);
    await notify(msg);
    expect(postedSince(from)).toEqual(['ws-n3']);
  });

  it('posts exactly once more after a crash left the alert in `posting`', async () => {
    const from = receiver.posts.length;
    await delivered.markPosting('n4');
    expect(await delivered.state('n4')).toBe('posting');
    const msg = envelope([alert('n4')]);
    await notify(msg);
    await notify(msg);
    expect(postedSince(from)).toEqual(['ws-n4']);
    expect(await delivered.state('n4')).toBe('sent');
  });
});

describe('notifier in the runtime ConsumeLoop', () => {
  let slack400: Server;
  let requests = 0;
  beforeAll(async () => {
    // The local receiver accepts every payload toSlackMessage renders, so a 400 needs a stand-in answering like Slack.
    slack400 = createServer((req, res) => {
      requests++;
      req.resume().on('end', () => res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks'));
    });
    await new Promise<void>((r) => slack400.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    slack400.closeAllConnections();
    await new Promise((r) => slack400.close(r));
  });

  it('dead-letters an alert whose webhook answers 400 to dlq.<stage> with the Slack status', async () => {
    const url = `http://127.0.0.1:${(slack400.address() as AddressInfo).port}/services/T0/B0/x`;
    const stage = 'notifier';
    await ensureConsumer(jsm, { stream: 'ALERTS', durable: 'notifier-slack', filterSubject: 'alerts.>' }, cfg.consumer);
    const loop = new ConsumeLoop({
      stage,
      js,
      consumer: await js.consumers.get('ALERTS', 'notifier-slack'),
      stream: 'ALERTS',
      handler: async (m) => (await notifyBatch(m, { webhookUrl: url, delivered, log }), []),
      cfg: cfg.consumer,
      log,
      metrics: createMetrics(stage),
      onFatal: () => undefined,
    });
    loop.start();
    const body = enc.encode(JSON.stringify(alert('n5')) + '\n');
    const ack = await js.publish('alerts.vulnerable_service_listening', body);

    const deadline = Date.now() + 15_000;
    let dead = await jsm.streams.getMessage('DLQ', { last_by_subj: `dlq.${stage}` }).catch(() => null);
    while (!dead && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      dead = await jsm.streams.getMessage('DLQ', { last_by_subj: `dlq.${stage}` }).catch(() => null);
    }
    await loop.stop();

    expect(dead).not.toBeNull();
    expect(new TextDecoder().decode(dead!.data)).toBe(new TextDecoder().decode(body));
    expect(dead!.header.get(H.error)).toMatch(/^non_retryable: Slack rejected alert n5: 400 invalid_blocks/);
    expect(dead!.header.get(H.stage)).toBe(stage);
    expect(dead!.header.get(H.origSubject)).toBe('alerts.vulnerable_service_listening');
    expect(dead!.header.get(H.origSeq)).toBe(String(ack.seq));
    expect(requests).toBe(1); // a 4xx is not retried, by the client or by redelivery
    expect(await delivered.state('n5')).not.toBe('sent');
    const info = await jsm.consumers.info('ALERTS', 'notifier-slack');
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    expect((await jsm.streams.info('DLQ')).state.messages).toBe(1);
  });
});
