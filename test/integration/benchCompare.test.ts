// Smoke test of the side-by-side benchmark (test/bench/compare/main.ts): the sluice in-process engine on 2 000
// generated events must leave a partitioned Delta table holding exactly those rows, print its table, and write a
// results.json with every field of a row. The Python engines (DuckDB, Spark) and the whole pipeline are not run here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTable } from '@sluice/delta';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../bench/compare/report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'sluice-bench-compare-test-'));
let workDir: string | undefined;

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('bench:compare', () => {
  it('runs the sluice parser+sink engine on 2 000 events, verifies the table and reports every field', async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/compare/main.ts', '--events', '2000', '--engines', 'sluice', '--out', out, '--keep'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);

    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CompareReport & { workDir?: string };
    workDir = report.workDir;
    expect(report.events).toBe(2000);
    expect(report.inputFiles).toBe(1);
    expect(report.skipped).toEqual([]);
    expect(report.machine.nproc).toBeGreaterThan(0);
    expect(report.machine.loadBefore).toHaveLength(3);
    expect(report.machine.loadAfter).toHaveLength(3);
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0]!;
    expect(Object.keys(row).sort()).toEqual(
      ['engine', 'events', 'wallSeconds', 'cpuSeconds', 'eventsPerCoreSecond', 'cpuSecondsPerMillion', 'peakRssBytes', 'outputBytes', 'files', 'rows', 'expectedRows', 'rowsOk', 'countedBy', 'detail'].sort(),
    );
    expect(row).toMatchObject({ engine: 'sluice parser+sink', events: 2000, rows: 2000, expectedRows: 2000, rowsOk: true });
    expect(row.detail.eventsParsed).toBe(2000);
    expect(row.cpuSeconds).toBeGreaterThan(0);
    // Derived from the unrounded CPU seconds; the JSON keeps cpuSeconds to 0.01 s.
    expect(Math.abs(row.eventsPerCoreSecond * row.cpuSeconds - 2000)).toBeLessThan(2000 * (0.006 / row.cpuSeconds) + 1);
    expect(row.cpuSecondsPerMillion).toBeCloseTo((row.cpuSeconds / 2000) * 1e6, -1);
    expect(row.peakRssBytes).toBeGreaterThan(0);
    expect(row.outputBytes).toBeGreaterThan(0);
    // 36 hours of event time from midnight: two or three eventDate partitions, one file each in one commit.
    expect(row.files).toBeGreaterThanOrEqual(2);

    // The table itself, read back with sluice's reader: every event once, typed, partitioned by eventDate.
    const table = await readTable(join(workDir!, 'tables', 'sluice'));
    expect(table.rows).toHaveLength(2000);
    expect(new Set(table.rows.map((x) => x.ReportId)).size).toBe(2000);
    expect(table.rows.every((x) => typeof x.Timestamp === 'number' && typeof x.eventDate === 'number' && typeof x.DeviceId === 'string')).toBe(true);

    expect(r.stdout).toContain('| engine ');
    expect(r.stdout).toMatch(/\| sluice parser\+sink \| +2,000 \|.*\| yes \(2,000\) \|/);
  });
});
