// Every collector input kind through the whole pipeline to silver tables, with exact counts and a SIGKILL of the
// collector midway: CloudTrail gzip objects on S3 (MinIO), Zeek TSV logs on Azure Blob (Azurite), DHCP syslog over
// UDP and over TCP, and (when the Kafka jars are installed: `make test-kafka`) Defender Event Hubs payloads on a real
// Kafka broker over SASL PLAIN. Object stores and Kafka replay after the kill; syslog has no replay, so its second
// wave is sent after the restart (docs/sources/collector.md: syslog is at most once).
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { readTable } from '@sluice/delta';
import { freePort } from '../../cli/natsProcess.ts';
import { startPipeline, waitReady, type LocalSource, type Pipeline } from '../../cli/pipeline.ts';
import { waitIdle } from '../../cli/streamStatus.ts';
import { DEFENDER_CATEGORIES, generateDefenderRecords, toEventHubPayloads } from '../fixtures/defenderGenerator.ts';
import { findAzurite, startAzurite, type AzuriteHandle } from '../support/azurite.ts';
import { kafkaUnavailableReason, startKafkaBroker, EVENT_HUBS_PASSWORD, EVENT_HUBS_USER, type KafkaBrokerHandle } from '../support/kafkaBroker.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';
import { until } from '../support/rawStream.ts';
import { findMinio, startS3Server, type S3ServerHandle } from '../support/s3Server.ts';

const requireAll = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const objectStores = (findMinio() !== null && findAzurite() !== null) || requireAll;
if (!objectStores) console.warn('skipping the inputs end-to-end test: minio or azurite is not installed (scripts/install-s3-server.sh, npm install)');
const withKafka = process.env.SLUICE_REQUIRE_KAFKA === '1' || kafkaUnavailableReason() === null;

const enc = new TextEncoder();
const ZEEK_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'zeek', 'conn.log');

/** `objects` gzip CloudTrail objects of `perObject` events each, with unique event ids. */
function cloudTrailObjects(wave: number, objects: number, perObject: number): { key: string; body: Uint8Array; ids: string[] }[] {
  return Array.from({ length: objects }, (_, o) => {
    const records = Array.from({ length: perObject }, (_, i) => ({
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012', userName: 'alice' },
      eventTime: new Date(Date.UTC(2024, 2, 11, 9, wave * 10 + o, i % 60)).toISOString().replace('.000', ''),
      eventSource: 's3.amazonaws.com',
      eventName: i % 2 ? 'GetObject' : 'PutObject',
      awsRegion: 'eu-west-1',
      sourceIPAddress: `203.0.113.${(o * 7 + i) % 250}`,
      userAgent: 'aws-cli/2.15.0',
      requestID: `REQ${wave}${o}${i}`,
      eventID: `e2e-${wave}-${o}-${i}`,
      eventType: 'AwsApiCall',
      recipientAccountId: '123456789012',
    }));
    // Keys are time-ordered like CloudTrail's, so the high-water mark sees every object once.
    const key = `AWSLogs/123456789012/CloudTrail/eu-west-1/2024/03/11/obj-${wave}-${String(o).padStart(3, '0')}.json.gz`;
    return { key, body: gzipSync(JSON.stringify({ Records: records })), ids: records.map((r) => r.eventID) };
  });
}

/** Zeek conn.log files (TSV with the fixture's header), `lines` connections each with unique uids. */
function zeekFiles(wave: number, files: number, lines: number): { name: string; body: Uint8Array; uids: string[] }[] {
  const text = readFileSync(ZEEK_FIXTURE, 'utf8').split('\n');
  const header = text.filter((l) => l.startsWith('#') && !l.startsWith('#close'));
  const template = text.find((l) => l && !l.startsWith('#'))!.split('\t');
  return Array.from({ length: files }, (_, f) => {
    const uids: string[] = [];
    const rows = Array.from({ length: lines }, (_, i) => {
      const row = [...template];
      row[0] = (1710115200 + wave * 3600 + f * 60 + i).toFixed(6);
      row[1] = `Cw${wave}f${f}n${i}`.padEnd(18, 'x');
      uids.push(row[1]);
      return row.join('\t');
    });
    return { name: `zeek/2024-03-11/conn.${wave}-${f}.log`, body: enc.encode([...header, ...rows, '#close\t2024-03-11-01-00-00', ''].join('\n')), uids };
  });
}

function dhcpLines(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const mac = `f0:5e:0c:${tag}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    return `<30>Oct 10 12:${String(i % 60).padStart(2, '0')}:00 dhcp01 dhcpd[3761]: DHCPACK on 10.${tag === 'aa' ? 1 : 2}.${i >> 8}.${i & 255} to ${mac} (host${i}) via eth2`;
  });
}

async function sendUdp(port: number, lines: string[]): Promise<void> {
  const sock = createSocket('udp4');
  // Small datagrams, paced, so the kernel buffer never overflows (UDP drops are not the subject here).
  for (let i = 0; i < lines.length; i += 20) {
    await new Promise<void>((ok, ko) => sock.send(lines.slice(i, i + 20).join('\n'), port, '127.0.0.1', (e) => (e ? ko(e) : ok())));
    await new Promise((r) => setTimeout(r, 2));
  }
  sock.close();
}

async function sendTcp(port: number, lines: string[]): Promise<void> {
  await new Promise<void>((ok, ko) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      // RFC 6587 octet counting.
      s.end(lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(''), () => ok());
    });
    s.on('error', ko);
  });
}

async function rows(lake: string, table: string): Promise<Record<string, unknown>[]> {
  return (await readTable(join(lake, 'silver', table))).rows;
}

async function rawCount(natsUrl: string, source: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('RAW', { subjects_filter: `raw.${source}.>` });
    let n = 0;
    for (const [, count] of Object.entries(info.state.subjects ?? {})) n += count;
    return n;
  } finally {
    await nc.close();
  }
}

describe.skipIf(!objectStores)('every input kind end to end, with the collector SIGKILLed midway', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it(`lands S3, Azure Blob, syslog UDP and TCP${withKafka ? ' and Kafka (SASL PLAIN)' : ''} records exactly once in bronze and silver`, async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'sluice-inputs-'));
    cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
    const nats: NatsServerHandle = await startNatsServer();
    cleanups.push(() => nats.stop());
    const s3: S3ServerHandle = await startS3Server();
    cleanups.push(() => s3.stop());
    await s3.createBucket('trail');
    const azurite: AzuriteHandle = await startAzurite({ container: 'zeek' });
    cleanups.push(() => azurite.stop());
    let kafka: KafkaBrokerHandle | undefined;
    if (withKafka) {
      kafka = await startKafkaBroker();
      cleanups.push(() => kafka!.stop());
      await kafka.createTopic('defender', 2);
    }
    const [udpPort, tcpPort] = [await freePort(), await freePort()];

    const sources: LocalSource[] = [
      { source: 'trail', family: 'cloudtrail' },
      { source: 'zeek', family: 'zeek' },
      { source: 'dhcp-udp', family: 'dhcp' },
      { source: 'dhcp-tcp', family: 'dhcp' },
      ...(kafka ? [{ source: 'defender', family: 'defender' }] : []),
    ];
    const logs: string[] = [];
    const pipeline: Pipeline = await startPipeline({
      workDir,
      natsUrl: nats.url,
      sources,
      onLog: (s, l) => logs.push(`${s} ${l}`),
      overrides: {
        collector: {
          directories: [],
          objectStores: [
            { source: 'trail', family: 'cloudtrail', url: 's3://trail/AWSLogs', pollSeconds: 0.5, s3: { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true } },
            { source: 'zeek', family: 'zeek', url: 'az://zeek/zeek', pollSeconds: 0.5, azure: { endpoint: azurite.endpoint, accountName: azurite.accountName } },
          ],
          syslog: [
            { source: 'dhcp-udp', family: 'dhcp', udp: { host: '127.0.0.1', port: udpPort }, batchMillis: 200 },
            { source: 'dhcp-tcp', family: 'dhcp', tcp: { host: '127.0.0.1', port: tcpPort }, batchMillis: 200 },
          ],
          kafka: kafka ? [{ source: 'defender', brokers: [kafka.sasl], topics: ['defender'], groupId: 'sluice-e2e', sasl: { mechanism: 'plain', username: EVENT_HUBS_USER, password: EVENT_HUBS_PASSWORD } }] : [],
          http: { enabled: false },
        },
        sink: { flush: { maxLatencySeconds: 1, maxRows: 5000 } },
      },
      // Credentials only through the SDKs' environment chains, as in production.
      serviceEnv: { collector: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, AZURE_STORAGE_ACCOUNT_KEY: azurite.accountKey } },
    });
    cleanups.push(() => pipeline.stop());
    try {
      await waitReady(pipeline, 120_000);
      const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('zeek');
      const trail = [cloudTrailObjects(1, 12, 40), cloudTrailObjects(2, 8, 40)];
      const zeek = [zeekFiles(1, 6, 50), zeekFiles(2, 4, 50)];
      const udp = [dhcpLines('aa', 150), dhcpLines('ab', 100)];
      const tcp = [dhcpLines('ba', 150), dhcpLines('bb', 100)];
      const gen = withKafka ? generateDefenderRecords({ seed: 41, counts: Object.fromEntries(DEFENDER_CATEGORIES.map((c) => [c, 60])) }) : undefined;
      const payloads = gen ? toEventHubPayloads(gen.records, 10) : [];
      const producer = kafka ? new Kafka({ brokers: [kafka.plaintext], logLevel: logLevel.NOTHING }).producer() : undefined;
      await producer?.connect();
      const produce = async (from: number, to: number) => {
        await producer?.send({ topic: 'defender', messages: payloads.slice(from, to).map((p, i) => ({ key: String(from + i), value: JSON.stringify(p) })) });
      };

      // Wave 1 on every input.
      for (const o of trail[0]!) await client.send(new PutObjectCommand({ Bucket: 'trail', Key: o.key, Body: o.body }));
      for (const f of zeek[0]!) await container.getBlockBlobClient(f.name).uploadData(Buffer.from(f.body));
      await sendUdp(udpPort, udp[0]!);
      await sendTcp(tcpPort, tcp[0]!);
      await produce(0, Math.ceil(payloads.length / 2));
      // Syslog has no replay: only kill once wave 1 of both listeners is stored in RAW.
      await until(async () => (await rawCount(nats.url, 'dhcp-udp')) >= 1 && (await rawCount(nats.url, 'dhcp-tcp')) >= 1, 30_000, 'syslog wave 1 in RAW');
      await until(async () => (await rawCount(nats.url, 'trail')) > 0, 30_000, 'the object-store source to start publishing');
      // Let the batching windows flush (batchMillis 200) before the kill.
      await new Promise((r) => setTimeout(r, 1000));

      await pipeline.kill('collector', 'SIGKILL');
      // Wave 2 of the replayable inputs arrives while the collector is down.
      for (const o of trail[1]!) await client.send(new PutObjectCommand({ Bucket: 'trail', Key: o.key, Body: o.body }));
      for (const f of zeek[1]!) await container.getBlockBlobClient(f.name).uploadData(Buffer.from(f.body));
      await produce(Math.ceil(payloads.length / 2), payloads.length);
      await pipeline.restart('collector');
      await waitReady(pipeline, 60_000);
      await sendUdp(udpPort, udp[1]!);
      await sendTcp(tcpPort, tcp[1]!);
      await producer?.disconnect();

      const nc = await connect({ servers: nats.url });
      await new Promise((r) => setTimeout(r, 3000));
      await waitIdle(await jetstreamManager(nc), { timeoutMs: 180_000, stableMs: 4000 });
      await nc.close();

      const lake = pipeline.lakePath;
      const ct = await rows(lake, 'cloudtrail');
      const ids = trail.flat().flatMap((o) => o.ids);
      expect(ct.length).toBe(ids.length);
      expect(new Set(ct.map((r) => r.eventID)).size).toBe(ids.length);
      const conn = await rows(lake, 'zeek_conn');
      const uids = zeek.flat().flatMap((f) => f.uids);
      expect(conn.length).toBe(uids.length);
      expect(new Set(conn.map((r) => r.uid))).toEqual(new Set(uids));
      const dhcp = await rows(lake, 'dhcp');
      expect(dhcp.filter((r) => r._source === 'dhcp-udp').length).toBe(250);
      expect(dhcp.filter((r) => r._source === 'dhcp-tcp').length).toBe(250);
      expect(new Set(dhcp.map((r) => `${String(r._source)}|${String(r.mac)}`)).size).toBe(500);
      const bronze = (await readTable(join(lake, 'bronze', 'bronze'))).rows;
      const bySource = (s: string) => bronze.filter((r) => r.source === s).length;
      // Bronze holds records as the collector framed them: CloudTrail objects explode to events, Zeek lines minus preamble.
      expect(bySource('trail')).toBe(ids.length);
      expect(bySource('zeek')).toBe(uids.length + zeek.flat().length); // + one #close line per file
      expect(bySource('dhcp-udp')).toBe(250);
      expect(bySource('dhcp-tcp')).toBe(250);
      if (gen) {
        let valid = 0;
        for (const c of DEFENDER_CATEGORIES) valid += gen.expected.categories[c].valid;
        let landed = 0;
        for (const t of ['defender_device_process_events', 'defender_device_network_events', 'defender_device_logon_events', 'defender_device_file_events', 'defender_device_registry_events']) landed += (await rows(lake, t)).length;
        expect(landed).toBe(valid);
        expect(bySource('defender')).toBe(payloads.length);
      }
    } catch (e) {
      console.error(logs.slice(-60).join('\n'));
      throw e;
    }
  }, 600_000);
});
