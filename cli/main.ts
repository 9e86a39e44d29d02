// The `sluice` command: run a local pipeline, watch it, look at its tables.
import { jetstreamManager } from '@nats-io/jetstream';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, connectNats, provisionTopology, loadConfig, isMain, redactUrl, type NatsConfig } from '@sluice/runtime';
import { runDemo } from './demoCommand.ts';
import { runDev } from './devCommand.ts';
import { formatSummary, isStoreUrl, summarise } from './lakeTables.ts';
import { REPO_ROOT } from './pipeline.ts';
import { runQuery } from './queryCommand.ts';
import { formatState, rates, readState } from './streamStatus.ts';

const HELP: Record<string, string> = {
  '': `sluice — security-log stream processor on NATS JetStream writing Delta Lake tables

Usage: sluice <command> [options]     (from a checkout: npx tsx cli/main.ts <command>)

Commands:
  demo        start a fresh local pipeline, feed the bundled Defender samples, print tables and the Slack alert, stop
  dev         start a local nats-server and every service as its own process until Ctrl-C
  status      streams and consumers: messages, pending, ack pending, rates
  tables      Delta tables under a lake folder with row and file counts
  query       who held an IP address at a time (gold ip_lookup table: DHCP leases, ISE sessions)
  provision   create or update streams and KV buckets on a NATS server

Run 'sluice <command> --help' for a command's options.`,
  demo: `Usage: sluice demo [--work DIR] [--verbose]

  --work DIR    work folder (deleted and recreated; default .sluice/demo)
  --verbose     show every service's log lines (default: warnings and errors only)`,
  dev: `Usage: sluice dev [--work DIR] [--nats URL] [--webhook URL] [--http-port N] [--quiet]

  --work DIR      work folder for the NATS store, config, inbox and lake (default .sluice/dev)
  --nats URL      use this NATS server instead of starting a local one
  --webhook URL   Slack incoming webhook for alerts (default: notifier disabled)
  --http-port N   port of the collector's HTTP source (default: a free port)
  --quiet         show only warnings and errors from services`,
  status: `Usage: sluice status [--nats URL] [--interval SECONDS] [--watch]

  Streams and consumers (one consumer per stage input): messages, pending, ack pending, redelivered, msgs/s, and
  "behind" = age of the oldest message the stage has not finished (its latency right now).

  --nats URL        NATS server (default nats://127.0.0.1:4222 or $SLUICE__NATS__URL)
  --config FILE     pipeline YAML whose nats section (credentials files, TLS) to use (default $SLUICE_CONFIG);
                    SLUICE__NATS__USER/PASS/TOKEN/CREDS_FILE/NKEY_SEED_FILE and SLUICE__NATS__TLS__CA_FILE… apply too
  --interval S      sample twice S seconds apart to show rates (default 1; 0 = no rates)
  --watch           redraw every interval until Ctrl-C (a live terminal view)`,
  tables: `Usage: sluice tables [--lake DIR|URL] [--s3-endpoint URL] [--s3-path-style]

  --lake DIR|URL     lake folder, or s3://bucket/prefix, az://container/prefix, abfss://container@account.dfs.core.windows.net/prefix
                     (default .sluice/dev/lake). Credentials come from the SDKs' standard environment and chains.
  --s3-endpoint URL  S3-compatible endpoint (MinIO, …); default AWS
  --s3-path-style    path-style S3 addressing (MinIO)`,
  query: `Usage: sluice query --ip ADDRESS --at TIME [--lake DIR|URL] [--s3-endpoint URL] [--s3-path-style]

  Who held ADDRESS at TIME: MAC, user, host name, source (dhcp | ise) and the holding interval, from the gold
  ip_lookup table (<lake>/gold/ip_lookup). Exit status 1 when nobody held it then.

  --ip ADDRESS       IPv4 or IPv6 address, e.g. 10.1.2.3
  --at TIME          ISO-8601 time, e.g. 2024-03-13T09:08:00Z
  --lake DIR|URL     lake folder or object-store URL (default .sluice/dev/lake)
  --s3-endpoint URL  S3-compatible endpoint (MinIO, …); default AWS
  --s3-path-style    path-style S3 addressing (MinIO)`,
  provision: `Usage: sluice provision [--config FILE] [--nats URL]

  Creates or updates every stream and KV bucket of the topology (idempotent).`,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd = '', ...rest] = argv;
  if (cmd === '' || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP[rest[0] ?? ''] ?? HELP['']);
    return 0;
  }
  if (!(cmd in HELP)) {
    console.error(`sluice: unknown command "${cmd}"\n\n${HELP['']}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: rest,
      options: {
        help: { type: 'boolean', short: 'h' },
        work: { type: 'string' },
        nats: { type: 'string' },
        webhook: { type: 'string' },
        'http-port': { type: 'string' },
        quiet: { type: 'boolean' },
        verbose: { type: 'boolean' },
        interval: { type: 'string' },
        watch: { type: 'boolean' },
        lake: { type: 'string' },
        's3-endpoint': { type: 'string' },
        's3-path-style': { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        ip: { type: 'string' },
        at: { type: 'string' },
      },
    }).values;
  } catch (e) {
    console.error(`sluice ${cmd}: ${(e as Error).message}\n\n${HELP[cmd]}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP[cmd]);
    return 0;
  }
  switch (cmd) {
    case 'demo':
      return runDemo({ workDir: resolve((values.work as string) ?? `${REPO_ROOT}/.sluice/demo`), verbose: !!values.verbose });
    case 'dev':
      await runDev({
        workDir: resolve((values.work as string) ?? `${REPO_ROOT}/.sluice/dev`),
        natsUrl: values.nats as string | undefined,
        webhookUrl: values.webhook as string | undefined,
        httpPort: values['http-port'] ? Number(values['http-port']) : undefined,
        quiet: !!values.quiet,
      });
      return new Promise<number>(() => undefined); // runs until Ctrl-C
    case 'status': {
      // The nats section the same way services read it: --config / $SLUICE_CONFIG, SLUICE__NATS__* (user, pass, token, credsFile, tls…).
      const nc = await connectNats(natsSection(values), { timeout: 5000 });
      const jsm = await jetstreamManager(nc);
      const interval = Number(values.interval ?? 1);
      let a = await readState(jsm, { lag: true });
      if (values.watch) {
        const period = interval > 0 ? interval : 1;
        for (;;) {
          await new Promise((r) => setTimeout(r, period * 1000));
          const b = await readState(jsm, { lag: true });
          // Clear the screen and redraw: a live view in any terminal, plain frames when piped.
          process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}sluice status ${new Date().toISOString()} (every ${period}s, Ctrl-C to stop)\n${formatState(b, rates(a, b, period))}\n\n`);
          a = b;
        }
      }
      if (interval > 0) {
        await new Promise((r) => setTimeout(r, interval * 1000));
        const b = await readState(jsm, { lag: true });
        console.log(formatState(b, rates(a, b, interval)));
      } else console.log(formatState(a));
      await nc.close();
      return 0;
    }
    case 'tables': {
      const given = (values.lake as string | undefined) ?? `${REPO_ROOT}/.sluice/dev/lake`;
      const lake = isStoreUrl(given) ? given : resolve(given);
      const s3Endpoint = values['s3-endpoint'] as string | undefined;
      const tables = await summarise(lake, { s3: { ...(s3Endpoint ? { endpoint: s3Endpoint } : {}), ...(values['s3-path-style'] ? { forcePathStyle: true } : {}) } });
      console.log(tables.length ? formatSummary(tables) : `no Delta tables under ${lake}`);
      return 0;
    }
    case 'query': {
      if (!values.ip || !values.at) {
        console.error(`sluice query: --ip and --at are required\n\n${HELP.query}`);
        return 2;
      }
      const given = (values.lake as string | undefined) ?? `${REPO_ROOT}/.sluice/dev/lake`;
      const lake = isStoreUrl(given) ? given.replace(/\/+$/, '') : resolve(given);
      const s3Endpoint = values['s3-endpoint'] as string | undefined;
      const storeOptions = { s3: { ...(s3Endpoint ? { endpoint: s3Endpoint } : {}), ...(values['s3-path-style'] ? { forcePathStyle: true } : {}) } };
      return runQuery({ table: isStoreUrl(lake) ? `${lake}/gold/ip_lookup` : join(lake, 'gold', 'ip_lookup'), ip: values.ip as string, at: values.at as string, storeOptions });
    }
    case 'provision': {
      const cfg = loadConfig<{ provision: object }>({ section: 'provision', sectionSchema: { type: 'object' }, file: values.config as string | undefined, overrides: values.nats ? { 'nats.url': values.nats } : {} });
      const nc = await connectNats(cfg.nats, { timeout: 5000 });
      await provisionTopology(nc, await jetstreamManager(nc), cfg);
      console.log(`provisioned streams and KV buckets on ${redactUrl(cfg.nats.url)}`);
      await nc.close();
      return 0;
    }
  }
  return 2;
}

/** The `nats` section for a command: config file (--config or $SLUICE_CONFIG), SLUICE__NATS__* variables, --nats. */
function natsSection(values: Record<string, string | boolean | undefined>): NatsConfig {
  return loadConfig<{ cli: object }>({ section: 'cli', sectionSchema: { type: 'object' }, file: values.config as string | undefined, overrides: values.nats ? { 'nats.url': values.nats } : {} }).nats;
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`sluice: ${e.message}`);
      process.exit(e instanceof ConfigError ? 2 : 1);
    },
  );
}
