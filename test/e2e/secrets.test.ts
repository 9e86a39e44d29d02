// Secrets never reach a log line or a table. Distinct random strings are planted in every secret-bearing setting
// (NATS password and token, the HTTP source's bearer token and a wrong one sent to it, the Slack webhook URL path,
// the Event Hubs connection string's SAS key, object-store keys in the environment, a malformed connection string),
// the whole local pipeline runs at debug level on a password-protected nats-server, records flow to every layer,
// an alert is posted to Slack and sent to Event Hubs (each refused once first), services are started with broken
// configurations; then every service's output and every file of the lake (Delta JSON, Parquet bytes, decoded rows)
// is searched for each planted string: zero hits. With a Kafka broker installed (`make test-kafka` runs this file
// too) the Kafka paths join in: the collector reads a topic over SASL PLAIN with its password from a mounted file,
// the notifier produces the alert to Event Hubs' Kafka endpoint with a planted connection string, and a collector
// with a wrong password file refuses to start.
import { jetstreamManager } from '@nats-io/jetstream';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalEventHub, type LocalEventHub } from '@sluice/eventhubs';
import { readTable } from '@sluice/delta';
import { connectNats } from '@sluice/runtime';
import { findTables } from '../../cli/lakeTables.ts';
import { REPO_ROOT, serviceList, startPipeline, waitReady, type Pipeline } from '../../cli/pipeline.ts';
import { waitIdle } from '../../cli/streamStatus.ts';
import { generateDefenderRecords, toEventHubPayloads } from '../fixtures/defenderGenerator.ts';
import { selfSignedCert } from '../support/azurite.ts';
import { EVENT_HUBS_USER, kafkaUnavailableReason, startKafkaBroker, type KafkaBrokerHandle } from '../support/kafkaBroker.ts';
import { startConfiguredNatsServer, type ConfiguredNatsServer } from '../support/natsServer.ts';
import { Kafka, logLevel } from 'kafkajs';

const plant = (label: string) => `${label}${randomBytes(10).toString('hex')}`;
const S = {
  natsPass: plant('NatsPass'),
  natsToken: plant('NatsToken'),
  httpToken: plant('HttpBearer'),
  wrongToken: plant('WrongBearer'),
  slackPath: plant('SlackHook'),
  sasKey: plant('SasKey'),
  badConnectionString: plant('BadConnStr'),
  awsSecret: plant('AwsSecret'),
  azureKey: plant('AzureKey'),
  azureClientSecret: plant('AzureClient'),
  kafkaKey: plant('KafkaSasKey'),
  wrongKafkaKey: plant('WrongKafkaKey'),
};
// SLUICE_REQUIRE_KAFKA=1 (make test-kafka): a missing broker is a failure, not a skipped part.
const kafkaMissing = process.env.SLUICE_REQUIRE_KAFKA === '1' ? null : kafkaUnavailableReason();
const kafkaCs = (key: string) => `Endpoint=sb://${HUB_HOST}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${key}`;
const HUB_HOST = 'sluice-secrets.servicebus.windows.net';

const work = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
const logs: string[] = [];
let nats: ConfiguredNatsServer | undefined;
let pipeline: Pipeline | undefined;
let hub: LocalEventHub | undefined;
let slack: { server: Server; url: string; posts: string[]; refused: number } | undefined;
let kafka: KafkaBrokerHandle | undefined;

afterAll(async () => {
  await pipeline?.stop();
  await hub?.close();
  await new Promise((r) => slack?.server.close(r) ?? r(undefined));
  await nats?.stop();
  await kafka?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A Slack stand-in at /services/T…/B…/<secret>: refuses the first post (500) so the retry path logs, then answers ok. */
async function startSlack(): Promise<NonNullable<typeof slack>> {
  const s = { posts: [] as string[], refused: 0 } as NonNullable<typeof slack>;
  s.server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url !== `/services/T0SECRETS/B0SECRETS/${S.slackPath}`) return void res.writeHead(404).end('no_service');
      if (s.refused === 0) {
        s.refused++;
        return void res.writeHead(500).end('rollup_error');
      }
      s.posts.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/services/T0SECRETS/B0SECRETS/${S.slackPath}`;
  return s;
}

/** Runs one service with `env` until it exits; returns its exit code and output. */
async function runOnce(service: string, configFile: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', service, 'main.ts'), '--config', configFile, '--set', 'http.port=0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, out };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Each planted secret found in `haystack`, by name. */
function hits(haystack: Buffer | string): string[] {
  const buf = typeof haystack === 'string' ? Buffer.from(haystack) : haystack;
  return Object.entries(S)
    .filter(([, v]) => buf.includes(v) || buf.includes(Buffer.from(v, 'utf16le')))
    .map(([k]) => k);
}

describe('secrets', () => {
  it('appear in no service log line and no lake file', async () => {
    nats = await startConfiguredNatsServer({ config: `authorization { users: [ { user: sluice, password: "${S.natsPass}" } ] }` });
    slack = await startSlack();
    const tls = selfSignedCert(work);
    hub = await startLocalEventHub({ cert: readFileSync(tls.cert, 'utf8'), key: readFileSync(tls.key, 'utf8'), host: HUB_HOST, keys: [{ keyName: 'send', key: S.sasKey }] });
    hub.script.push(503); // the first send fails: the retry path runs (and logs) too
    if (kafkaMissing) console.warn(`secrets test without its Kafka part: ${kafkaMissing}`);
    else kafka = await startKafkaBroker({ users: { [EVENT_HUBS_USER]: kafkaCs(S.kafkaKey) } });
    const kafkaPasswordFile = join(work, 'kafka-password');
    writeFileSync(kafkaPasswordFile, `${kafkaCs(S.kafkaKey)}\n`, { mode: 0o600 });

    // Secrets only through the environment, as a deployment passes them (Kubernetes Secrets → env).
    const secretEnv: Record<string, string> = {
      SLUICE__NATS__USER: 'sluice',
      SLUICE__NATS__PASS: S.natsPass,
      SLUICE__COLLECTOR__HTTP__TOKEN: S.httpToken,
      SLUICE__NOTIFIER__SLACK__WEBHOOK_URL: slack.url,
      SLUICE__NOTIFIER__EVENTHUBS__HTTPS__CONNECTION_STRING: `Endpoint=sb://${HUB_HOST}/;SharedAccessKeyName=send;SharedAccessKey=${S.sasKey};EntityPath=alerts`,
      AWS_ACCESS_KEY_ID: 'AKIASLUICETEST',
      AWS_SECRET_ACCESS_KEY: S.awsSecret,
      AZURE_STORAGE_KEY: S.azureKey,
      AZURE_CLIENT_SECRET: S.azureClientSecret,
      ...(kafka ? { SLUICE__NOTIFIER__EVENTHUBS__KAFKA__CONNECTION_STRING: kafkaCs(S.kafkaKey) } : {}),
    };
    const kafkaSource = (passwordFile: string) => ({
      source: 'defender_eh',
      family: 'defender',
      brokers: [kafka!.sasl],
      topics: ['secrets-in'],
      groupId: 'sluice-secrets',
      sasl: { mechanism: 'plain', username: EVENT_HUBS_USER, passwordFile },
      ssl: false,
    });
    if (kafka) {
      await kafka.createTopic('secrets-in', 1);
      await kafka.createTopic('secrets-alerts', 1);
    }
    pipeline = await startPipeline({
      workDir: join(work, 'pipeline'),
      natsUrl: nats.url,
      logLevel: 'debug',
      onLog: (s, l) => logs.push(`${s} ${l}`),
      overrides: {
        sink: { flush: { maxLatencySeconds: 1, maxRows: 5000 } },
        notifier: {
          slack: { enabled: true, ratePerSecond: 5 },
          eventhubs: { https: { endpoint: hub.endpoint, caFile: tls.cert }, ...(kafka ? { kafka: { brokers: [kafka.sasl], topic: 'secrets-alerts', ssl: false } } : {}) },
        },
        ...(kafka ? { collector: { kafka: [kafkaSource(kafkaPasswordFile)] } } : {}),
        consumer: { ackWaitSeconds: 30, backoffSeconds: [0.5] },
      },
      serviceEnv: Object.fromEntries(serviceList().map((s) => [s.name, secretEnv])),
    });
    await waitReady(pipeline, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs.filter((l) => /"level":(50|60)|error/i.test(l)).slice(-8).join('\n')}`);
    });

    const gen = generateDefenderRecords({
      seed: 7,
      counts: { DeviceNetworkEvents: 6, DeviceProcessEvents: 6, DeviceLogonEvents: 6, Unknown: 2 },
      listeners: [{ deviceId: 'dev-listener-0007', deviceName: 'ws-secrets-7', port: 3389 }],
      malformed: 4,
    });
    const payloads = toEventHubPayloads(gen.records, 5);
    const post = (token: string | undefined, body: string) =>
      fetch(`${pipeline!.httpUrl}/ingest/defender`, { method: 'POST', body, headers: token ? { authorization: `Bearer ${token}` } : {} });
    // A wrong token and none are refused (and must not be echoed or logged); the right one is accepted.
    expect((await post(S.wrongToken, JSON.stringify(payloads[0]))).status).toBe(403);
    expect((await post(undefined, JSON.stringify(payloads[0]))).status).toBe(401);
    for (const p of payloads) expect((await post(S.httpToken, JSON.stringify(p))).status).toBe(202);
    let kafkaRecords = 0;
    if (kafka) {
      // Other records through Kafka (no listener among them: the one alert stays the HTTP batch's).
      const viaKafka = generateDefenderRecords({ seed: 8, counts: { DeviceNetworkEvents: 4, DeviceProcessEvents: 4 } });
      const producer = new Kafka({ clientId: 'secrets-producer', brokers: [kafka.plaintext], logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      const messages = toEventHubPayloads(viaKafka.records, 4).map((p) => ({ value: JSON.stringify(p) }));
      await producer.send({ topic: 'secrets-in', messages });
      await producer.disconnect();
      kafkaRecords = messages.length; // one Event Hubs container per message: one bronze record each
    }

    const nc = await connectNats({ url: nats.url, user: 'sluice', pass: S.natsPass });
    try {
      await waitIdle(await jetstreamManager(nc), { timeoutMs: 180_000, stableMs: 3000 });
      const deadline = Date.now() + 60_000;
      while ((slack.posts.length < 1 || hub.events.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      await waitIdle(await jetstreamManager(nc), { timeoutMs: 60_000, stableMs: 2000 });
    } finally {
      await nc.close();
    }
    // The alert went out both ways, so the secret-bearing destinations were really used (and retried).
    expect(slack.posts.length).toBe(1);
    expect(slack.posts[0]).toContain('ws-secrets-7');
    expect(hub.events.length).toBe(1);
    expect(hub.unauthorized).toEqual([]);
    if (kafka) {
      // The Kafka paths were really used: the topic's records reached bronze, the alert reached the Kafka topic.
      const bronze = await readTable(join(pipeline.lakePath, 'bronze', 'bronze'));
      expect(bronze.rows.filter((r) => String(r.object).startsWith('secrets-in:')).length).toBe(kafkaRecords);
      const offsets = await kafka.admin.fetchTopicOffsets('secrets-alerts');
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(1);
    }

    // Broken configurations: two NATS methods at once (token and password), a connection string that is not
    // key=value, a wrong NATS password. Each refuses to start, and says why without the secret.
    const cfg = pipeline.configFile;
    const both = await runOnce('splitter', cfg, { SLUICE__NATS__USER: 'sluice', SLUICE__NATS__PASS: S.natsPass, SLUICE__NATS__TOKEN: S.natsToken });
    expect(both.code).toBe(2);
    expect(both.out).toMatch(/set one authentication method, not user\/pass \+ token/);
    const badCs = await runOnce('notifier', cfg, { ...secretEnv, SLUICE__NOTIFIER__EVENTHUBS__HTTPS__CONNECTION_STRING: S.badConnectionString });
    expect(badCs.code).not.toBe(0);
    expect(badCs.out).toMatch(/connection string/);
    const wrongPass = await runOnce('splitter', cfg, { SLUICE__NATS__USER: 'sluice', SLUICE__NATS__PASS: S.natsToken });
    expect(wrongPass.code).toBe(1);
    expect(wrongPass.out).toMatch(/refused the credentials/);
    const broken = [both, badCs, wrongPass];
    if (kafka) {
      // A wrong Kafka password (from its file): the collector refuses to start and names the source, not the key.
      const wrongFile = join(work, 'kafka-password-wrong');
      writeFileSync(wrongFile, kafkaCs(S.wrongKafkaKey), { mode: 0o600 });
      const wrongCfg = join(work, 'sluice-wrong-kafka.yaml');
      writeFileSync(wrongCfg, readFileSync(cfg, 'utf8').replace(kafkaPasswordFile, wrongFile));
      const wrongKafka = await runOnce('collector', wrongCfg, secretEnv, ['--set', 'collector.http.port=0']);
      expect(wrongKafka.code).not.toBe(0);
      expect(wrongKafka.out).toMatch(/Kafka source \\?"defender_eh\\?" \(brokers [^)]*\): SASL PLAIN authentication failed/);
      broken.push(wrongKafka);
    }
    logs.push(...broken.map((r) => `config-error ${r.out}`));

    const codes = await pipeline.stop();
    pipeline = undefined;
    expect([...codes.values()].every((c) => c === 0)).toBe(true);

    // The search itself must be able to find a planted string, or zero hits would prove nothing.
    expect(hits(`x${S.sasKey}y`)).toEqual(['sasKey']);
    // Logs: debug level, every service, start to stop.
    expect(logs.length).toBeGreaterThan(100);
    expect(logs.some((l) => /"level":20/.test(l))).toBe(true);
    const logHits = logs.filter((l) => hits(l).length > 0);
    expect(logHits, 'log lines carrying a secret').toEqual([]);

    // The lake: every file's bytes (Delta JSON log, checkpoints, Parquet) and every table's decoded rows.
    const lake = join(work, 'pipeline', 'lake');
    const files = filesUnder(lake).filter((f) => statSync(f).isFile());
    expect(files.some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(files.filter((f) => hits(readFileSync(f)).length > 0)).toEqual([]);
    const tables = findTables(lake);
    expect(tables.map((t) => t.slice(lake.length + 1))).toEqual(expect.arrayContaining(['bronze/bronze', 'gold/alerts', 'quarantine/quarantine']));
    for (const t of tables) {
      const { rows } = await readTable(t);
      const text = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      expect(hits(text), `rows of ${t}`).toEqual([]);
    }
    // The generated config file holds no secret either (they came through the environment).
    expect(hits(readFileSync(cfg))).toEqual([]);
  });
});
