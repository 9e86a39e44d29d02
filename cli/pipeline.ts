// Starts the whole pipeline locally, each service as its own process on one config file: used by `sluice dev`,
// `sluice demo` and the end-to-end tests (which kill and restart services through this handle).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { families } from '@sluice/sources';
import { freePort, stopChild } from './natsProcess.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface PipelineOptions {
  workDir: string;
  natsUrl: string;
  webhookUrl?: string;
  httpPort?: number;
  /** Extra config merged over the generated defaults (per section). */
  overrides?: Record<string, Record<string, unknown>>;
  /** Receives each output line of every service, prefixed by its name. */
  onLog?: (service: string, line: string) => void;
  logLevel?: string;
  /** Extra environment per service (e.g. SLUICE_FAULT for fault tests). */
  serviceEnv?: Record<string, Record<string, string>>;
  /**
   * Sink processes (default 1, named `sink`). K > 1 starts `sink-0` … `sink-<K-1>` with `--set sink.replica=i
   * --set sink.replicas=K`, each writing its share of the silver event partitions and of the raw partitions (bronze); replica 0 also gold, quarantine and unrouted.
   */
  sinkReplicas?: number;
  /** Sources (default LOCAL_SOURCES: one per family, `inbox/<family>`). */
  sources?: readonly LocalSource[];
  /** streams.eventPartitions (and rawPartitions) in the generated config; default 1 for one sink, 4 (at least K) for K replicas. */
  eventPartitions?: number;
  /**
   * Processes per stateless service (default 1 each, named as usual). N > 1 starts `<name>-0` … `<name>-<N-1>` with
   * the same arguments: they share the service's durable consumers (e.g. `replicas: { splitter: 2, parser: 2 }`,
   * where `parser` counts for every parser process).
   */
  replicas?: { splitter?: number; parser?: number; enricher?: number; notifier?: number };
  /** Detector processes (default 1, named `detector`). K > 1 starts `detector-0` … with `--set detector.replica=i --set detector.replicas=K`. */
  detectorReplicas?: number;
}

export interface ServiceProcess {
  name: string;
  script: string;
  args: string[];
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface Pipeline {
  configFile: string;
  /** The Defender inbox (`inbox/defender`); `inboxOf(source)` for the others. */
  inbox: string;
  inboxOf(source: string): string;
  lakePath: string;
  httpUrl: string;
  services: Map<string, ServiceProcess>;
  /** SIGKILL (or another signal) one service; `restart` starts it again with the same arguments. */
  kill(name: string, signal?: NodeJS.Signals): Promise<number | null>;
  restart(name: string, env?: Record<string, string>): Promise<void>;
  /** Starts one more service process (scaling up, or a replica with other arguments). */
  launch(name: string, script: string, args: string[], env?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops one service process (SIGTERM, then SIGKILL after 30 s) and forgets it (scaling down). */
  remove(name: string): Promise<number | null>;
  stop(): Promise<Map<string, number | null>>;
}

export interface LocalSource {
  source: string;
  family: string;
}

/** Sources of the local pipeline, one per family: each has an inbox folder `inbox/<source>` watched by the collector. */
export const LOCAL_SOURCES: readonly LocalSource[] = Object.keys(families).map((f) => ({ source: f, family: f }));

export function serviceList(
  sinkReplicas = 1,
  sources: readonly LocalSource[] = LOCAL_SOURCES,
  scale: Pick<PipelineOptions, 'replicas' | 'detectorReplicas'> = {},
): { name: string; script: string; args: string[] }[] {
  const s = (n: string) => join(REPO_ROOT, 'services', n, 'main.ts');
  const others = sources.filter((src) => src.source !== 'defender');
  const sinks =
    sinkReplicas <= 1
      ? [{ name: 'sink', script: s('sink'), args: [] as string[] }]
      : Array.from({ length: sinkReplicas }, (_, i) => ({ name: `sink-${i}`, script: s('sink'), args: ['--set', `sink.replica=${i}`, '--set', `sink.replicas=${sinkReplicas}`] }));
  const many = (n: number | undefined, list: { name: string; script: string; args: string[] }[]) =>
    (n ?? 1) <= 1 ? list : list.flatMap((x) => Array.from({ length: n! }, (_, i) => ({ ...x, name: `${x.name}-${i}` })));
  const k = scale.detectorReplicas ?? 1;
  const detectors =
    k <= 1
      ? [{ name: 'detector', script: s('detector'), args: [] as string[] }]
      : Array.from({ length: k }, (_, i) => ({ name: `detector-${i}`, script: s('detector'), args: ['--set', `detector.replica=${i}`, '--set', `detector.replicas=${k}`] }));
  return [
    { name: 'collector', script: s('collector'), args: [] },
    ...many(scale.replicas?.splitter, [{ name: 'splitter', script: s('splitter'), args: [] }]),
    // Defender (the busiest, 23 categories) gets its own parser process; one more parses every other source
    // (one consumer per category each), to keep a laptop pipeline to a handful of processes.
    ...many(scale.replicas?.parser, [
      ...sources.filter((src) => src.source === 'defender').map((src) => ({ name: `parser-${src.source}`, script: s('parser'), args: ['--source', src.source, '--family', src.family] })),
      ...(others.length ? [{ name: 'parser-others', script: s('parser'), args: ['--set', `parser.sources=${JSON.stringify(others)}`] }] : []),
    ]),
    ...many(scale.replicas?.enricher, [{ name: 'enricher', script: s('enricher'), args: [] }]),
    ...detectors,
    ...many(scale.replicas?.notifier, [{ name: 'notifier', script: s('notifier'), args: [] }]),
    ...sinks,
  ];
}

/** Event partitions for the generated config: as given, else 1 for one sink and max(4, K) for K replicas. */
export function eventPartitionsOf(o: Pick<PipelineOptions, 'sinkReplicas' | 'eventPartitions'>): number {
  const k = o.sinkReplicas ?? 1;
  return o.eventPartitions ?? (k > 1 ? Math.max(4, k) : 1);
}

export async function writePipelineConfig(o: PipelineOptions): Promise<{ file: string; inbox: string; lakePath: string; httpPort: number }> {
  mkdirSync(o.workDir, { recursive: true });
  const sources = o.sources ?? LOCAL_SOURCES;
  const inbox = join(o.workDir, 'inbox', 'defender');
  for (const src of sources) mkdirSync(join(o.workDir, 'inbox', src.source), { recursive: true });
  const lakePath = join(o.workDir, 'lake');
  mkdirSync(inbox, { recursive: true });
  const httpPort = o.httpPort ?? (await freePort());
  const cfg: Record<string, Record<string, unknown>> = {
    nats: { url: o.natsUrl },
    http: { host: '127.0.0.1' },
    log: { level: o.logLevel ?? 'info' },
    streams: { maxAgeHours: 72, eventPartitions: eventPartitionsOf(o), rawPartitions: eventPartitionsOf(o) },
    consumer: { ackWaitSeconds: 30 },
    collector: {
      directories: sources.map((src) => ({ source: src.source, path: join(o.workDir, 'inbox', src.source), pollSeconds: 1, settleSeconds: 0.5 })),
      http: { enabled: true, host: '127.0.0.1', port: httpPort },
    },
    splitter: { sources: sources.map((src) => ({ source: src.source, family: src.family })) },
    sink: { lakePath, flush: { maxLatencySeconds: 2 } },
    // State the enricher (ip_lookup) and the detector (IoCs) rebuild at start comes from the lake, then the streams.
    enricher: { attribution: { lakePath } },
    detector: { ioc: { lakePath } },
    notifier: { slack: o.webhookUrl ? { enabled: true, webhookUrl: o.webhookUrl } : { enabled: false } },
  };
  for (const [k, v] of Object.entries(o.overrides ?? {})) cfg[k] = { ...(cfg[k] ?? {}), ...v };
  const file = join(o.workDir, 'sluice.yaml');
  writeFileSync(file, `# generated by sluice for a local pipeline\n${stringify(cfg)}`);
  return { file, inbox, lakePath, httpPort };
}

export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const { file, inbox, lakePath, httpPort } = await writePipelineConfig(o);
  const services = new Map<string, ServiceProcess>();
  const launch = (name: string, script: string, args: string[], port: number, env?: Record<string, string>): ServiceProcess => {
    // SLUICE_NODE_ARGS: extra Node flags for every service process (e.g. `--cpu-prof --cpu-prof-dir=prof`, which
    // NODE_OPTIONS does not accept).
    const nodeArgs = (process.env.SLUICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, '--config', file, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...(env ?? o.serviceEnv?.[name]), SLUICE__HTTP__PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) o.onLog?.(name, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const sp: ServiceProcess = { name, script, args, port, child, exited };
    services.set(name, sp);
    return sp;
  };
  for (const s of serviceList(o.sinkReplicas, o.sources, o)) launch(s.name, s.script, s.args, await freePort());
  const pipeline: Pipeline = {
    configFile: file,
    inbox,
    inboxOf: (source) => join(o.workDir, 'inbox', source),
    lakePath,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    services,
    async kill(name, signal = 'SIGKILL') {
      const sp = services.get(name);
      if (!sp) throw new Error(`no service ${name}`);
      sp.child.kill(signal);
      return sp.exited;
    },
    async restart(name, env) {
      const sp = services.get(name);
      if (!sp) throw new Error(`no service ${name}`);
      if (sp.child.exitCode === null && sp.child.signalCode === null) await stopChild(sp.child);
      launch(name, sp.script, sp.args, sp.port, env);
    },
    async launch(name, script, args, env) {
      if (services.has(name)) throw new Error(`service ${name} exists`);
      return launch(name, script, args, await freePort(), env);
    },
    async remove(name) {
      const sp = services.get(name);
      if (!sp) throw new Error(`no service ${name}`);
      await stopChild(sp.child, 'SIGTERM', 30_000);
      services.delete(name);
      return sp.child.exitCode;
    },
    async stop() {
      const codes = new Map<string, number | null>();
      // Sources first, so downstream stages can finish what is in flight.
      const order = [...services.keys()];
      const collector = services.get('collector');
      if (collector) {
        await stopChild(collector.child);
        codes.set('collector', collector.child.exitCode);
      }
      await Promise.all(
        order
          .filter((n) => n !== 'collector')
          .map(async (n) => {
            const sp = services.get(n)!;
            await stopChild(sp.child, 'SIGTERM', 30_000);
            codes.set(n, sp.child.exitCode);
          }),
      );
      return codes;
    },
  };
  return pipeline;
}

/** Waits until every service answers /readyz (or throws naming the ones that do not). */
export async function waitReady(p: Pipeline, timeoutMs = 60_000, names?: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(names ?? p.services.keys());
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const sp = p.services.get(name)!;
      if (sp.child.exitCode !== null) throw new Error(`service ${name} exited with code ${sp.child.exitCode} before becoming ready`);
      const ok = await fetch(`http://127.0.0.1:${sp.port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) pending.delete(name);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`services not ready after ${timeoutMs} ms: ${[...pending].join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
