// Slack destination: routes alerts to webhooks (per rule / severity), aggregates similar ones within the window into
// one message with a count, paces each webhook with a token bucket, and maps Slack's answers to outcomes
// (posted; 4xx rejected → dead letter; 429/5xx/timeouts retried by the client, then by redelivery).
import { postToSlack, toAggregateMessage, type PostOptions } from '@sluice/slack';
import { AlertBatcher } from './alertBatcher.ts';
import type { SlackConfig } from './config.ts';
import type { DeliveryLedger } from './deliveryLedger.ts';
import { batcherDestination, type Destination } from './destination.ts';
import { compileRoutes } from './routes.ts';
import { TokenBucket } from './tokenBucket.ts';

const SEP = '\u0000';

export function slackDestination(cfg: SlackConfig, ledger: DeliveryLedger, leaseMs: number, post: Pick<PostOptions, 'sleep'> = {}): Destination {
  const router = compileRoutes(cfg.routes, cfg);
  const urls = new Map([...router.routes, ...(router.fallback ? [router.fallback] : [])].map((r) => [r.name, r.webhookUrl]));
  // One bucket per webhook URL: two routes naming the same channel share its limit.
  const buckets = new Map<string, TokenBucket>();
  const bucket = (url: string): TokenBucket => {
    let b = buckets.get(url);
    if (!b) buckets.set(url, (b = new TokenBucket(cfg.ratePerSecond, cfg.burst)));
    return b;
  };
  const urlOf = (group: string): string => urls.get(group.split(SEP, 1)[0]!)!;
  const windowMs = cfg.aggregateWindowSeconds * 1000;

  const batcher = new AlertBatcher({
    ledger,
    leaseMs,
    maxAlerts: windowMs > 0 ? cfg.aggregateMaxAlerts : 1,
    groupOf(alert) {
      const route = router.route(alert);
      if (!route) return undefined;
      // Without a window every alert is its own message.
      return [route.name, alert.rule, alert.entity, ...(windowMs > 0 ? [] : [alert.alert_id])].join(SEP);
    },
    holdMs: () => windowMs,
    laneOf: urlOf,
    beforeSend: (group) => bucket(urlOf(group)).take(),
    async send(group, alerts) {
      const url = urlOf(group);
      const res = await postToSlack(url, toAggregateMessage(alerts), {
        timeoutMs: cfg.timeoutMs,
        maxRetries: cfg.maxRetries,
        onRateLimited: () => bucket(url).drain(),
        ...post,
      });
      return res.outcome === 'posted' ? { ok: true } : { ok: false, reason: `Slack answered ${res.status} ${res.body.slice(0, 200)}` };
    },
  });
  return batcherDestination('slack', batcher);
}
