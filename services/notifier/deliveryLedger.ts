// Per-destination delivery state of each alert in JetStream KV, changed only by compare-and-set, so two replicas
// (or a redelivery racing the original) never both post an alert.
//
// Keys: `<dest>.a.<alert>` holds {state:'claimed', post, owner, at} or {state:'sent'}; `<dest>.p.<post>` is written
// once, right after the destination accepted post <post>. A claim whose post key exists is sent: the window between
// a successful post and recording it is that one KV write, for a whole aggregated message or batch.
import { createHash, randomUUID } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';

interface Claimed {
  state: 'claimed';
  post: string;
  owner: string;
  /** ms since epoch */
  at: number;
}
interface Sent {
  state: 'sent';
}
type Stored = Claimed | Sent;

/** What a claim attempt found. `claimed` with `uncertain` took over a stale claim whose post may have gone out. */
export type ClaimResult =
  | { alertId: string; status: 'claimed'; revision: number; uncertain: boolean }
  | { alertId: string; status: 'sent' }
  | { alertId: string; status: 'busy'; owner: string };

export type AlertState = 'absent' | 'claimed' | 'sent';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** KV keys allow [-/_=.a-zA-Z0-9]; other alert ids are hashed (stable, so every replica computes the same key). */
export function keyToken(id: string): string {
  return /^[-_=A-Za-z0-9]{1,200}$/.test(id) ? id : `h_${createHash('sha256').update(id).digest('base64url')}`;
}

export class DeliveryLedger {
  /** This process: names the owner of its claims in logs and in the stored value. */
  readonly owner: string;

  constructor(
    private readonly kv: KV,
    readonly destination: string,
    /** A claim older than this is from a crashed replica and may be taken over. */
    private readonly leaseMs: number,
    owner?: string,
  ) {
    this.owner = owner ?? randomUUID();
  }

  private alertKey(id: string): string {
    return `${this.destination}.a.${keyToken(id)}`;
  }
  private postKey(post: string): string {
    return `${this.destination}.p.${post}`;
  }

  /** A new post id (one Slack message / one Kafka batch). */
  newPost(): string {
    return randomUUID().replace(/-/g, '');
  }

  async state(alertId: string): Promise<AlertState> {
    const e = await this.kv.get(this.alertKey(alertId));
    const v = stored(e);
    if (!v) return 'absent';
    if (v.state === 'sent') return 'sent';
    return (await this.postDone(v.post)) ? 'sent' : 'claimed';
  }

  private async postDone(post: string): Promise<boolean> {
    const p = await this.kv.get(this.postKey(post));
    return p !== null && p.operation === 'PUT';
  }

  /** Claims each alert for `post`: kv.create for a new alert, kv.update at the read revision to take over a stale claim. */
  async claim(alertIds: string[], post: string, now = Date.now()): Promise<ClaimResult[]> {
    return Promise.all(alertIds.map((id) => this.claimOne(id, post, now)));
  }

  private async claimOne(alertId: string, post: string, now: number): Promise<ClaimResult> {
    const key = this.alertKey(alertId);
    const value = enc.encode(JSON.stringify({ state: 'claimed', post, owner: this.owner, at: now } satisfies Claimed));
    // Two rounds: a lost race re-reads once and then reports what the winner wrote.
    for (let round = 0; round < 3; round++) {
      const e = await this.kv.get(key);
      const v = stored(e);
      try {
        if (!e || !v) {
          // Absent, or deleted/purged (a released claim): create only succeeds if the key has no live value.
          const revision = await this.kv.create(key, value);
          return { alertId, status: 'claimed', revision, uncertain: false };
        }
        if (v.state === 'sent') return { alertId, status: 'sent' };
        if (await this.postDone(v.post)) return { alertId, status: 'sent' };
        if (now - v.at < this.leaseMs) return { alertId, status: 'busy', owner: v.owner };
        const revision = await this.kv.update(key, value, e.revision);
        return { alertId, status: 'claimed', revision, uncertain: true };
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
    const v = stored(await this.kv.get(key));
    return v?.state === 'sent' ? { alertId, status: 'sent' } : { alertId, status: 'busy', owner: v?.state === 'claimed' ? v.owner : '?' };
  }

  /**
   * Records that `post` reached the destination: the single write that turns all its claims into `sent`. Then each
   * alert key is set to `sent` too (CAS on the claim's revision), which keeps later reads to one key.
   */
  async commit(post: string, claims: { alertId: string; revision: number }[]): Promise<void> {
    await this.kv.put(this.postKey(post), 'sent');
    const sent = enc.encode(JSON.stringify({ state: 'sent' } satisfies Sent));
    await Promise.all(claims.map((c) => this.kv.update(this.alertKey(c.alertId), sent, c.revision).catch(() => undefined)));
  }

  /** Gives claims back after a failed or rejected post, so a retry starts clean; only if still ours (CAS delete). */
  async release(claims: { alertId: string; revision: number }[]): Promise<void> {
    await Promise.all(claims.map((c) => this.kv.delete(this.alertKey(c.alertId), { previousSeq: c.revision }).catch(() => undefined)));
  }
}

function stored(e: KvEntry | null): Stored | null {
  if (!e || e.operation !== 'PUT') return null;
  const text = dec.decode(e.value);
  // The first notifier version stored bare strings: `sent`, or `posting` (outcome unknown: treat as a stale claim).
  if (text === 'sent') return { state: 'sent' };
  if (text === 'posting') return { state: 'claimed', post: '-', owner: 'legacy', at: 0 };
  try {
    const v = JSON.parse(text) as Stored;
    return v.state === 'sent' || v.state === 'claimed' ? v : null;
  } catch {
    return null;
  }
}

function isWrongSequence(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 10071 || code === 10164) return true;
  return /wrong last sequence/i.test(err instanceof Error ? err.message : String(err));
}
