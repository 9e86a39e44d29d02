// IP attribution in the enricher service against a real nats-server: the index loads the gold ip_lookup Delta table
// and the revisions already on gold.ip_lookup, a parsed batch comes out on events.<table>.<p> with <col>_user /
// _mac / _hostname of the holder at each row's event time, and a revision published live changes the answer for
// the batches after it; lookups are counted by result.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc, tableToRows } from '@sluice/columnar';
import { DeltaTable } from '@sluice/delta';
import { ConsumeLoop, createLogger, createMetrics, ensureConsumer, H, loadConfig, provisionTopology, subjects, toNatsHeaders, type CommonConfig, type Metrics } from '@sluice/runtime';
import { defenderTables, fullColumnsOf, ipLookupTable } from '@sluice/tables';
import { enricher, enricherSectionSchema, type EnricherConfig } from '../../services/enricher/main.ts';
import { deltaColumns, tableLocation } from '../../services/sink/main.ts';
import { startNatsServer, type NatsServerHandle } from '../support/natsServer.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const NOW = Date.now();
const T0 = NOW - 6 * HOUR;
const def = defenderTables.DeviceNetworkEvents!;
const log = createLogger('enricher', 'silent');
const iso = (ms: number) => new Date(ms).toISOString();

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let cfg: CommonConfig & EnricherConfig;
let lake: string;
let batchSeq = 0;

/** An ip_lookup revision as the detector's ip_attribution rule publishes it. */
const revision = (ip: string, id: string, rev: number, from: number, to: number | null, holder: { mac?: string; user?: string; hostname?: string; source?: string }) => ({
  ip,
  mac: holder.mac ?? null,
  user: holder.user ?? null,
  hostname: holder.hostname ?? null,
  source: holder.source ?? 'dhcp',
  valid_from: iso(from),
  valid_to: to === null ? null : iso(to),
  lease_expires: null,
  closed_by: to === null ? null : 'stop',
  interval_id: id,
  revision: rev,
  emitted_time: iso(NOW),
  evidence: '[]',
});

async function publishRevision(row: ReturnType<typeof revision>): Promise<void> {
  await js.publish(subjects.gold('ip_lookup'), JSON.stringify(row), { msgID: `gold:ip_lookup:${row.interval_id}:${row.revision}` });
}

/** Publishes a parsed DeviceNetworkEvents batch and returns LocalIP_user / _mac / _hostname of the enriched rows. */
async function enrich(events: { ip: string; t: number }[]): Promise<(string | null)[][]> {
  const b = new ColumnBuilder(fullColumnsOf(def));
  events.forEach((e, i) =>
    b.append({ Timestamp: e.t * 1000, DeviceId: `dev-${i}`, ActionType: 'ConnectionSuccess', LocalIP: e.ip, RemoteIP: '81.2.69.160', _source: 'defender', _object: 'f.json', _raw_seq: 1, _raw: '{}', eventDate: Math.floor(e.t / 86_400_000) }),
  );
  const subject = subjects.events(def.name, 0);
  const before = (await jsm.streams.info('EVENTS')).state.last_seq;
  await js.publish(`parsed.${def.name}`, encodeIpc(b.build()), {
    msgID: `test-batch-${++batchSeq}`,
    headers: toNatsHeaders({ [H.encoding]: 'arrow-ipc', [H.table]: def.name, [H.count]: String(events.length), [H.source]: 'defender', [H.object]: 'f.json', [H.rawSeq]: '1' }),
  });
  await until(async () => (await jsm.streams.info('EVENTS')).state.last_seq > before);
  const m = (await jsm.streams.getMessage('EVENTS', { seq: before + 1 }))!;
  expect(m.subject).toBe(subject);
  return tableToRows(decodeIpc(m.data)).map((r) => [r.LocalIP_user, r.LocalIP_mac, r.LocalIP_hostname] as (string | null)[]);
}

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function counter(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const m = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return Object.fromEntries(m.map((v) => [String(v.labels.result), v.value]));
}

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
  cfg = loadConfig<EnricherConfig>({
    section: 'enricher',
    sectionSchema: enricherSectionSchema,
    env: {},
    overrides: { 'enricher.geoip.enabled': false, 'enricher.domain.enabled': false, 'enricher.attribution.lakePath': lake },
  });
  cfg.consumer.backoffSeconds = [0.05];
  await provisionTopology(nc, jsm, cfg);
  // The gold sink wrote carol's interval two hours ago: it is in the table only, not on the stream.
  const table = await DeltaTable.openOrCreate(tableLocation(lake, 'gold', 'ip_lookup'), { columns: deltaColumns(ipLookupTable), partitionBy: ipLookupTable.partitionBy });
  const gold = new ColumnBuilder(fullColumnsOf(ipLookupTable));
  gold.append({
    ip: '10.7.7.7', mac: 'aa:bb:cc:00:00:07', user: 'carol', hostname: 'ws-carol', source: 'radius', valid_from: (T0 - HOUR) * 1000, valid_to: null, lease_expires: null, closed_by: null,
    interval_id: 'carol-1', revision: 0, emitted_time: (NOW - 2 * HOUR) * 1000, evidence: '[]', valid_from_date: Math.floor((T0 - HOUR) / 86_400_000),
  });
  await table.append(gold.build());
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  if (lake) rmSync(lake, { recursive: true, force: true });
});

describe('enricher: IP attribution over NATS', () => {
  it('loads the table and gold.ip_lookup, stamps the holder at event time, and follows live revisions', async () => {
    // Already on the stream before the enricher starts: alice's lease (opened, then closed by a later revision) and bob's.
    await publishRevision(revision('10.1.2.3', 'alice-1', 0, T0, null, { mac: 'aa:bb:cc:00:00:01', hostname: 'laptop-1' }));
    await publishRevision(revision('10.1.2.3', 'alice-1', 1, T0, null, { mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1' }));
    await publishRevision(revision('10.1.2.3', 'alice-1', 2, T0, T0 + HOUR, { mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1' }));
    await publishRevision(revision('10.1.2.3', 'bob-1', 0, T0 + HOUR, null, { mac: 'aa:bb:cc:00:00:02', user: 'bob', source: 'radius' }));

    const metrics = createMetrics('enricher');
    const svc = await enricher.setup({ stage: 'enricher', config: cfg, nc, js, jsm, log, metrics });
    const input = svc.inputs[0]!;
    await ensureConsumer(jsm, { stream: input.stream, durable: input.durable, filterSubject: input.filterSubject }, cfg.consumer);
    const loop = new ConsumeLoop({ stage: 'enricher', js, consumer: await js.consumers.get(input.stream, input.durable), stream: input.stream, handler: input.handler, cfg: cfg.consumer, log, metrics, onFatal: () => undefined });
    loop.start();
    try {
      expect(await counter(metrics, 'sluice_enricher_attribution_revisions_total')).toEqual({ inserted: 3, revised: 2 });
      expect(
        await enrich([
          { ip: '10.1.2.3', t: T0 + 30 * MIN }, // alice
          { ip: '10.1.2.3', t: T0 - MIN }, // before any lease
          { ip: '10.1.2.3', t: T0 + HOUR }, // the handover: bob
          { ip: '10.7.7.7', t: T0 }, // from the Delta table
          { ip: '10.0.0.99', t: T0 }, // nobody
        ]),
      ).toEqual([
        ['alice', 'aa:bb:cc:00:00:01', 'laptop-1'],
        [null, null, null],
        ['bob', 'aa:bb:cc:00:00:02', null],
        ['carol', 'aa:bb:cc:00:00:07', 'ws-carol'],
        [null, null, null],
      ]);

      // Live: bob's session stops at +3 h and dave's starts.
      await publishRevision(revision('10.1.2.3', 'bob-1', 1, T0 + HOUR, T0 + 3 * HOUR, { mac: 'aa:bb:cc:00:00:02', user: 'bob', source: 'radius' }));
      await publishRevision(revision('10.1.2.3', 'dave-1', 0, T0 + 3 * HOUR, null, { user: 'dave', source: 'vpn' }));
      await until(async () => (await counter(metrics, 'sluice_enricher_attribution_revisions_total')).inserted === 4);
      expect(await enrich([{ ip: '10.1.2.3', t: T0 + 2 * HOUR }, { ip: '10.1.2.3', t: T0 + 4 * HOUR }])).toEqual([
        ['bob', 'aa:bb:cc:00:00:02', null],
        ['dave', null, null],
      ]);
      expect(await counter(metrics, 'sluice_enricher_attribution_total')).toEqual({ hit: 5, miss: 2 });
    } finally {
      await loop.stopFetching();
      await loop.idle();
      await svc.stop?.();
    }
  });
});
