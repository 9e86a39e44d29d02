// Idempotent provisioning: streams and durable pull consumers are created or updated to match the code's topology.
// Works on nats-server 2.9 (single filter subject) and current releases; 2.10+ features are used only when detected.
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CommonConfig } from './config.ts';
import { KV_BUCKETS, STREAMS, type StreamSpec } from './topology.ts';

const NS = 1_000_000;

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
}

export function serverVersion(nc: NatsConnection): ServerVersion {
  const v = nc.info?.version ?? '0.0.0';
  const [major = 0, minor = 0, patch = 0] = v.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return { major, minor, patch };
}

export function atLeast(v: ServerVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, cfg: CommonConfig['streams']): Promise<void> {
  const want: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: [...spec.subjects],
    description: spec.doc,
    retention: RetentionPolicy.Limits,
    storage: cfg.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: cfg.replicas,
    max_age: Math.round(Math.min(cfg.maxAgeHours, spec.maxAgeHours ?? Infinity) * 3600 * 1000) * NS,
    max_bytes: cfg.maxBytes,
    // Backpressure instead of silent loss: a full stream refuses new publishes, so sources slow down.
    discard: DiscardPolicy.New,
    duplicate_window: Math.round(cfg.duplicateWindowSeconds * 1000) * NS,
  };
  try {
    const info = await jsm.streams.info(spec.name);
    const cur = info.config;
    const changed = (Object.keys(want) as (keyof StreamConfig)[]).some((k) => JSON.stringify(cur[k]) !== JSON.stringify(want[k]));
    if (changed) {
      // Storage and retention cannot change in place; everything else we set can.
      const { storage: _s, retention: _r, ...update } = want;
      await jsm.streams.update(spec.name, { ...cur, ...update });
    }
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add(want);
  }
}

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  description?: string;
  /**
   * The consumer's position is owned by the caller (a Delta sink's txn version): the durable is recreated to
   * deliver from this sequence + 1, in order, whatever its previous ack state was.
   */
  resumeAfterSeq?: number;
}

export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec, cfg: CommonConfig['consumer']): Promise<void> {
  const want: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    description: spec.description,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: Math.round(cfg.ackWaitSeconds * 1000) * NS,
    max_deliver: cfg.maxDeliver,
    // Room for a buffering stage (the sink holds messages until its commit) on top of the fetch window.
    max_ack_pending: Math.max(1000, cfg.maxInFlight * cfg.fetchBatch * 4),
  };
  if (spec.filterSubject) want.filter_subject = spec.filterSubject;
  if (spec.resumeAfterSeq !== undefined) {
    // Unacked messages from a previous run would otherwise come back only after ack_wait, behind newer ones.
    await jsm.consumers.delete(spec.stream, spec.durable).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    if (spec.resumeAfterSeq > 0) {
      want.deliver_policy = DeliverPolicy.StartSequence;
      want.opt_start_seq = spec.resumeAfterSeq + 1;
    }
    await jsm.consumers.add(spec.stream, want);
    return;
  }
  try {
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    const cur = info.config;
    const keys: (keyof ConsumerConfig)[] = ['ack_wait', 'max_deliver', 'max_ack_pending', 'filter_subject', 'description'];
    if (keys.some((k) => JSON.stringify(cur[k]) !== JSON.stringify(want[k]))) {
      await jsm.consumers.update(spec.stream, spec.durable, {
        ack_wait: want.ack_wait,
        max_deliver: want.max_deliver,
        max_ack_pending: want.max_ack_pending,
        filter_subject: want.filter_subject,
        description: want.description,
      });
    }
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(spec.stream, want);
  }
}

/** Creates every stream and KV bucket of the topology (idempotent). Consumers are ensured by each service. */
export async function provisionTopology(nc: NatsConnection, jsm: JetStreamManager, cfg: CommonConfig): Promise<void> {
  for (const spec of Object.values(STREAMS)) await ensureStream(jsm, spec, cfg.streams);
  const kvm = new Kvm(nc);
  for (const bucket of Object.values(KV_BUCKETS)) await kvm.create(bucket, { history: 1, replicas: cfg.streams.replicas });
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number; code?: number }; message?: string };
  if (err?.api_error?.code === 404) return true;
  return /not found/i.test(String(err?.message ?? ''));
}
