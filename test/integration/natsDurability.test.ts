// streams.replicas on a real 3-node JetStream cluster (with `sync_interval: always` where the server knows it, 2.10+):
// provisioning creates every stream and KV bucket with 3 replicas, and an acknowledged message survives a kill -9 of
// the stream's leader. On a single server, replicas 3 is refused by the server at provisioning (a client cannot
// know the cluster size, so this is how a too-large setting shows up).
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { connectNats, KV_BUCKETS, loadConfig, provisionTopology, STREAMS } from '@sluice/runtime';
import { freePort, natsServerVersion, startConfiguredNatsServer, versionAtLeast, type ConfiguredNatsServer } from '../support/natsServer.ts';

const servers: ConfiguredNatsServer[] = [];
const conns: NatsConnection[] = [];
afterAll(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  for (const s of servers) await s.stop();
});

const config = (replicas: number) => loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {}, overrides: { 'streams.replicas': replicas } });

/** Retries `fn` until it succeeds (a new cluster elects its JetStream meta leader after "Server is ready"). */
async function eventually<T>(fn: () => Promise<T>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('NATS durability settings', () => {
  it('a 3-node cluster: every stream and KV bucket gets 3 replicas; an acked message survives kill -9 of its leader', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const routes = [await freePort(), await freePort(), await freePort()];
    const always = versionAtLeast(natsServerVersion(), 2, 10) ? 'sync_interval: always' : undefined;
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startConfiguredNatsServer({
          port: ports[i],
          jetstream: always,
          config: `server_name: n${i}\ncluster { name: sluice-test, listen: 127.0.0.1:${routes[i]}, routes: [${routes.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`,
        }),
      );
    }
    const nc = await connectNats({ url: servers.map((s) => s.url).join(',') }, { maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    conns.push(nc);
    const jsm: JetStreamManager = await eventually(() => jetstreamManager(nc));
    await eventually(() => provisionTopology(nc, jsm, config(3)));
    for (const spec of Object.values(STREAMS)) {
      const info = await jsm.streams.info(spec.name);
      expect(info.config.num_replicas, spec.name).toBe(3);
      expect(info.cluster?.replicas?.length, `${spec.name} followers`).toBe(2);
    }
    const kvm = new Kvm(nc);
    for (const bucket of Object.values(KV_BUCKETS)) expect((await (await kvm.open(bucket)).status()).replicas, bucket).toBe(3);

    const js = jetstream(nc);
    const ack = await js.publish('raw.durability.0', 'acknowledged before the crash', { msgID: 'durability-1' });
    const leader = (await jsm.streams.info('RAW')).cluster!.leader!;
    const victim = servers.find((s, i) => `n${i}` === leader)!;
    victim.process.kill('SIGKILL');
    // The two survivors elect a new leader and still hold the acknowledged message.
    const msg = await eventually(async () => {
      const m = await jsm.streams.getMessage('RAW', { seq: ack.seq });
      if (!m) throw new Error(`RAW seq ${ack.seq} not found`);
      return m;
    });
    expect(msg.string()).toBe('acknowledged before the crash');
    expect((await jsm.streams.info('RAW')).cluster!.leader).not.toBe(leader);
  });

  it('a single server refuses streams.replicas 3 at provisioning', async () => {
    const single = await startConfiguredNatsServer({ config: 'server_name: single' });
    servers.push(single);
    const nc = await connectNats({ url: single.url });
    conns.push(nc);
    const err = await provisionTopology(nc, await jetstreamManager(nc), config(3)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/insufficient resources|replicas > 1 not supported in non-clustered mode/i);
  });
});
