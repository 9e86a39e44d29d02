// A default runtime config with fast retries, for tests that drive ConsumeLoop against a real nats-server.
import { loadConfig, type CommonConfig } from '@sluice/runtime';

export function fastRetryConfig(): CommonConfig {
  const cfg = loadConfig<{ t: object }>({ section: 't', sectionSchema: { type: 'object' }, env: {} });
  cfg.consumer.backoffSeconds = [0.05];
  cfg.consumer.ackWaitSeconds = 2;
  cfg.consumer.maxDeliver = 3;
  return cfg;
}
