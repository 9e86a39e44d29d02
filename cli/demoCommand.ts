// `sluice demo`: starts a fresh local pipeline, feeds the bundled examples of every source family (directory + HTTP), waits until
// everything is committed, prints the tables with row counts and the alert the local Slack receiver got, then stops.
import { jetstreamManager } from '@nats-io/jetstream';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectNats } from '@sluice/runtime';
import { startWebhookReceiver } from '@sluice/slack';
import { prefixLogger } from './devCommand.ts';
import { formatSummary, summarise } from './lakeTables.ts';
import { startLocalNats } from './natsProcess.ts';
import { LOCAL_SOURCES, REPO_ROOT, startPipeline, waitReady } from './pipeline.ts';
import { waitIdle } from './streamStatus.ts';

export async function runDemo(o: { workDir: string; verbose: boolean }): Promise<number> {
  const t0 = performance.now();
  const step = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}`);
  rmSync(o.workDir, { recursive: true, force: true });
  const nats = await startLocalNats(o.workDir);
  step(`nats-server with JetStream on ${nats.url}`);
  const receiver = await startWebhookReceiver({ port: 0 });
  step(`local Slack webhook receiver on ${receiver.url}`);
  const pipeline = await startPipeline({ workDir: o.workDir, natsUrl: nats.url, webhookUrl: receiver.url, onLog: prefixLogger(!o.verbose) });
  let code = 0;
  try {
    await waitReady(pipeline, 90_000);
    step(`${pipeline.services.size} services ready: ${[...pipeline.services.keys()].join(', ')}`);
    const nc = await connectNats({ url: nats.url });
    const jsm = await jetstreamManager(nc);
    // Leases and network sessions first: the enricher stamps events with who held their IPs (ip_lookup) only once
    // the lease has reached it.
    const copyExamples = (srcs: typeof LOCAL_SOURCES) => {
      for (const src of srcs) {
        const dir = join(REPO_ROOT, 'examples', src.family);
        for (const f of readdirSync(dir).filter((f) => !f.endsWith('.md'))) copyFileSync(join(dir, f), join(pipeline.inboxOf(src.source), f));
      }
    };
    const leases = LOCAL_SOURCES.filter((s) => (s.family === 'dhcp' || s.family === 'ise') && existsSync(join(REPO_ROOT, 'examples', s.family)));
    copyExamples(leases);
    await new Promise((r) => setTimeout(r, 2000));
    await waitIdle(jsm, { timeoutMs: 120_000, stableMs: 2000 });
    step(`copied the examples of ${leases.map((s) => s.family).join(', ')} (leases, sessions) first: ip_lookup is built`);
    const samples = join(REPO_ROOT, 'examples', 'defender');
    const files = readdirSync(samples).filter((f) => f.endsWith('.json') || f.endsWith('.ndjson') || f.endsWith('.gz')).sort();
    // One Defender sample goes through the HTTP source, the others through the watched directory.
    const posted = files.find((f) => f.endsWith('.json'));
    const dropped = files.filter((f) => f !== posted);
    for (const f of dropped) copyFileSync(join(samples, f), join(pipeline.inbox, f));
    step(`copied ${dropped.length} Defender sample files into ${pipeline.inbox}`);
    if (posted) {
      const res = await fetch(`${pipeline.httpUrl}/ingest/defender`, { method: 'POST', body: readFileSync(join(samples, posted)) });
      step(`POST ${posted} → ${res.status} ${(await res.text()).trim()}`);
    }
    // Every other family's examples through its own inbox (examples/README.md says what each produces).
    const others = LOCAL_SOURCES.filter((s) => s.source !== 'defender' && !leases.includes(s) && existsSync(join(REPO_ROOT, 'examples', s.family)));
    copyExamples(others);
    step(`copied the examples of ${others.map((s) => s.family).join(', ')} into their inboxes`);
    await new Promise((r) => setTimeout(r, 2000));
    await waitIdle(jsm, { timeoutMs: 120_000, stableMs: 3000 });
    await nc.close();
    step('pipeline idle: everything committed');
    console.log(`\nDelta tables in ${pipeline.lakePath}:\n`);
    console.log(formatSummary(await summarise(pipeline.lakePath)));
    console.log(`\nSlack posts received by the local webhook (${receiver.posts.length}):`);
    for (const p of receiver.posts) console.log(`  ${(p.body as { text?: string }).text ?? JSON.stringify(p.body)}`);
    if (receiver.posts.length === 0) code = 1;
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    code = 1;
  } finally {
    const codes = await pipeline.stop();
    await receiver.close();
    await nats.stop();
    const bad = [...codes.entries()].filter(([, c]) => c !== 0);
    if (bad.length) {
      console.error(`services exited non-zero: ${bad.map(([n, c]) => `${n}=${c}`).join(', ')}`);
      code = 1;
    }
    step(`stopped all services${code === 0 ? ' cleanly' : ''}; demo wall time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`Tables stay in ${pipeline.lakePath} (readable by Spark, delta-rs, DuckDB).`);
  }
  return code;
}
