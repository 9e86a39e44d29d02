// Chaos-suite fault injection: a seeded plan of faults (kill -9 + restart per service kind, crashes at the named
// fault points, kill -9 of nats-server, backpressure on a full RAW stream, scaling replicas up and down), run one
// after another at random gaps while traffic flows, each logged; and a supervisor that restarts any service that
// died (as Kubernetes would), without the fault it was armed with.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { LocalNats } from '../../cli/natsProcess.ts';
import type { Pipeline } from '../../cli/pipeline.ts';
import { Rng } from '../fixtures/seededRng.ts';

export type FaultKind =
  | 'kill:collector'
  | 'kill:splitter'
  | 'kill:parser'
  | 'kill:enricher'
  | 'kill:detector'
  | 'kill:notifier'
  | 'kill:sink'
  | 'point:sink.beforeCommit'
  | 'point:sink.afterCommit'
  | 'kill:nats-server'
  | 'backpressure'
  | 'scale:stateless'
  | 'scale:sink'
  | 'scale:detector';

export const FAULT_KINDS: FaultKind[] = [
  'kill:collector',
  'kill:splitter',
  'kill:parser',
  'kill:enricher',
  'kill:detector',
  'kill:notifier',
  'kill:sink',
  'point:sink.beforeCommit',
  'point:sink.afterCommit',
  'kill:nats-server',
  'backpressure',
  'scale:stateless',
  'scale:sink',
  'scale:detector',
];

export interface ChaosContext {
  pipeline: Pipeline;
  nats: LocalNats;
  jsm: () => Promise<JetStreamManager>;
  log: (line: string) => void;
  /** Current replica counts of the partitioned services. */
  sinkReplicas: number;
  detectorReplicas: number;
  /** streams.maxBytes of the chaos config (restored after a backpressure phase). */
  maxBytes: number;
  /** HTTP 503s the feeder saw (the collector refusing while the stream is full). */
  refusals: () => number;
  /** Collector log lines saying a publish was refused since the start. */
  collectorRefusals: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection naming `what` after `ms`: a fault that never returns fails the run instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** The seeded plan: `perKind` faults of every kind, shuffled (backpressure and fault points in the first half). */
export function faultPlan(rng: Rng, perKind: number): FaultKind[] {
  const plan: FaultKind[] = [];
  for (const k of FAULT_KINDS) for (let i = 0; i < perKind; i++) plan.push(k);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  // Backpressure needs publishes to refuse and the fault points need commits to hit: those go in the first half
  // (while records are still being fed), the rest keep their shuffled order.
  const early = (k: FaultKind) => k === 'backpressure' || k.startsWith('point:');
  const first = plan.filter(early);
  const rest = plan.filter((k) => !early(k));
  const out: FaultKind[] = [];
  const step = Math.max(1, Math.floor(plan.length / 2 / Math.max(1, first.length)));
  while (first.length || rest.length) {
    for (let i = 0; i < step - 1 && rest.length; i++) out.push(rest.shift()!);
    out.push(first.length ? first.shift()! : rest.shift()!);
  }
  return out;
}

/** Service processes of one kind, by name prefix. */
function ofKind(p: Pipeline, prefix: string): string[] {
  return [...p.services.keys()].filter((n) => n === prefix || n.startsWith(`${prefix}-`)).sort();
}

export class Chaos {
  readonly injected = new Map<string, number>();
  /** Services a fault action is handling: the supervisor leaves them alone. */
  private readonly busy = new Set<string>();
  private supervising = true;
  private scaleUp = { stateless: true, sink: true, detector: true };
  restarts = 0;
  /** True while RAW is held full: the feeder keeps feeding regardless of the backlog, so publishes are refused. */
  backpressure = false;

  constructor(
    private readonly c: ChaosContext,
    private readonly rng: Rng,
  ) {}

  private count(kind: string, detail: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    this.c.log(`fault ${kind}: ${detail}`);
  }

  /** Restarts every service that exited without a fault action handling it; runs until `stop`. */
  async supervise(): Promise<void> {
    while (this.supervising) {
      for (const [name, sp] of this.c.pipeline.services) {
        if (this.busy.has(name)) continue;
        if (sp.child.exitCode === null && sp.child.signalCode === null) continue;
        this.restarts++;
        this.c.log(`supervisor: ${name} exited (${sp.child.exitCode ?? sp.child.signalCode}); restarting`);
        this.busy.add(name);
        await this.c.pipeline.restart(name, {}).finally(() => this.busy.delete(name));
      }
      await sleep(1000);
    }
  }

  stop(): void {
    this.supervising = false;
  }

  async run(kind: FaultKind): Promise<void> {
    const p = this.c.pipeline;
    const pick = (names: string[]) => names[Math.floor(this.rng.next() * names.length)]!;
    const killRestart = async (name: string, env: Record<string, string> = {}, downMs = this.rng.int(200, 3000)) => {
      this.busy.add(name);
      try {
        await p.kill(name, 'SIGKILL');
        await sleep(downMs);
        await p.restart(name, env);
      } finally {
        this.busy.delete(name);
      }
    };
    switch (kind) {
      case 'kill:collector':
      case 'kill:splitter':
      case 'kill:enricher':
      case 'kill:detector':
      case 'kill:notifier':
      case 'kill:sink':
      case 'kill:parser': {
        const name = pick(ofKind(p, kind.slice(5)));
        this.count(kind, `kill -9 ${name}, restart`);
        await killRestart(name);
        return;
      }
      case 'point:sink.beforeCommit':
      case 'point:sink.afterCommit': {
        // Restarted with SLUICE_FAULT: it kills itself at its first commit (waited for, up to 120 s: a restarting
        // sink first recreates its consumers), then it is restarted clean.
        const name = pick(ofKind(p, 'sink'));
        const point = kind.slice(6);
        await killRestart(name, { SLUICE_FAULT: `${point}:1` }, 200);
        this.busy.add(name);
        try {
          const sp = p.services.get(name)!;
          const fired = await Promise.race([sp.exited.then(() => true), sleep(120_000).then(() => false)]);
          this.count(kind, `kill -9 ${name}, restart with SLUICE_FAULT=${point}:1: ${fired ? 'it crashed there' : 'no commit within 120 s (not fired)'}; restart clean`);
          await p.restart(name, {});
        } finally {
          this.busy.delete(name);
        }
        return;
      }
      case 'kill:nats-server': {
        this.count(kind, 'kill -9 nats-server, restart on the same store');
        await within(this.c.nats.crash(), 180_000, 'kill -9 and restart of nats-server');
        return;
      }
      case 'backpressure': {
        // RAW fills up: its consumers (splitters) are stopped and its max_bytes lowered to just above what it holds,
        // so the collector's publishes are refused (discard: new) and it must hold its input and retry.
        const jsm = await this.c.jsm();
        const splitters = ofKind(p, 'splitter');
        splitters.forEach((n) => this.busy.add(n));
        try {
          await Promise.all(splitters.map((n) => p.kill(n, 'SIGTERM')));
          const info = await jsm.streams.info('RAW');
          const limit = info.state.bytes + 1024 * 1024;
          await jsm.streams.update('RAW', { ...info.config, max_bytes: limit });
          this.backpressure = true;
          const before = this.c.refusals() + this.c.collectorRefusals();
          const deadline = Date.now() + 45_000;
          while (Date.now() < deadline && this.c.refusals() + this.c.collectorRefusals() === before) await sleep(500);
          const seen = this.c.refusals() + this.c.collectorRefusals() - before;
          await sleep(3000);
          this.backpressure = false;
          const after = await jsm.streams.info('RAW');
          this.count(kind, `splitters stopped, RAW max_bytes ${limit} (held ${info.state.bytes}): ${seen} refusals seen, RAW ${after.state.bytes} bytes; restoring`);
          await jsm.streams.update('RAW', { ...after.config, max_bytes: this.c.maxBytes });
          for (const n of splitters) await p.restart(n, {});
        } finally {
          this.backpressure = false;
          splitters.forEach((n) => this.busy.delete(n));
        }
        return;
      }
      case 'scale:stateless': {
        const base = pick(['splitter', 'parser-defender', 'parser-others', 'enricher']);
        const names = ofKind(p, base).filter((n) => /-\d+$/.test(n.slice(base.length)));
        if (this.scaleUp.stateless || names.length <= 2) {
          const first = p.services.get(names[0]!)!;
          const name = `${base}-${names.length}`;
          this.count(kind, `scale ${base} ${names.length} → ${names.length + 1} (start ${name})`);
          await p.launch(name, first.script, first.args);
        } else {
          const name = names[names.length - 1]!;
          this.count(kind, `scale ${base} ${names.length} → ${names.length - 1} (stop ${name})`);
          this.busy.add(name);
          await p.remove(name).finally(() => this.busy.delete(name));
        }
        this.scaleUp.stateless = !this.scaleUp.stateless;
        return;
      }
      case 'scale:sink':
      case 'scale:detector': {
        // Partition ownership changes with the replica count: every replica of the old set stops (and commits /
        // snapshots) before the new set starts.
        const what = kind === 'scale:sink' ? 'sink' : 'detector';
        const cur = what === 'sink' ? this.c.sinkReplicas : this.c.detectorReplicas;
        const next = this.scaleUp[what] || cur <= 2 ? cur + 1 : cur - 1;
        this.scaleUp[what] = !this.scaleUp[what];
        const names = ofKind(p, what);
        const script = p.services.get(names[0]!)!.script;
        this.count(kind, `scale ${what} ${cur} → ${next} replicas (stop all, start ${next})`);
        names.forEach((n) => this.busy.add(n));
        try {
          await Promise.all(names.map((n) => p.remove(n)));
          for (let i = 0; i < next; i++) await p.launch(`${what}-${i}`, script, ['--set', `${what}.replica=${i}`, '--set', `${what}.replicas=${next}`]);
        } finally {
          names.forEach((n) => this.busy.delete(n));
        }
        if (what === 'sink') this.c.sinkReplicas = next;
        else this.c.detectorReplicas = next;
        return;
      }
    }
  }
}
