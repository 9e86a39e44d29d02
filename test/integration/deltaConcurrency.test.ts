// Four writer processes append to one Delta table at once (optimistic concurrency by put-if-absent): the table holds
// exactly the sum of their rows, each row once, versions contiguous, one commit per append.
// Duration: SLUICE_DELTA_CONCURRENCY_SECONDS (default 10; CI's interop run uses 60).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readTable } from '@sluice/delta';
import { REPO_ROOT } from '../../cli/pipeline.ts';

const SECONDS = Number(process.env.SLUICE_DELTA_CONCURRENCY_SECONDS ?? 10);

it(`4 processes appending for ${SECONDS} s lose and double nothing`, { timeout: (SECONDS + 120) * 1000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-delta-conc-'));
  try {
    const root = join(dir, 't');
    // Create the table first so the four writers race on appends, not on version 0.
    const create = spawn(process.execPath, ['--import', 'tsx', 'test/support/deltaWriterProcess.ts', root, 'init', '0'], { cwd: REPO_ROOT, stdio: 'pipe' });
    await new Promise((r) => create.once('exit', r));
    const results = await Promise.all(
      [0, 1, 2, 3].map(
        (w) =>
          new Promise<{ writer: string; rows: number; commits: number }>((resolve, reject) => {
            const p = spawn(process.execPath, ['--import', 'tsx', 'test/support/deltaWriterProcess.ts', root, `w${w}`, String(SECONDS)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
            let out = '';
            let err = '';
            p.stdout.on('data', (d: Buffer) => (out += d.toString()));
            p.stderr.on('data', (d: Buffer) => (err += d.toString()));
            p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`writer ${w} exited ${code}: ${err}`))));
          }),
      ),
    );
    const { rows } = await readTable(root);
    const expected = results.reduce((n, r) => n + r.rows, 0);
    expect(rows.length).toBe(expected);
    expect(new Set(rows.map((r) => `${r.writer}#${r.seq}`)).size).toBe(expected);
    for (const r of results) expect(rows.filter((x) => x.writer === r.writer).length).toBe(r.rows);
    const commits = readdirSync(join(root, '_delta_log')).filter((f) => /^\d{20}\.json$/.test(f)).sort();
    const totalCommits = results.reduce((n, r) => n + r.commits, 0);
    expect(commits.length).toBe(totalCommits + 1); // + version 0
    commits.forEach((f, i) => expect(Number(f.slice(0, 20))).toBe(i));
    const ids = commits.slice(1).map((f) => (JSON.parse(readFileSync(join(root, '_delta_log', f), 'utf8').split('\n')[0]!) as { commitInfo: { txnId: string } }).commitInfo.txnId);
    expect(new Set(ids).size).toBe(totalCommits);
    console.log(`delta concurrency: 4 writers × ${SECONDS} s → ${totalCommits} commits, ${expected} rows`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
