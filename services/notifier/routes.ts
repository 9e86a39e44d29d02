// Which Slack webhook (channel) an alert goes to: the first route whose rule and severity match, else the default.
import { readFileSync } from 'node:fs';
import type { Alert, Severity } from '@sluice/slack';

export interface SlackRouteConfig {
  rule?: string;
  severity?: Severity | Severity[];
  webhookUrl?: string;
  /** File holding the URL (a mounted secret); read at start. */
  webhookUrlFile?: string;
}

export interface SlackRoute {
  /** For logs and metrics: never the URL, which is a secret. */
  name: string;
  rule?: string;
  severities?: Severity[];
  webhookUrl: string;
}

export function resolveUrl(r: { webhookUrl?: string; webhookUrlFile?: string }, what: string): string {
  const url = r.webhookUrl ?? (r.webhookUrlFile !== undefined ? readFileSync(r.webhookUrlFile, 'utf8').trim() : undefined);
  if (url === undefined) throw new Error(`${what}: needs webhookUrl or webhookUrlFile`);
  if (!/^https?:\/\//.test(url)) throw new Error(`${what}: webhook URL must start with http:// or https://`);
  return url;
}

export function compileRoutes(routes: SlackRouteConfig[], defaultRoute: { webhookUrl?: string; webhookUrlFile?: string } | undefined): SlackRouter {
  const compiled: SlackRoute[] = routes.map((r, i) => ({
    name: `route${i}${r.rule ? `:${r.rule}` : ''}${r.severity ? `:${[r.severity].flat().join('|')}` : ''}`,
    ...(r.rule !== undefined ? { rule: r.rule } : {}),
    ...(r.severity !== undefined ? { severities: [r.severity].flat() } : {}),
    webhookUrl: resolveUrl(r, `notifier.slack.routes[${i}]`),
  }));
  const hasDefault = defaultRoute && (defaultRoute.webhookUrl !== undefined || defaultRoute.webhookUrlFile !== undefined);
  const fallback: SlackRoute | undefined = hasDefault ? { name: 'default', webhookUrl: resolveUrl(defaultRoute, 'notifier.slack') } : undefined;
  return new SlackRouter(compiled, fallback);
}

export class SlackRouter {
  constructor(
    readonly routes: SlackRoute[],
    readonly fallback: SlackRoute | undefined,
  ) {}

  /** The route for an alert, or undefined when no route matches and there is no default (the alert is not sent). */
  route(alert: Pick<Alert, 'rule' | 'severity'>): SlackRoute | undefined {
    for (const r of this.routes) {
      if (r.rule !== undefined && r.rule !== alert.rule) continue;
      if (r.severities !== undefined && !r.severities.includes(alert.severity)) continue;
      return r;
    }
    return this.fallback;
  }
}
