// The alert rules (deploy/prometheus/rules.yaml) and the Grafana dashboards (deploy/grafana/*.json) against a real
// Prometheus scraping every service of a real local pipeline (nats-server, the Slack receiver, generated Defender
// data): Prometheus loads and evaluates every rule without error, every rule expression is valid PromQL, and every
// dashboard panel target returns data. The dashboards' structure (schema version, datasource variable) is checked
// without Prometheus. Skipped when `prometheus` is not installed unless SLUICE_REQUIRE_PROMETHEUS=1
// (`make test-prometheus` installs it: scripts/install-prometheus.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, stopChild } from '../../cli/natsProcess.ts';
import { REPO_ROOT } from '../../cli/pipeline.ts';
import { DEFENDER_CATEGORIES, generateDefenderRecords, toEventHubPayloads } from '../fixtures/defenderGenerator.ts';
import { feed, startHarness, waitPipelineIdle, type Harness } from '../e2e/pipelineHarness.ts';

const RULES_FILE = join(REPO_ROOT, 'deploy/prometheus/rules.yaml');
const GRAFANA_DIR = join(REPO_ROOT, 'deploy/grafana');

/**
 * Metrics the dashboards and alerts read that the sink does not export yet (defined in libs/runtime/metrics.ts,
 * createLakeMetrics). A panel target may come back empty only while its metric has no series at all in
 * Prometheus; once the sink exports it, the panel must return data like every other.
 */
const AWAITING_SINK: Record<string, string> = {
  sluice_event_lag_seconds: 'commit time − event time of each committed row',
  sluice_delta_bytes_total: 'Parquet bytes added per commit',
  sluice_delta_file_bytes: 'size of each Parquet file added',
  sluice_delta_last_checkpoint_timestamp_seconds: 'time of the last checkpoint',
  sluice_delta_partition_files: 'files in the partition last committed to',
  sluice_delta_commit_failures_total: 'failed commit attempts',
};

// ---------------------------------------------------------------------------------------------------------------
// Rules and dashboards as files

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id?: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { x: number; y: number; w: number; h: number };
}

interface TemplateVar {
  name: string;
  type: string;
  query?: unknown;
  allValue?: string;
  includeAll?: boolean;
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: TemplateVar[] };
}

function loadRules(): RuleFile {
  return parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile;
}

function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(GRAFANA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')) as Dashboard }));
}

/** Every panel, the ones inside collapsed rows included. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * A panel expression as Grafana would send it: the range variables become `window`, template variables their
 * "All" value (every template variable of these dashboards is a multi-value regex with an allValue).
 */
function resolveExpr(expr: string, vars: TemplateVar[], window: string): string {
  return expr.replace(/\$\{?(\w+)(?::\w+)?\}?/g, (whole, name: string) => {
    if (name === '__rate_interval' || name === '__interval' || name === '__range') return window;
    const v = vars.find((x) => x.name === name);
    if (!v) throw new Error(`unknown variable ${whole} in ${expr}`);
    return v.allValue ?? '.*';
  });
}

function metricNamesOf(expr: string): string[] {
  return [...new Set(expr.match(/\bsluice_[a-z_]+/g) ?? [])].map((m) => m.replace(/_(bucket|count|sum)$/, ''));
}

describe('dashboards (files)', () => {
  const dashboards = loadDashboards();

  it('has the four dashboards', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['sluice-data-quality.json', 'sluice-detections.json', 'sluice-lake.json', 'sluice-overview.json']);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: Grafana 10 schema, datasource variable, unique ids, a query per panel', (_file, d) => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(d.uid).toMatch(/^sluice-[a-z-]+$/);
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
    const panels = allPanels(d.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr, p.title).toMatch(/\S/);
        expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
      expect(p.gridPos, p.title).toBeDefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Live: a real Prometheus scraping a real pipeline

function findBinary(name: string, envVar: string): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const goBin = join(homedir(), 'go', 'bin', name);
  return existsSync(goBin) ? goBin : undefined;
}

const PROMETHEUS = findBinary('prometheus', 'PROMETHEUS_BIN');
const REQUIRED = process.env.SLUICE_REQUIRE_PROMETHEUS === '1';
if (!PROMETHEUS) {
  if (REQUIRED) throw new Error('SLUICE_REQUIRE_PROMETHEUS=1 but no prometheus binary: run scripts/install-prometheus.sh');
  console.warn('test/deploy/promql.test.ts: prometheus is not installed: the live PromQL tests are skipped (scripts/install-prometheus.sh, or make test-prometheus)');
}

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Data, not just series: at least one finite sample (a quantile of an empty histogram is NaN). */
function hasFiniteValue(r: QueryResult): boolean {
  const d = r.data;
  if (!d) return false;
  if (d.resultType === 'scalar') return Number.isFinite(Number((d.result as [number, string])[1]));
  if (d.resultType === 'vector') return (d.result as VectorSample[]).some((s) => Number.isFinite(Number(s.value[1])));
  if (d.resultType === 'matrix') return (d.result as { values: [number, string][] }[]).some((s) => s.values.some((v) => Number.isFinite(Number(v[1]))));
  return false;
}

describe.skipIf(!PROMETHEUS)('PromQL of rules and dashboards against a live Prometheus and pipeline', () => {
  let h: Harness | undefined;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let promDir = '';
  const promLog: string[] = [];
  let fedAt = 0;

  async function api<T = QueryResult>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${promUrl}${path}?${new URLSearchParams(params)}`);
    return (await res.json()) as T;
  }

  async function query(expr: string): Promise<QueryResult> {
    return api('/api/v1/query', { query: expr });
  }

  /** A window that covers everything since the data was fed (and at least 4 scrapes). */
  function window(): string {
    return `${Math.max(30, Math.ceil((Date.now() - fedAt) / 1000) + 15)}s`;
  }

  async function until(what: string, f: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await f().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${promLog.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  beforeAll(async () => {
    // Snapshots every 2 s (default 30 s), so the detector's snapshot gauges exist when the panels are read.
    h = await startHarness({ serviceEnv: { detector: { SLUICE__DETECTOR__SNAPSHOT__INTERVAL_SECONDS: '2' } } });
    promDir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
    const targets = [...h.pipeline.services.values()].map((s) => ({ targets: [`127.0.0.1:${s.port}`], labels: { service: s.name } }));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [resolve(RULES_FILE)],
      scrape_configs: [{ job_name: 'sluice', metrics_path: '/metrics', static_configs: targets }],
    };
    writeFileSync(join(promDir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(PROMETHEUS!, [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => promLog.push(...d.toString().split('\n').filter(Boolean));
    prom.stdout?.on('data', keep);
    prom.stderr?.on('data', keep);
    await until('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok);

    // Counters must have samples from before the data arrives, or rate() sees no increase.
    const services = h.pipeline.services.size;
    await until('every target scraped', async () => {
      const r = await query('count(count_over_time(up{job="sluice"}[1m]) >= 3)');
      return Number((r.data?.result as VectorSample[])[0]?.value[1]) === services;
    });

    const generate = (seed: number) =>
      generateDefenderRecords({
        seed,
        counts: Object.fromEntries([...DEFENDER_CATEGORIES.map((c) => [c, 6]), ['Unknown', 3]]),
        listeners: [{ deviceId: `dev-listener-${seed}`, deviceName: `ws-finance-${seed}`, port: 3389 }],
        malformed: 6,
      }).records;
    // Two rounds: a labelled counter (rows per table…) appears at its first increment, so rate() sees only the
    // increments after the first scrape that saw it, as in production after a table's first commit.
    fedAt = Date.now();
    await feed(h.pipeline, generate(6));
    await waitPipelineIdle(h.nats.url);
    await new Promise((r) => setTimeout(r, 3000));
    for (const payload of toEventHubPayloads(generate(7), 10)) {
      const res = await fetch(`${h.pipeline.httpUrl}/ingest/defender`, { method: 'POST', body: JSON.stringify(payload) });
      expect(res.status).toBe(202);
    }
    await waitPipelineIdle(h.nats.url);
    // Lag gauges refresh every 5 s; then a few more scrapes so every counter has two samples after its last change.
    await new Promise((r) => setTimeout(r, 7000));
    for (const expr of ['sum(sluice_notifier_alerts_total{outcome="posted"}) > 0', 'sum(sluice_detector_snapshot_bytes) > 0']) {
      await until(expr, async () => (((await query(expr)).data?.result as VectorSample[] | undefined) ?? []).length > 0);
    }
  }, 300_000);

  afterAll(async () => {
    if (prom) await stopChild(prom, 'SIGTERM', 10_000);
    await h?.close();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  });

  it('scrapes every service of the pipeline', async () => {
    const r = await api<{ data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] } }>('/api/v1/targets');
    const health = Object.fromEntries(r.data.activeTargets.map((t) => [t.labels.service, t.health === 'up' ? 'up' : `${t.health}: ${t.lastError}`]));
    expect(health).toEqual(Object.fromEntries([...h!.pipeline.services.keys()].map((n) => [n, 'up'])));
  });

  it('loads rules.yaml and evaluates every rule without error', async () => {
    const names = loadRules().groups.flatMap((g) => g.rules.map((x) => x.alert ?? x.record));
    let rules: { name: string; health: string; lastError?: string }[] = [];
    await until('every rule evaluated', async () => {
      const r = await api<{ data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } }>('/api/v1/rules');
      rules = r.data.groups.flatMap((g) => g.rules);
      return rules.length === names.length && rules.every((x) => x.health !== 'unknown');
    });
    expect(rules.map((x) => x.name).sort()).toEqual([...names].sort());
    expect(rules.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.lastError}`)).toEqual([]);
  });

  it('every rule expression is valid PromQL on the live series', async () => {
    const failures: string[] = [];
    const firing: string[] = [];
    for (const g of loadRules().groups) {
      for (const rule of g.rules) {
        const r = await query(rule.expr);
        if (r.status !== 'success') failures.push(`${rule.alert}: ${r.error}`);
        else if ((r.data?.result as unknown[]).length > 0) firing.push(rule.alert ?? '');
      }
    }
    expect(failures).toEqual([]);
    // A healthy pipeline raises nothing, except dead-lettering of the generated malformed records would.
    expect(firing.filter((a) => !['SluiceDeadLetters', 'SluiceQuarantineRateHigh', 'SluiceExpectationFailureRateHigh'].includes(a))).toEqual([]);
  });

  it('every dashboard panel returns data', async () => {
    const failures: string[] = [];
    const awaiting: string[] = [];
    const exported = new Set(((await api<{ data: string[] }>('/api/v1/label/__name__/values')).data ?? []).map((m) => m.replace(/_(bucket|count|sum)$/, '')));
    for (const { file, dashboard } of loadDashboards()) {
      // Template variables: label_values(metric, label) must list values.
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const q = (v.query as { query?: string } | undefined)?.query ?? '';
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
        if (!m) {
          failures.push(`${file} / variable ${v.name}: not label_values(metric, label): ${q}`);
          continue;
        }
        const r = await query(`group by (${m[2]}) (${m[1]})`);
        if (!hasFiniteValue(r)) failures.push(`${file} / variable ${v.name}: no values for ${q}`);
      }
      for (const p of allPanels(dashboard.panels).filter((x) => x.type !== 'row')) {
        for (const t of p.targets ?? []) {
          const expr = resolveExpr(t.expr ?? '', dashboard.templating.list, window());
          const r = await query(expr);
          const where = `${file} / ${p.title} / ${t.refId}`;
          if (r.status !== 'success') {
            failures.push(`${where}: invalid: ${r.error}`);
            continue;
          }
          if (hasFiniteValue(r)) continue;
          const missing = metricNamesOf(expr).filter((m) => !exported.has(m));
          if (missing.length > 0 && missing.every((m) => m in AWAITING_SINK)) awaiting.push(`${where}: ${missing.map((m) => `${m} (${AWAITING_SINK[m]})`).join(', ')}`);
          else failures.push(`${where}: no data for ${expr} → ${JSON.stringify(r.data?.result).slice(0, 300)}`);
        }
      }
    }
    if (awaiting.length) console.warn(`panels without data until the sink exports their metric:\n  ${awaiting.join('\n  ')}`);
    expect(failures).toEqual([]);
  });
});
