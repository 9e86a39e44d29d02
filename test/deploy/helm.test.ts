// The container image and the Helm chart, offline: the Dockerfile and its entrypoint checked structurally and by
// running the entrypoint with a stand-in node; `helm lint --strict` and `helm template` for the default values and
// every ci/*.yaml scenario; the rendered manifests validated by kubeconform -strict against the vendored Kubernetes,
// KEDA and prometheus-operator schemas (deploy/helm/schemas); assertions on the rendered objects; the rendered
// pipeline config accepted by every service's own config loader; bad values failing with the schema's or the
// template's message; the chart's copies (rules, dashboards, families) current.
// Needs helm and kubeconform (scripts/install-helm-tools.sh); without them those tests are skipped unless
// SLUICE_REQUIRE_HELM=1 (make test-helm), where a missing tool fails.
//   npx vitest run --config test/deploy/vitest.config.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig, type ServiceDefinition } from '@sluice/runtime';
import { families } from '@sluice/sources';
import { collector } from '../../services/collector/main.ts';
import { detector } from '../../services/detector/main.ts';
import { enricher } from '../../services/enricher/main.ts';
import { notifier } from '../../services/notifier/main.ts';
import { parser } from '../../services/parser/main.ts';
import { sink } from '../../services/sink/main.ts';
import { splitter } from '../../services/splitter/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHART = join(ROOT, 'deploy/helm/sluice');
const SCHEMAS = join(ROOT, 'deploy/helm/schemas');
const KUBE_VERSION = '1.33.0';
const SCENARIOS = readdirSync(join(CHART, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

// ---------- tools ----------

function findTool(name: string): string | undefined {
  const fromEnv = process.env[`${name.toUpperCase()}_BIN`];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    if (existsSync(join(gopath, 'bin', name))) return join(gopath, 'bin', name);
  } catch {
    // no go: try PATH
  }
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

const HELM = findTool('helm');
const KUBECONFORM = findTool('kubeconform');
const REQUIRE = process.env.SLUICE_REQUIRE_HELM === '1';
if (REQUIRE && (!HELM || !KUBECONFORM)) throw new Error('SLUICE_REQUIRE_HELM=1 but helm or kubeconform is missing: run scripts/install-helm-tools.sh');
const haveTools = !!HELM && !!KUBECONFORM;

// Helm keeps its caches and config out of $HOME (read-only or shared on CI).
const helmHome = mkdtempSync(join(tmpdir(), 'sluice-helm-'));
const helmEnv = { ...process.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data') };
afterAll(() => rmSync(helmHome, { recursive: true, force: true }));

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function helm(args: string[]): Run {
  const r = spawnSync(HELM!, args, { cwd: ROOT, encoding: 'utf8', env: helmEnv, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function valuesArgs(scenario?: string, sets: string[] = []): string[] {
  return [...(scenario ? ['-f', join(CHART, 'ci', scenario)] : []), ...sets.flatMap((s) => ['--set', s])];
}

/** `helm template` → the rendered text; throws with helm's message on failure. */
function template(scenario?: string, sets: string[] = []): string {
  const r = helm(['template', 'sluice', CHART, '--namespace', 'security', '--kube-version', KUBE_VERSION, ...valuesArgs(scenario, sets)]);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

// ---------- rendered objects ----------

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; namespace?: string };
  spec?: Record<string, unknown> & { replicas?: number };
  data?: Record<string, string>;
}

interface Container {
  name: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: object } }[];
  envFrom?: { secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}

interface PodSpec {
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string }; emptyDir?: object; configMap?: { name: string } }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

function objects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o != null);
}

const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
function one(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}; have: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
const podSpec = (o: K8sObject): PodSpec => (o.kind === 'Pod' ? (o.spec as unknown as PodSpec) : (o.spec as { template: { spec: PodSpec } }).template.spec);
const workloads = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const pipelineOf = (objs: K8sObject[]) => parseYaml(one(objs, 'ConfigMap', 'sluice-pipeline').data!['pipeline.yaml']!) as Record<string, Record<string, unknown>>;

// ---------- Dockerfile ----------

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile → instructions (continuations joined, comments and parser directives dropped), numbered by stage. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!buf && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // comment lines inside a continuation
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (buf + line).trim();
    buf = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

describe('container image', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
  const ins = parseDockerfile(dockerfile);
  const last = Math.max(...ins.map((i) => i.stage));
  const final = ins.filter((i) => i.stage === last);
  const args = Object.fromEntries(ins.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]));
  const expand = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args[(a ?? b)!] ?? '');

  it('is multi-stage on a current Node LTS slim image', () => {
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => expand(i.args));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^node:(22|24)-slim\b/);
    expect(froms.at(-1)).toMatch(/ AS runtime$/);
  });

  it('runs as a numeric non-root user, with a HEALTHCHECK and tini as PID 1', () => {
    const users = final.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    // Nothing after USER switches back to root.
    const after = final.slice(final.indexOf(users.at(-1)!) + 1);
    expect(after.some((i) => i.op === 'USER' || (i.op === 'RUN' && /\b(apt-get|chmod|chown)\b/.test(i.args)))).toBe(false);
    const hc = final.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/\/healthz/);
    const entry = final.find((i) => i.op === 'ENTRYPOINT');
    expect(JSON.parse(entry!.args)).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/sluice-entrypoint']);
    expect(final.some((i) => i.op === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args))).toBe(true);
  });

  it('installs the tsx the repository is locked to', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    expect(args.TSX_VERSION).toBe(lock.packages['node_modules/tsx']!.version);
  });

  it('fetches nothing by ADD and copies only from the build context or an earlier stage', () => {
    expect(ins.filter((i) => i.op === 'ADD')).toEqual([]);
    for (const c of ins.filter((i) => i.op === 'COPY')) {
      expect(c.args).not.toMatch(/https?:\/\//);
      const from = /--from=(\S+)/.exec(c.args)?.[1];
      if (from) expect(['deps']).toContain(from);
    }
    for (const r of ins.filter((i) => i.op === 'RUN')) expect(r.args).not.toMatch(/\b(curl|wget)\b/);
  });

  it('keeps the build context small and free of local state', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', '.git', '.sluice', 'test']) expect(ignore).toContain(p);
    for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.includes('--from'))) {
      const src = i.args.split(/\s+/).slice(0, -1);
      for (const s of src) expect(existsSync(join(ROOT, s)), `COPY source ${s}`).toBe(true);
    }
  });

  describe('entrypoint', () => {
    let dir: string;
    const entry = join(ROOT, 'deploy/docker/entrypoint.sh');
    beforeAll(() => {
      // A stand-in `node` that prints its arguments and the replica variables, so the script runs for real.
      dir = mkdtempSync(join(tmpdir(), 'sluice-entry-'));
      writeFileSync(join(dir, 'node'), '#!/bin/sh\necho "args: $*"\nenv | grep "^SLUICE__" | sort\n');
      chmodSync(join(dir, 'node'), 0o755);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const run = (argv: string[], env: Record<string, string> = {}) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE')));
      const r = spawnSync('sh', [entry, ...argv], { encoding: 'utf8', env: { ...clean, PATH: `${dir}:${process.env.PATH}`, TSX_LOADER: '/opt/tsx/loader.mjs', ...env } });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };

    it('starts the named service through the tsx loader with the remaining arguments', () => {
      const r = run(['parser', '--config', '/etc/sluice/pipeline.yaml', '--source', 'zeek']);
      expect(r.status).toBe(0);
      expect(r.out).toContain('args: --import /opt/tsx/loader.mjs /app/services/parser/main.ts --config /etc/sluice/pipeline.yaml --source zeek');
      expect(r.out).not.toContain('REPLICA');
    });

    it('turns a StatefulSet pod ordinal into <section>.replica', () => {
      const r = run(['sink', '--config', 'c.yaml'], { SLUICE_REPLICA_SECTION: 'sink', SLUICE_POD_NAME: 'sluice-sink-11' });
      expect(r.status).toBe(0);
      expect(r.out).toContain('SLUICE__SINK__REPLICA=11');
      const d = run(['detector'], { SLUICE_REPLICA_SECTION: 'detector', SLUICE_POD_NAME: 'rel-sluice-detector-0' });
      expect(d.out).toContain('SLUICE__DETECTOR__REPLICA=0');
    });

    it('refuses a pod name without an ordinal and an unknown service (exit 2)', () => {
      const bad = run(['sink'], { SLUICE_REPLICA_SECTION: 'sink', SLUICE_POD_NAME: 'sluice-sink-abc' });
      expect(bad.status).toBe(2);
      expect(bad.err).toContain("cannot take a replica ordinal from pod name 'sluice-sink-abc'");
      const unknown = run(['compactor']);
      expect(unknown.status).toBe(2);
      expect(unknown.err).toContain("unknown service 'compactor'");
    });

    it('runs the CLI for `sluice …`', () => {
      const r = run(['sluice', 'provision', '--config', 'p.yaml']);
      expect(r.out).toContain('args: --import /opt/tsx/loader.mjs /app/cli/main.ts provision --config p.yaml');
    });
  });
});

// ---------- the chart's copies ----------

describe('chart files copied from the repository', () => {
  const files = join(CHART, 'files');
  it('families.yaml lists every family and category of the registry (deploy/helm/sync-files.sh)', () => {
    const copy = parseYaml(readFileSync(join(files, 'families.yaml'), 'utf8')) as Record<string, string[]>;
    const now = Object.fromEntries(Object.entries(families).map(([n, f]) => [n, Object.keys(f.tables)]));
    expect(copy, 'stale: run deploy/helm/sync-files.sh').toEqual(now);
  });

  it('prometheus-rules.yaml is identical to deploy/prometheus/rules.yaml', () => {
    const src = join(ROOT, 'deploy/prometheus/rules.yaml');
    if (!existsSync(src)) return expect(existsSync(join(files, 'prometheus-rules.yaml'))).toBe(false);
    expect(readFileSync(join(files, 'prometheus-rules.yaml'), 'utf8'), 'stale: run deploy/helm/sync-files.sh').toBe(readFileSync(src, 'utf8'));
  });

  it('dashboards/ holds exactly the dashboards of deploy/grafana/', () => {
    const srcDir = join(ROOT, 'deploy/grafana');
    const src = existsSync(srcDir) ? readdirSync(srcDir).filter((f) => f.endsWith('.json')).sort() : [];
    const copies = readdirSync(join(files, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
    expect(copies, 'stale: run deploy/helm/sync-files.sh').toEqual(src);
    for (const f of src) expect(readFileSync(join(files, 'dashboards', f), 'utf8'), f).toBe(readFileSync(join(srcDir, f), 'utf8'));
  });
});

// ---------- helm ----------

describe.skipIf(!haveTools)('helm chart', () => {
  const cases: [string, string | undefined][] = [['default values', undefined], ...SCENARIOS.map((s): [string, string] => [s, s])];
  const rendered = new Map<string, K8sObject[]>();
  const renderedText = new Map<string, string>();
  beforeAll(() => {
    for (const [label, scenario] of cases) {
      const text = template(scenario);
      renderedText.set(label, text);
      rendered.set(label, objects(text));
    }
  });

  it('has the five CI scenarios', () => {
    expect(SCENARIOS).toEqual(['azure-values.yaml', 'minimal-values.yaml', 'nats-secure-values.yaml', 'production-keda-values.yaml', 's3-values.yaml']);
  });

  it.each(cases)('helm lint --strict passes: %s', (_label, scenario) => {
    const r = helm(['lint', '--strict', CHART, '--kube-version', KUBE_VERSION, ...valuesArgs(scenario)]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(cases)('kubeconform -strict accepts every rendered object (Kubernetes, KEDA, prometheus-operator schemas): %s', (label) => {
    const r = spawnSync(
      KUBECONFORM!,
      [
        '-strict',
        '-summary',
        '-output',
        'json',
        '-kubernetes-version',
        KUBE_VERSION,
        '-schema-location',
        join(SCHEMAS, 'kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json'),
        '-schema-location',
        join(SCHEMAS, 'crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'),
        '-',
      ],
      { input: renderedText.get(label), encoding: 'utf8' },
    );
    const report = JSON.parse(r.stdout) as { resources?: { kind: string; name: string; status: string; msg: string }[]; summary: { valid: number; invalid: number; errors: number; skipped: number } };
    const problems = (report.resources ?? []).filter((x) => x.status !== 'statusValid').map((x) => `${x.kind}/${x.name}: ${x.status} ${x.msg}`);
    expect(problems).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(report.summary.skipped).toBe(0);
    expect(report.summary.valid).toBe(rendered.get(label)!.length);
  });

  it('kubeconform with these schemas rejects what the API server would (the schemas bite)', () => {
    const text = renderedText.get('production-keda-values.yaml')!
      .replace('  revisionHistoryLimit: 5\n', '  revisionHistoryLimit: 5\n  replica: 2\n')
      .replace('  pollingInterval: 15\n', '  pollingInterval: "15s"\n')
      .replace('    - port: metrics\n', '    - portName: metrics\n');
    const r = spawnSync(KUBECONFORM!, ['-strict', '-output', 'json', '-schema-location', join(SCHEMAS, 'kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json'), '-schema-location', join(SCHEMAS, 'crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'), '-'], { input: text, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const bad = (JSON.parse(r.stdout) as { resources: { kind: string; name: string; status: string; msg: string }[] }).resources.filter((x) => x.status === 'statusInvalid');
    expect(bad.find((x) => x.kind === 'Deployment')?.msg).toMatch(/additional properties 'replica' not allowed/);
    expect(bad.find((x) => x.kind === 'ScaledObject')?.msg).toMatch(/pollingInterval.*got string, want integer/);
    expect(bad.find((x) => x.kind === 'ServiceMonitor')?.msg).toMatch(/additional properties 'portName' not allowed/);
  });

  it.each(cases)('every service accepts the rendered pipeline config with its own loader: %s', (label) => {
    const objs = rendered.get(label)!;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
    try {
      const file = join(dir, 'pipeline.yaml');
      writeFileSync(file, one(objs, 'ConfigMap', 'sluice-pipeline').data!['pipeline.yaml']!);
      const defs: Record<string, ServiceDefinition<unknown>> = { collector, splitter, parser, enricher, detector, notifier, sink } as unknown as Record<string, ServiceDefinition<unknown>>;
      for (const w of workloads(objs)) {
        const c = podSpec(w).containers[0]!;
        const def = defs[c.args![0]!]!;
        // The container's literal env values (SLUICE__PARSER__SOURCES …) and the ordinal the entrypoint would set.
        const env: NodeJS.ProcessEnv = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined && e.name.startsWith('SLUICE__')).map((e) => [e.name, e.value]));
        const section = c.env?.find((e) => e.name === 'SLUICE_REPLICA_SECTION')?.value;
        if (section) env[`SLUICE__${section.toUpperCase()}__REPLICA`] = String((w.spec!.replicas ?? 1) - 1);
        expect(() => loadConfig({ section: def.name, sectionSchema: def.sectionSchema, file, env }), `${w.metadata.name}`).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(cases)('pods are non-root with a read-only root, probes on /healthz and /readyz, and /tmp an emptyDir: %s', (label) => {
    for (const w of workloads(rendered.get(label)!)) {
      const spec = podSpec(w);
      const c = spec.containers[0]! as Container & { readinessProbe?: { httpGet: { path: string } }; livenessProbe?: { httpGet: { path: string } } };
      expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(c.readinessProbe?.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe?.httpGet.path).toBe('/healthz');
      expect(c.volumeMounts?.find((m) => m.mountPath === '/tmp')).toBeDefined();
      expect(spec.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
    }
  });

  it.each(cases)('secrets are referenced, never rendered or inlined: %s', (label) => {
    const objs = rendered.get(label)!;
    expect(byKind(objs, 'Secret')).toEqual([]);
    const pipeline = one(objs, 'ConfigMap', 'sluice-pipeline').data!['pipeline.yaml']!;
    expect(pipeline).not.toMatch(/\b(pass|token|webhookUrl|connectionString|password)\s*:/);
    for (const w of workloads(objs)) {
      for (const e of podSpec(w).containers[0]!.env ?? []) {
        if (/PASS|TOKEN|SECRET|KEY|CONNECTION/.test(e.name)) expect(e.value, `${w.metadata.name} ${e.name}`).toBeUndefined();
      }
    }
  });

  it('default values: StatefulSet replicas equal the partitions and the config says so', () => {
    const objs = rendered.get('default values')!;
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { pipeline: { streams: { eventPartitions: number }; detector: { partitions: number } } };
    const sinkSet = one(objs, 'StatefulSet', 'sluice-sink');
    expect(sinkSet.spec!.replicas).toBe(values.pipeline.streams.eventPartitions);
    expect(one(objs, 'StatefulSet', 'sluice-detector').spec!.replicas).toBe(values.pipeline.detector.partitions);
    const p = pipelineOf(objs);
    expect(p.sink!.replicas).toBe(values.pipeline.streams.eventPartitions);
    expect(p.detector!.replicas).toBe(values.pipeline.detector.partitions);
    expect(p.nats).toEqual({ url: 'nats://nats:4222' });
    expect(p.http).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(podSpec(sinkSet).containers[0]!.env).toContainEqual({ name: 'SLUICE_REPLICA_SECTION', value: 'sink' });
    expect(one(objs, 'Service', 'sluice-sink-headless').spec!.clusterIP).toBe('None');
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(byKind(objs, 'ScaledObject')).toEqual([]);
    expect(byKind(objs, 'ServiceMonitor')).toEqual([]);
    // Every Deployment has its replicas (no autoscaler owns them).
    for (const d of byKind(objs, 'Deployment')) expect(d.spec!.replicas, d.metadata.name).toBe(1);
    // The provisioning hook.
    const job = one(objs, 'Job', 'sluice-provision');
    expect(job.metadata.annotations!['helm.sh/hook']).toBe('post-install,post-upgrade');
    expect(podSpec(job).containers[0]!.args).toEqual(['sluice', 'provision', '--config', '/etc/sluice/pipeline.yaml']);
    // Without the HTTP source the test pod checks NATS and the streams with `sluice status`.
    expect(podSpec(one(objs, 'Pod', 'sluice-test')).containers[0]!.args!.slice(0, 2)).toEqual(['sluice', 'status']);
  });

  it('nats-secure: the creds file and TLS files are mounted read-only in every pod that connects and named in the nats section', () => {
    const objs = rendered.get('nats-secure-values.yaml')!;
    expect(pipelineOf(objs).nats).toEqual({
      url: 'tls://nats.nats.svc:4222',
      credsFile: '/etc/sluice/secrets/nats/sluice.creds',
      tls: { caFile: '/etc/sluice/secrets/nats-tls/ca.crt', certFile: '/etc/sluice/secrets/nats-tls/tls.crt', keyFile: '/etc/sluice/secrets/nats-tls/tls.key' },
    });
    expect(pipelineOf(objs).streams!.replicas).toBe(3);
    const pods = [...workloads(objs), one(objs, 'Job', 'sluice-provision'), one(objs, 'Pod', 'sluice-test')];
    for (const w of pods) {
      const spec = podSpec(w);
      const mounts = spec.containers[0]!.volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
      for (const [name, path, secret] of [['secret-nats', '/etc/sluice/secrets/nats', 'sluice-nats-creds'], ['secret-nats-tls', '/etc/sluice/secrets/nats-tls', 'sluice-nats-tls']]) {
        expect(mounts.find((m) => m.name === name), `${w.metadata.name} ${name}`).toMatchObject({ mountPath: path, readOnly: true });
        expect(spec.volumes!.find((v) => v.name === name)?.secret?.secretName, `${w.metadata.name} ${name}`).toBe(secret);
      }
    }
    // The test pod's `sluice status` reads the same nats section (mounted pipeline config).
    expect(podSpec(one(objs, 'Pod', 'sluice-test')).containers[0]!.args).toEqual(['sluice', 'status', '--config', '/etc/sluice/pipeline.yaml', '--interval', '0']);
  });

  it('nats.auth and nats.tls refuse incomplete or ambiguous settings', () => {
    const fails = (sets: string[]) => helm(['template', 'sluice', CHART, '--kube-version', KUBE_VERSION, ...valuesArgs(undefined, sets)]);
    expect(fails(['nats.auth.existingSecret=s', 'nats.auth.credsKey=a', 'nats.auth.nkeySeedKey=b']).stderr).toContain('set credsKey or nkeySeedKey, not both');
    expect(fails(['nats.auth.credsKey=a']).stderr).toContain('nats.auth: the *Key settings name keys of nats.auth.existingSecret, which is empty');
    expect(fails(['nats.tls.existingSecret=t', 'nats.tls.certKey=tls.crt']).stderr).toContain('nats.tls: certKey and keyKey go together');
  });

  it('production-keda: autoscaled Deployments have no replicas, one autoscaler each, KEDA triggers on their consumers', () => {
    const objs = rendered.get('production-keda-values.yaml')!;
    const hpas = byKind(objs, 'HorizontalPodAutoscaler');
    const scaled = byKind(objs, 'ScaledObject');
    const targets = [...hpas, ...scaled].map((o) => (o.spec!.scaleTargetRef as { name: string }).name);
    expect(new Set(targets).size, 'an HPA and a ScaledObject on one workload').toBe(targets.length);
    for (const d of byKind(objs, 'Deployment')) {
      if (targets.includes(d.metadata.name)) expect(d.spec, d.metadata.name).not.toHaveProperty('replicas');
      else expect(d.spec!.replicas, d.metadata.name).toBeGreaterThanOrEqual(1);
    }
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual(['sluice-collector', 'sluice-parser-network']);
    expect(scaled.map((s) => s.metadata.name).sort()).toEqual(['sluice-enricher', 'sluice-parser-defender-network', 'sluice-parser-defender-process', 'sluice-splitter']);
    const triggers = (name: string) =>
      (one(objs, 'ScaledObject', name).spec!.triggers as { type: string; metadata: Record<string, string> }[]).map((t) => {
        expect(t.type).toBe('nats-jetstream');
        expect(t.metadata.natsServerMonitoringEndpoint).toBe('nats-headless.nats.svc:8222');
        expect(t.metadata.lagThreshold).toBe('5000');
        return `${t.metadata.stream}/${t.metadata.consumer}`;
      });
    expect(triggers('sluice-splitter')).toEqual(['RAW/splitter-defender', 'RAW/splitter-zeek-dc1', 'RAW/splitter-ise']);
    expect(triggers('sluice-enricher')).toEqual(['PARSED/enricher']);
    expect(triggers('sluice-parser-defender-process')).toEqual(['CATEGORIZED/parser-defender-DeviceProcessEvents']);
    expect(triggers('sluice-parser-defender-network')).toEqual(['CATEGORIZED/parser-defender-DeviceNetworkEvents', 'CATEGORIZED/parser-defender-DeviceLogonEvents']);
    expect(one(objs, 'ScaledObject', 'sluice-parser-defender-process').spec!.maxReplicaCount).toBe(12);
    // StatefulSets: replicas = partitions (sink) or the configured divisor (detector).
    expect(one(objs, 'StatefulSet', 'sluice-sink').spec!.replicas).toBe(8);
    expect(one(objs, 'StatefulSet', 'sluice-detector').spec!.replicas).toBe(4);
    expect(pipelineOf(objs).detector!.replicas).toBe(4);
    // Parser Deployments get their selection as env; the non-autoscaled one keeps its replicas.
    const other = one(objs, 'Deployment', 'sluice-parser-defender-other');
    expect(other.spec!.replicas).toBe(2);
    const network = podSpec(one(objs, 'Deployment', 'sluice-parser-network')).containers[0]!.env!.find((e) => e.name === 'SLUICE__PARSER__SOURCES');
    expect(JSON.parse(network!.value!)).toEqual([{ source: 'zeek-dc1', family: 'zeek' }, { source: 'ise' }]);
    // Monitoring objects with the labels kube-prometheus-stack selects.
    const sm = one(objs, 'ServiceMonitor', 'sluice');
    expect(sm.metadata.labels!.release).toBe('kube-prometheus-stack');
    const metricsServices = byKind(objs, 'Service').filter((s) => s.metadata.labels!['sluice.io/metrics'] === 'true');
    expect(metricsServices.length).toBe(workloads(objs).length);
    expect(byKind(objs, 'PodDisruptionBudget').length).toBe(workloads(objs).length);
    // NATS credentials from the Secret; Slack and Event Hubs as files the notifier reads.
    const notifierPod = podSpec(one(objs, 'Deployment', 'sluice-notifier'));
    expect(notifierPod.containers[0]!.env).toContainEqual({ name: 'SLUICE__NATS__PASS', valueFrom: { secretKeyRef: { name: 'sluice-nats', key: 'password' } } });
    expect(notifierPod.volumes!.map((v) => v.secret?.secretName).filter(Boolean).sort()).toEqual(['sluice-eventhubs', 'sluice-slack']);
    const p = pipelineOf(objs);
    expect((p.notifier!.slack as Record<string, unknown>).webhookUrlFile).toBe('/etc/sluice/secrets/slack/webhook-url');
    expect(((p.notifier!.eventhubs as Record<string, Record<string, unknown>>).kafka!).connectionStringFile).toBe('/etc/sluice/secrets/eventhubs/connection-string');
    expect((p.collector!.http as Record<string, unknown>).tokenFile).toBe('/etc/sluice/secrets/http-token/token');
    // The collector's ingest Service carries the HTTP source and both syslog listeners.
    const ingest = one(objs, 'Service', 'sluice-collector-ingest');
    expect((ingest.spec!.ports as { name: string; port: number; protocol: string }[]).map((x) => `${x.name}:${x.port}/${x.protocol}`)).toEqual(['http-ingest:8088/TCP', 'syslog-udp-0:5514/UDP', 'syslog-tcp-0:6514/TCP']);
    // The end-to-end test pod posts to it and reads all 8 sink pods' metrics.
    const testEnv = Object.fromEntries(podSpec(one(objs, 'Pod', 'sluice-test')).containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(testEnv.TEST_INGEST_URL).toBe('http://sluice-collector-ingest.security.svc:8088/ingest/defender');
    expect(testEnv.TEST_SINK_METRICS!.split(',')).toHaveLength(8);
    expect(testEnv.TEST_SINK_METRICS!.split(',')[7]).toBe('http://sluice-sink-7.sluice-sink-headless.security.svc:9100/metrics');
  });

  it('production-keda: the PrometheusRule carries deploy/prometheus/rules.yaml and each dashboard is a labelled ConfigMap', () => {
    const objs = rendered.get('production-keda-values.yaml')!;
    const rulesFile = join(CHART, 'files/prometheus-rules.yaml');
    if (existsSync(rulesFile)) {
      const rule = one(objs, 'PrometheusRule', 'sluice');
      expect(rule.spec!.groups).toEqual((parseYaml(readFileSync(rulesFile, 'utf8')) as { groups: unknown[] }).groups);
    }
    const dashboards = readdirSync(join(CHART, 'files/dashboards')).filter((f) => f.endsWith('.json'));
    const maps = byKind(objs, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    expect(maps.length).toBe(dashboards.length);
    for (const m of maps) {
      const [file, json] = Object.entries(m.data!)[0]!;
      expect(dashboards).toContain(file);
      expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(join(CHART, 'files/dashboards', file), 'utf8')));
    }
  });

  it('s3 and azure: object-store credentials reach the collector and the sink from their Secrets only', () => {
    for (const [label, secret] of [
      ['s3-values.yaml', 'sluice-s3'],
      ['azure-values.yaml', 'sluice-azure-storage'],
    ] as const) {
      const objs = rendered.get(label)!;
      for (const name of ['sluice-collector', 'sluice-sink']) {
        const w = objs.find((o) => o.metadata.name === name && (o.kind === 'Deployment' || o.kind === 'StatefulSet'))!;
        expect(podSpec(w).containers[0]!.envFrom, `${label} ${name}`).toEqual([{ secretRef: { name: secret } }]);
      }
      for (const name of ['sluice-splitter', 'sluice-enricher']) expect(podSpec(one(objs, 'Deployment', name)).containers[0]!.envFrom).toBeUndefined();
    }
    const s3 = rendered.get('s3-values.yaml')!;
    expect(one(s3, 'StatefulSet', 'sluice-sink').spec!.replicas).toBe(2);
    expect(one(s3, 'ServiceAccount', 'sluice').metadata.annotations!['eks.amazonaws.com/role-arn']).toContain('role/sluice');
    const azure = rendered.get('azure-values.yaml')!;
    const collectorPod = podSpec(one(azure, 'Deployment', 'sluice-collector'));
    expect(collectorPod.volumes!.find((v) => v.name === 'xdr-eventhubs')?.secret?.secretName).toBe('sluice-xdr-eventhubs');
    expect(podSpec(one(azure, 'Deployment', 'sluice-notifier')).containers[0]!.env).toContainEqual({ name: 'SLUICE__NATS__TOKEN', valueFrom: { secretKeyRef: { name: 'sluice-nats', key: 'token' } } });
  });

  it('minimal: one replica each, the lake on a PVC, and a helm test that pushes a sample through', () => {
    const objs = rendered.get('minimal-values.yaml')!;
    const sinkSet = one(objs, 'StatefulSet', 'sluice-sink');
    expect(sinkSet.spec!.replicas).toBe(1);
    expect((sinkSet.spec!.volumeClaimTemplates as { metadata: { name: string } }[])[0]!.metadata.name).toBe('lake');
    expect(podSpec(sinkSet).containers[0]!.volumeMounts).toContainEqual({ name: 'lake', mountPath: '/var/lib/sluice/lake' });
    expect(objs.find((o) => o.metadata.name === 'sluice-notifier')).toBeUndefined();
    const test = one(objs, 'Pod', 'sluice-test');
    expect(test.metadata.annotations!['helm.sh/hook']).toBe('test');
    expect(podSpec(test).containers[0]!.command).toEqual(['node', '/etc/sluice-test/pipeline-test.mjs']);
    expect(one(objs, 'ConfigMap', 'sluice-test').data!['pipeline-test.mjs']).toBe(readFileSync(join(CHART, 'files/pipeline-test.mjs'), 'utf8').trimEnd());
  });

  describe('bad values fail at install with a clear message', () => {
    const failure = (sets: string[], values?: object) => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-bad-'));
      try {
        const file = join(dir, 'values.yaml');
        writeFileSync(file, JSON.stringify(values ?? {}));
        const r = helm(['template', 'sluice', CHART, '--kube-version', KUBE_VERSION, '-f', file, ...valuesArgs(undefined, sets)]);
        expect(r.status).not.toBe(0);
        return r.stderr;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    it('an unknown autoscaling mode (values.schema.json)', () => {
      const err = failure(['defaults.autoscaling.mode=both']);
      expect(err).toContain("values don't meet the specifications of the schema");
      expect(err).toMatch(/defaults\/autoscaling\/mode.*value must be one of 'hpa', 'keda'/s);
    });

    it('a parser name that cannot name a Deployment (values.schema.json)', () => {
      expect(failure(['parsers[0].name=Defender_All'])).toMatch(/parsers\/0\/name.*does not match pattern/s);
    });

    it('a secret inlined into the pipeline config (values.schema.json)', () => {
      expect(failure(['pipeline.notifier.slack.webhookUrl=https://hooks.slack.com/services/T/B/x'])).toContain(
        "at '/pipeline/notifier/slack/webhookUrl': value must be 'never inline the webhook URL: use secrets.slackWebhook (a Secret)'",
      );
      expect(failure(['pipeline.nats.pass=hunter2'])).toContain("at '/pipeline/nats': value must be 'set by the chart: use nats.url and nats.auth (a Secret)'");
    });

    it('a misspelt workload setting (values.schema.json)', () => {
      expect(failure(['services.splitter.replicaz=2'])).toContain("at '/services/splitter': additional properties 'replicaz' not allowed");
    });

    it('sink replicas that do not divide the event partitions', () => {
      expect(failure(['pipeline.streams.eventPartitions=4', 'services.sink.replicas=3'])).toContain('services.sink.replicas is 3 but must divide pipeline.streams.eventPartitions = 4');
      expect(failure(['pipeline.detector.partitions=16', 'services.detector.replicas=5'])).toContain('services.detector.replicas is 5 but must divide pipeline.detector.partitions = 16');
    });

    it('a local lake shared by several sink replicas without a shared volume, or with none at all', () => {
      expect(failure(['pipeline.streams.eventPartitions=2'])).toContain('a local lakePath with 2 sink replicas needs one volume they all share');
      expect(failure(['services.sink.persistence.enabled=false'])).toContain('pipeline.sink.lakePath "/var/lib/sluice/lake" is a local path but services.sink.persistence.enabled is false');
    });

    it('autoscaling a StatefulSet', () => {
      expect(failure(['services.detector.autoscaling.enabled=true'])).toContain('services.detector.autoscaling.enabled: the detector is a StatefulSet');
    });

    it('KEDA on the collector, which has no consumer', () => {
      expect(failure(['services.collector.autoscaling.enabled=true', 'services.collector.autoscaling.mode=keda'])).toContain('collector: autoscaling.mode keda needs a consumer');
    });

    it('an unknown category or family in a parser', () => {
      const parsers = (sel: object) => ({ parsers: [{ name: 'edr', sources: [{ source: 'defender', ...sel }] }] });
      expect(failure([], parsers({ categories: ['DeviceProcessEvents', 'DeviceTeleportEvents'] }))).toContain(
        'parsers[edr].sources[0].categories: "DeviceTeleportEvents" is not a category of family defender; known: DeviceProcessEvents, DeviceNetworkEvents',
      );
      expect(failure([], parsers({ family: 'nosuch' }))).toContain('parsers[edr].sources[0]: unknown family "nosuch" (source "defender"); known: cloudtrail, crowdstrike, defender');
    });

    it('the HTTP source without its token Secret', () => {
      expect(failure(['pipeline.collector.http.enabled=true'])).toContain('pipeline.collector.http.enabled needs secrets.httpToken.existingSecret');
    });
  });
});
