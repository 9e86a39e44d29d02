// Detections 3 (IoC matching) and 4 (Zeek notice ⨝ conn) in the detector service against a real nats-server:
// indicators load from the iocs Delta table plus `events.iocs.>` and update live, mapped rows alert once per
// (device, type, IoC) on alerts.ioc_match, a restart keeps both the index and the suppression state, and a Zeek
// notice joined with its conn comes out on alerts.zeek_notice_conn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, encodeIpc, type CellValue } from '@sluice/columnar';
import { DeltaTable } from '@sluice/delta';
import { createLogger, createMetrics, H, loadConfig, provisionTopology, subjects, toNatsHeaders, type CommonConfig } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { IOC_RULE, ZEEK_JOIN_RULE } from '@sluice/detect';
import { detectorSchema, type DetectorConfig } from '../../services/detector/config.ts';
import { detector } from '../../services/detector/main.ts';
import { deltaColumns, tableLocation } from '../../services/sink/main.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

const HOUR = 3_600_000;
const NOW = Date.now();
const T0 = NOW - 3 * HOUR;
const log = createLogger('detector', 'silent');
const def = (name: string) => allTables().find((t) => t.name === name)!;

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let cfg: CommonConfig & DetectorConfig;
let lake: string;
let seq = 0;

/** A silver-table row's lineage, as the parser writes it (times in µs). */
const lineage = (ingestMs = NOW) => ({ _source: 'test', _object: `obj-${++seq}`, _raw_seq: seq, _input_seq: seq, _ingest_time: ingestMs * 1000, _parser_version: 't', _raw: '{}' });
const ioc = (indicator: string, type: string, confidence: number, ingestMs = NOW) => ({
  indicator,
  type,
  dataset: 'otx',
  first_seen: (T0 - 24 * HOUR) * 1000,
  confidence,
  threat: 'test threat',
  ...lineage(ingestMs),
});

async function publish(table: string, rows: Record<string, CellValue>[]): Promise<void> {
  const b = new ColumnBuilder(fullColumnsOf(def(table)));
  for (const r of rows) b.append(r);
  await js.publish(subjects.events(table, seq % 2), encodeIpc(b.build()), { headers: toNatsHeaders({ [H.encoding]: 'arrow-ipc', [H.count]: String(rows.length) }) });
}

async function alerts(rule: string): Promise<Alert[]> {
  const info = await jsm.streams.info('ALERTS');
  const out: Alert[] = [];
  for (let s = info.state.first_seq; info.state.messages > 0 && s <= info.state.last_seq; s++) {
    const m = await jsm.streams.getMessage('ALERTS', { seq: s }).catch(() => null);
    if (m && m.subject === subjects.alerts(rule)) out.push(JSON.parse(new TextDecoder().decode(m.data)) as Alert);
  }
  return out;
}

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function consumed(durable: string): Promise<boolean> {
  const info = await jsm.consumers.info('EVENTS', durable).catch(() => null);
  return !!info && info.num_pending === 0 && info.num_ack_pending === 0;
}

const net = (device: string, ip: string, t: number) => ({ Timestamp: t * 1000, DeviceName: device, DeviceId: `id-${device}`, ActionType: 'ConnectionSuccess', RemoteIP: ip, ReportId: seq, ...lineage() });
const NET = 'defender_device_network_events';
const netDurable = `detector-${IOC_RULE}-${NET}-r0`;
const iocSummary = async () => (await alerts(IOC_RULE)).map((a) => `${a.entity} ${String(a.detail.ioc)} ${a.severity}`);

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
  cfg = loadConfig<DetectorConfig>({
    section: 'detector',
    sectionSchema: detectorSchema,
    env: {},
    overrides: {
      'detector.partitions': 4,
      'detector.listening.enabled': false,
      'detector.newNetwork.enabled': false,
      'detector.dataQuality.enabled': false,
      'detector.ioc.lakePath': lake,
      'detector.zeekJoin.windowSeconds': 60,
      'detector.zeekJoin.latenessSeconds': 60,
    },
  });
  cfg.consumer.backoffSeconds = [0.05];
  await provisionTopology(nc, jsm, cfg);
  // The sink wrote one indicator two hours ago: it is in the table only, not on the stream.
  const iocs = def('iocs');
  const table = await DeltaTable.openOrCreate(tableLocation(lake, 'silver', 'iocs'), { columns: deltaColumns(iocs), partitionBy: iocs.partitionBy });
  const b = new ColumnBuilder(fullColumnsOf(iocs));
  b.append({ ...ioc('203.0.113.66', 'IPv4', 90, NOW - 2 * HOUR), eventDate: Math.floor((T0 - 24 * HOUR) / 86_400_000) });
  await table.append(b.build());
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  if (lake) rmSync(lake, { recursive: true, force: true });
});

describe('detector: IoC matching and Zeek join over NATS', () => {
  it('loads the table and the stream, matches mapped rows, updates live, and survives a restart without double alerts', async () => {
    // Published before the detector starts: read from the stream after the table load.
    await publish('iocs', [ioc('evil.co.uk', 'domain', 50)]);
    const ctx = { stage: 'detector', config: cfg, nc, js, jsm, log, metrics: createMetrics('detector') };
    const first = await detector.setup(ctx);

    await publish(NET, [net('ws-1', '10.1.1.1', T0), net('ws-1', '203.0.113.66', T0 + 1000), net('ws-1', '203.0.113.66', T0 + 2000)]);
    const dns = (host: string, name: string, t: number) => ({ timestamp: t * 1000, event_simpleName: 'DnsRequest', aid: `aid-${host}`, ComputerName: host, DomainName: name, ...lineage() });
    await publish('crowdstrike_dns_request', [dns('cs-1', 'a.b.evil.co.uk', T0), dns('cs-1', 'good.example.com', T0)]);
    // A feed update arrives live; then a row matching it.
    await publish('iocs', [ioc('198.51.100.9', 'IPv4', 10)]);
    await new Promise((r) => setTimeout(r, 300));
    await publish(NET, [net('ws-2', '198.51.100.9', T0 + 3000)]);
    await until(async () => (await alerts(IOC_RULE)).length >= 3);
    await until(() => consumed(netDurable));
    await first.stop!();
    expect((await iocSummary()).sort()).toEqual(['cs-1 evil.co.uk medium', 'ws-1 203.0.113.66 high', 'ws-2 198.51.100.9 low']);
    const one = (await alerts(IOC_RULE)).find((a) => a.entity === 'ws-1')!;
    expect(one.evidence[0]).toMatchObject({ table: NET, source: 'test' });
    expect(one.detail).toMatchObject({ column: 'RemoteIP', ioc_type: 'IPv4', confidence: 90, threat: 'test threat' });
    expect(one.next_query).toContain(`FROM ${NET} WHERE RemoteIP = '203.0.113.66'`);

    // Restart: the index is rebuilt (table + stream), the suppression state comes from the snapshot.
    const second = await detector.setup({ ...ctx, metrics: createMetrics('detector') });
    await publish(NET, [net('ws-1', '203.0.113.66', T0 + HOUR), net('ws-2', '198.51.100.9', T0 + HOUR), net('ws-3', '198.51.100.9', T0 + HOUR), net('ws-4', '203.0.113.66', T0 + HOUR)]);
    await until(async () => (await alerts(IOC_RULE)).length >= 5);
    await until(() => consumed(netDurable));
    await new Promise((r) => setTimeout(r, 300));
    await second.stop!();
    expect((await iocSummary()).slice(3).sort()).toEqual(['ws-3 198.51.100.9 low', 'ws-4 203.0.113.66 high']);
    const ids = (await alerts(IOC_RULE)).map((a) => a.alert_id);
    expect(new Set(ids).size).toBe(5);
  });

  it('joins a Zeek notice with its conn and publishes it on alerts.zeek_notice_conn', async () => {
    const svc = await detector.setup({ stage: 'detector', config: cfg, nc, js, jsm, log, metrics: createMetrics('detector') });
    const t = T0 * 1000;
    await publish('zeek_notice', [{ ts: t + 5e6, uid: 'CjoinMe', note: 'SSL::Invalid_Server_Cert', msg: 'self signed', sub: 'CN=x', src: '10.0.0.5', ...lineage() }]);
    await publish('zeek_conn', [
      { ts: t, uid: 'CjoinMe', id_orig_h: '10.0.0.5', id_orig_p: 50000, id_resp_h: '203.0.113.7', id_resp_p: 443, proto: 'tcp', service: 'ssl', duration: 12.5, orig_bytes: 100, resp_bytes: 2000, ...lineage() },
      { ts: t, uid: 'Cother', id_orig_h: '10.0.0.6', id_orig_p: 50001, id_resp_h: '203.0.113.8', id_resp_p: 80, proto: 'tcp', ...lineage() },
    ]);
    await until(async () => (await alerts(ZEEK_JOIN_RULE)).length === 1);
    await svc.stop!();
    const [a] = await alerts(ZEEK_JOIN_RULE);
    expect(a!.detail).toMatchObject({ note: 'SSL::Invalid_Server_Cert', msg: 'self signed', joined: true, id_resp_h: '203.0.113.7', id_resp_p: 443, service: 'ssl', duration: 12.5, resp_bytes: 2000 });
    expect(a!.evidence.map((e) => e.table)).toEqual(['zeek_notice', 'zeek_conn']);
  });
});
