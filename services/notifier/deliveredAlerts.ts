// Remembers which alerts a destination has received, in JetStream KV, so a redelivered alert is not posted twice.
// States: `posting` (claimed, outcome unknown after a crash) and `sent`.
import type { KV } from '@nats-io/kv';

export type DeliveryState = 'absent' | 'posting' | 'sent';

export class DeliveredAlerts {
  constructor(
    private readonly kv: KV,
    private readonly destination: string,
  ) {}

  private key(alertId: string): string {
    return `${this.destination}.${alertId}`;
  }

  async state(alertId: string): Promise<DeliveryState> {
    const e = await this.kv.get(this.key(alertId));
    if (!e || e.operation !== 'PUT') return 'absent';
    return e.string() === 'sent' ? 'sent' : 'posting';
  }

  async markPosting(alertId: string): Promise<void> {
    await this.kv.put(this.key(alertId), 'posting');
  }

  async markSent(alertId: string): Promise<void> {
    await this.kv.put(this.key(alertId), 'sent');
  }
}
