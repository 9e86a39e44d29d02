// The command line as a user meets it: --help everywhere, config errors that name the key, and `sluice dev`
// starting every service and stopping cleanly on Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cli/pipeline.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a command to completion without blocking this worker's event loop (vitest's RPC times out on a blocked one). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('sluice CLI and services', () => {
  it('prints help for the CLI, each command and each service', async () => {
    const top = await run(['cli/main.ts', '--help']);
    expect(top.status).toBe(0);
    for (const c of ['demo', 'dev', 'status', 'tables', 'provision']) expect(top.stdout).toContain(c);
    for (const c of ['demo', 'dev', 'status', 'tables', 'provision']) {
      const r = await run(['cli/main.ts', c, '--help']);
      expect(r.status, c).toBe(0);
      expect(r.stdout).toMatch(/^Usage: sluice /);
    }
    for (const s of ['collector', 'splitter', 'parser', 'enricher', 'detector', 'notifier', 'sink']) {
      const r = await run([`services/${s}/main.ts`, '--help']);
      expect(r.status, s).toBe(0);
      expect(r.stdout).toContain(`sluice ${s} — `);
    }
    const bad = await run(['cli/main.ts', 'frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  it('exits 2 with a message naming the bad key', async () => {
    const f = join(tmp, 'bad.yaml');
    writeFileSync(f, 'nats: { url: nats://127.0.0.1:1 }\nsink:\n  flush: { maxRow: 10 }\n');
    const r = await run(['services/sink/main.ts', '--config', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('sink.flush.maxRow: unknown key');

    const p = await run(['services/parser/main.ts', '--config', f, '--set', 'parser.categories=conn']);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('parser.categories: must be array');

    const env = await run(['services/collector/main.ts', '--config', f], { SLUICE__HTTP__PORT: 'eighty' });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('http.port: must be integer');

    const slack = await run(['services/notifier/main.ts', '--config', f, '--set', 'notifier.slack.webhookUrl=ftp://x']);
    expect(slack.status).toBe(2);
    expect(slack.stderr).toContain('notifier.slack.webhookUrl: must match pattern');

    const missing = await run(['services/splitter/main.ts', '--config', join(tmp, 'nope.yaml')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml/);
  });

  it('parser refuses an unknown category by name', async () => {
    const f = join(tmp, 'p.yaml');
    writeFileSync(f, 'nats: { url: nats://127.0.0.1:1 }\n');
    // Validation of the category happens before connecting, so no server is needed.
    const r = await run(['services/parser/main.ts', '--config', f, '--category', 'DeviceNope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown category "DeviceNope" of family defender');
  });

  it('sluice dev starts every service and stops them all cleanly on SIGINT', async () => {
    const work = join(tmp, 'dev');
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'dev', '--work', work, '--quiet'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 120_000;
    while (!/services ready/.test(out)) {
      if (child.exitCode !== null) throw new Error(`dev exited early: ${out}`);
      if (Date.now() > deadline) throw new Error(`dev not ready: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toMatch(/8 services ready/);
    // `sluice status` against the dev pipeline's server lists every stream and the services' consumers.
    const url = /NATS (nats:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    const status = await run(['cli/main.ts', 'status', '--nats', url!, '--interval', '1']);
    expect(status.status).toBe(0);
    for (const s of ['RAW', 'CATEGORIZED', 'PARSED', 'EVENTS', 'ALERTS', 'QUARANTINE', 'DLQ']) expect(status.stdout).toMatch(new RegExp(`^${s}\\s`, 'm'));
    for (const c of ['splitter-defender', 'parser-defender-DeviceLogonEvents', 'enricher', 'sink-bronze-p0', 'detector-vulnerable_service_listening-defender_device_network_events-r0']) expect(status.stdout).toContain(`  ${c} `);
    expect(status.stdout.split('\n')[0]).toMatch(/stream \/ consumer\s+messages\s+pending\s+ack pending\s+redelivered\s+msgs\/s\s+behind/);
    // --watch redraws until stopped: at least two frames, each a full table (idle stages are 0 s behind).
    const watch = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'status', '--nats', url!, '--interval', '0.5', '--watch'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let frames = '';
    watch.stdout.on('data', (d: Buffer) => (frames += d.toString()));
    const watchDeadline = Date.now() + 30_000;
    while ((frames.match(/^sluice status /gm) ?? []).length < 2 && Date.now() < watchDeadline) await new Promise((r) => setTimeout(r, 200));
    watch.kill('SIGINT');
    expect((frames.match(/^sluice status /gm) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(frames).toMatch(/^ {2}enricher\s.*\s0s$/m);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(out).toContain('all services stopped cleanly');
    expect(code).toBe(0);
  });
});
