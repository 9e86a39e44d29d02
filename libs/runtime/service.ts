// Wires a stage: config → NATS → provisioning → consumers → health/metrics → graceful shutdown.
// A service is a `ServiceDefinition`: its config section, and a setup that returns its inputs and handlers.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseScalar, type CommonConfig } from './config.ts';
import { ConsumeLoop, type Handler, type InFlightBytes } from './consumeLoop.ts';
import { startHealthServer } from './healthServer.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { connectNats, redactUrl } from './natsConnect.ts';
import { ensureConsumer, provisionTopology } from './provision.ts';

export interface InputSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  handler: Handler;
  /** Overrides consumer.maxInFlight (a buffering sink needs many messages in flight). */
  maxInFlight?: number;
  /** Shared by the inputs of a process: message bytes in flight at most (see InFlightBytes). */
  inFlightBytes?: InFlightBytes;
  /** The stage keeps its own position (Delta txn): deliver from this sequence + 1, in stream order. */
  resumeAfterSeq?: number;
}

export interface ServiceContext<C> {
  stage: string;
  config: CommonConfig & C;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  metrics: Metrics;
}

export interface ServiceDefinition<C> {
  /** Stage name: config section, metrics label, DLQ subject, consumer name prefix. */
  name: string;
  description: string;
  sectionSchema: object;
  /** Flags beyond --config/--set that map to config keys, e.g. `{ category: 'parser.category' }`. */
  flags?: Record<string, { key: string; help: string }>;
  /** Checks beyond the schema (unknown family, category, table…) before connecting: throw ConfigError naming the key. */
  validate?(config: CommonConfig & C): void;
  setup(ctx: ServiceContext<C>): Promise<{ inputs: InputSpec[]; stop?: () => Promise<void> }>;
}

const EXIT_CONFIG = 2;
const EXIT_FATAL = 3;

export async function runService<C>(def: ServiceDefinition<C>, argv = process.argv.slice(2)): Promise<void> {
  const flagOptions: Record<string, { type: 'string' }> = {};
  for (const f of Object.keys(def.flags ?? {})) flagOptions[f] = { type: 'string' };
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, set: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' }, ...flagOptions },
    });
  } catch (e) {
    console.error(`sluice ${def.name}: ${(e as Error).message}\nRun with --help for usage.`);
    process.exit(EXIT_CONFIG);
  }
  if (args.values.help) {
    console.log(usage(def));
    return;
  }
  const overrides: Record<string, unknown> = {};
  for (const [f, spec] of Object.entries(def.flags ?? {})) {
    const v = (args.values as Record<string, unknown>)[f];
    if (typeof v === 'string') overrides[spec.key] = v;
  }
  for (const kv of args.values.set ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) {
      console.error(`sluice ${def.name}: --set expects key=value, got "${kv}"`);
      process.exit(EXIT_CONFIG);
    }
    // Parsed as YAML like SLUICE__… environment values, so `--set sink.replica=1` is a number.
    overrides[kv.slice(0, i)] = parseScalar(kv.slice(i + 1));
  }
  let config: CommonConfig & C;
  try {
    config = loadConfig<C>({ section: def.name, sectionSchema: def.sectionSchema, file: args.values.config, overrides });
    def.validate?.(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`sluice ${def.name}: ${e.message}`);
      process.exit(EXIT_CONFIG);
    }
    throw e;
  }
  const log = createLogger(def.name, config.log.level);
  try {
    await start(def, config, log);
  } catch (e) {
    if (e instanceof ConfigError) {
      log.error({ err: e.message }, 'configuration error');
      console.error(`sluice ${def.name}: ${e.message}`);
      process.exit(EXIT_CONFIG);
    }
    log.fatal({ err: (e as Error).message, stack: (e as Error).stack }, 'service failed to start');
    process.exit(1);
  }
}

/**
 * JetStream API requests (stream / consumer info, create, delete) at start: on a busy server with
 * `sync_interval: always` they can take longer than the client's 5 s default, and a sink recreating a few dozen
 * consumers then crash-looped at start (the chaos suite saw it). Publishes keep their own timeout.
 */
export const JS_API_TIMEOUT_MS = 30_000;

async function start<C>(def: ServiceDefinition<C>, config: CommonConfig & C, log: Logger): Promise<void> {
  const metrics = createMetrics(def.name);
  const nc = await connectNats({ ...config.nats, name: config.nats.name ?? `sluice-${def.name}` }, { maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  log.info({ server: nc.info?.version, url: redactUrl(config.nats.url) }, 'connected to NATS');
  const jsm = await jetstreamManager(nc, { timeout: JS_API_TIMEOUT_MS });
  const js = jetstream(nc);
  await provisionTopology(nc, jsm, config);

  const ctx: ServiceContext<C> = { stage: def.name, config, nc, js, jsm, log, metrics };
  const { inputs, stop: stopService } = await def.setup(ctx);

  let exitCode = 0;
  let shuttingDown: Promise<void> | undefined;
  const loops: ConsumeLoop[] = [];
  const shutdown = (code: number, why: string) => {
    exitCode = Math.max(exitCode, code);
    shuttingDown ??= (async () => {
      log.info({ why }, 'shutting down: stop fetching, finish in-flight work, drain');
      const grace = setTimeout(() => {
        log.error('grace period over; exiting with work unfinished (it will be redelivered)');
        process.exit(exitCode || 1);
      }, config.shutdownGraceSeconds * 1000);
      grace.unref();
      await Promise.all(loops.map((l) => l.stopFetching()));
      // The service stops its sources or flushes its buffers (the sink commits) so in-flight work can finish.
      await stopService?.();
      await Promise.all(loops.map((l) => l.idle()));
      await health.close();
      await nc.drain().catch(() => undefined);
      clearTimeout(grace);
      log.info({ exitCode }, 'stopped');
      process.exit(exitCode);
    })();
    return shuttingDown;
  };

  for (const input of inputs) {
    await ensureConsumer(jsm, { stream: input.stream, durable: input.durable, filterSubject: input.filterSubject, description: `sluice ${def.name}`, resumeAfterSeq: input.resumeAfterSeq }, config.consumer);
    const consumer = await js.consumers.get(input.stream, input.durable);
    const loop = new ConsumeLoop({
      stage: def.name,
      js,
      consumer,
      stream: input.stream,
      handler: input.handler,
      cfg: config.consumer,
      maxInFlight: input.maxInFlight,
      inFlightBytes: input.inFlightBytes,
      log,
      metrics,
      onFatal: (e) => void shutdown(EXIT_FATAL, e.message),
    });
    loop.start();
    loops.push(loop);
    log.info({ stream: input.stream, durable: input.durable, filter: input.filterSubject }, 'consuming');
  }

  const lag = setInterval(() => {
    for (const input of inputs) {
      jsm.consumers
        .info(input.stream, input.durable)
        .then((info) => {
          metrics.consumerPending.set({ consumer: input.durable }, info.num_pending);
          metrics.consumerAckPending.set({ consumer: input.durable }, info.num_ack_pending);
        })
        .catch(() => undefined);
    }
  }, 5000);
  lag.unref();

  const health = await startHealthServer({
    host: config.http.host,
    port: config.http.port,
    registry: metrics.registry,
    ready: async () => {
      if (nc.isClosed()) return 'NATS connection closed';
      for (const input of inputs) {
        try {
          await jsm.consumers.info(input.stream, input.durable);
        } catch (e) {
          return `consumer ${input.stream}/${input.durable}: ${(e as Error).message}`;
        }
      }
      return null;
    },
  });
  log.info({ port: health.port }, 'health and metrics listening');

  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
  process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
  void nc.closed().then((err) => {
    if (err && !shuttingDown) {
      log.error({ err: err.message }, 'NATS connection closed');
      void shutdown(1, 'nats closed');
    }
  });
}

function usage<C>(def: ServiceDefinition<C>): string {
  const flags = Object.entries(def.flags ?? {})
    .map(([f, s]) => `  --${f} VALUE`.padEnd(26) + `${s.help} (config key ${s.key})`)
    .join('\n');
  return `sluice ${def.name} — ${def.description}

Usage: sluice-${def.name} [--config FILE] [--set key=value ...]${def.flags ? ' [flags]' : ''}

Options:
  -c, --config FILE       pipeline YAML config (default: $SLUICE_CONFIG); this service reads the common
                          sections (nats, http, log, streams, consumer) and its own section "${def.name}"
  --set key=value         override one config key, e.g. --set http.port=9101 (repeatable)
${flags ? flags + '\n' : ''}  -h, --help              show this help

Environment: SLUICE__SECTION__KEY=value overrides a key (e.g. SLUICE__NATS__URL=nats://nats:4222).
Endpoints: /healthz, /readyz, /metrics on http.host:http.port.
Exit codes: 0 stopped cleanly, 1 failure, 2 configuration error, 3 stopped by a fatal stage error (an expect_or_fail expectation, a failed consume loop).`;
}
