// `sluice dev`: local nats-server + every service as its own process, until Ctrl-C; then a clean stop.
import { join } from 'node:path';
import { startLocalNats } from './natsProcess.ts';
import { REPO_ROOT, startPipeline, waitReady, type Pipeline } from './pipeline.ts';

export interface DevOptions {
  workDir: string;
  natsUrl?: string;
  webhookUrl?: string;
  httpPort?: number;
  quiet?: boolean;
}

const COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

export function prefixLogger(quiet: boolean): (service: string, line: string) => void {
  const colorOf = new Map<string, number>();
  return (service, line) => {
    if (quiet && !/"level":(40|50|60)/.test(line)) return;
    if (!colorOf.has(service)) colorOf.set(service, COLORS[colorOf.size % COLORS.length]!);
    const tty = process.stdout.isTTY;
    const name = service.padEnd(30).slice(0, 30);
    process.stdout.write(`${tty ? `\x1b[${colorOf.get(service)}m${name}\x1b[0m` : name} ${line}\n`);
  };
}

export async function runDev(o: DevOptions): Promise<void> {
  const nats = o.natsUrl ? undefined : await startLocalNats(o.workDir);
  const natsUrl = o.natsUrl ?? nats!.url;
  console.log(`sluice dev: NATS ${natsUrl}${nats ? ` (local nats-server, store ${join(o.workDir, 'nats')})` : ''}`);
  // Ctrl-C may arrive while services are still starting: stop whatever has started.
  const started: { pipeline?: Pipeline } = {};
  const stop = async (code: number) => {
    console.log('\nsluice dev: stopping services…');
    const codes = await started.pipeline?.stop();
    await nats?.stop();
    const bad = [...(codes ?? new Map()).entries()].filter(([, c]) => c !== 0);
    console.log(bad.length ? `sluice dev: stopped; non-zero exits: ${bad.map(([n, c]) => `${n}=${c}`).join(', ')}` : 'sluice dev: all services stopped cleanly');
    process.exit(code || (bad.length ? 1 : 0));
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  const pipeline = await startPipeline({ workDir: o.workDir, natsUrl, webhookUrl: o.webhookUrl, httpPort: o.httpPort, onLog: prefixLogger(!!o.quiet) });
  started.pipeline = pipeline;
  await waitReady(pipeline);
  console.log(`sluice dev: ${pipeline.services.size} services ready.
  drop Defender NDJSON / JSON files into ${pipeline.inbox}
  or POST them:   curl -X POST --data-binary @${join(REPO_ROOT, 'examples/defender/payloads-01.json')} ${pipeline.httpUrl}/ingest/defender
  tables:         npx tsx cli/main.ts tables --lake ${pipeline.lakePath}
  status:         npx tsx cli/main.ts status --nats ${natsUrl}
  Ctrl-C stops everything.`);
}
