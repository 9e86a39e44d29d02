// Rule 1 through the stateful runtime: Defender ListeningConnectionCreated and CrowdStrike NetworkListenIP4/IP6 on
// watched ports fire once per (device, port, UTC day); known servers (all ports or listed ports), other ports and
// actions, and repeats are silent. Arrow batches are round-tripped through IPC like the bus does.
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { alertId } from './alertId.ts';
import { DetectorRuntime } from './detectorRuntime.ts';
import { arrowBatch } from './eventBatch.ts';
import { DEFAULT_LISTENING_PORTS, DEFAULT_LISTENING_SOURCES, LISTENING_RULE, listeningRule, type ListeningRuleConfig, type ListeningState } from './listeningRule.ts';

type Row = Record<string, string | number | boolean | null>;
const DEF = 'defender_device_network_events';
const CS = 'crowdstrike_network_listen';
const T1 = Date.UTC(2024, 4, 1, 13, 45, 10, 123);
const DAY = 86_400_000;
const NOW = new Date('2024-05-02T08:00:00.000Z');

function batch(table: string, rows: Row[]) {
  const def = allTables().find((t) => t.name === table)!;
  const b = new ColumnBuilder(fullColumnsOf(def));
  // The builder takes timestamps in epoch microseconds.
  for (const r of rows) b.append(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (k === 'Timestamp' || k === 'timestamp') && typeof v === 'number' ? v * 1000 : v])));
  return arrowBatch(table, decodeIpc(encodeIpc(b.build())));
}

const defender = (over: Row = {}): Row => ({
  Timestamp: T1,
  DeviceId: 'a1b2c3d4e5',
  DeviceName: 'ws-042.corp.example',
  ActionType: 'ListeningConnectionCreated',
  LocalIP: '10.1.2.3',
  LocalPort: 3389,
  ReportId: 1,
  _source: 'defender_xdr',
  _object: 'inbox/net-0001.json.gz',
  _raw_seq: 77,
  ...over,
});

const crowdstrike = (over: Row = {}): Row => ({
  event_simpleName: 'NetworkListenIP4',
  timestamp: T1,
  aid: 'f00dfeed0001',
  ComputerName: 'LINUX-DB-7',
  LocalAddressIP4: '10.9.8.7',
  LocalPort: 445,
  _source: 'falcon_fdr',
  _object: 's3://fdr/data/part-0001.gz',
  _raw_seq: 12,
  ...over,
});

function runtime(cfg: Partial<ListeningRuleConfig> = {}) {
  const rule = listeningRule({ ports: DEFAULT_LISTENING_PORTS, knownServers: [], sources: DEFAULT_LISTENING_SOURCES, ...cfg });
  return new DetectorRuntime<ListeningState>(rule, 4, [0, 1, 2, 3], { ttlMs: 3 * DAY, maxKeysPerPartition: 1000 });
}

describe('listening rule (Defender)', () => {
  it('fires once per watched port, with service names and severities', () => {
    const rt = runtime();
    const { alerts } = rt.apply(DEF, 1, batch(DEF, DEFAULT_LISTENING_PORTS.map((p) => defender({ LocalPort: p }))), NOW);
    expect(alerts.map((a) => a.detail.LocalPort)).toEqual([3389, 139, 445, 2598, 1494]);
    expect(alerts.map((a) => a.detail.service)).toEqual(['RDP', 'NetBIOS', 'SMB', 'Citrix CGP', 'Citrix ICA']);
    expect(alerts.map((a) => a.severity)).toEqual(['high', 'medium', 'high', 'medium', 'medium']);
  });

  it('is silent on other ports, other actions, null ports and repeats; a new day fires again', () => {
    const rt = runtime();
    const benign = [
      ...[22, 80, 443, 3390, 0].map((p) => defender({ LocalPort: p })),
      defender({ LocalPort: null }),
      ...['ConnectionSuccess', 'InboundConnectionAccepted'].map((a) => defender({ ActionType: a })),
    ];
    expect(rt.apply(DEF, 1, batch(DEF, benign), NOW).alerts).toEqual([]);
    expect(rt.apply(DEF, 2, batch(DEF, [defender(), defender({ Timestamp: T1 + 3_600_000 })]), NOW).alerts).toHaveLength(1);
    // The same traffic again (another batch, later that day): silent.
    expect(rt.apply(DEF, 3, batch(DEF, [defender({ Timestamp: T1 + 7_200_000 })]), NOW).alerts).toEqual([]);
    const nextDay = rt.apply(DEF, 4, batch(DEF, [defender({ Timestamp: T1 + DAY })]), NOW).alerts;
    expect(nextDay.map((a) => a.alert_id)).toEqual([alertId(LISTENING_RULE, 'a1b2c3d4e5', 3389, '2024-05-02')]);
  });

  it('skips known servers by name or id, for all ports or only the listed ones', () => {
    const rt = runtime({ knownServers: ['FILESRV01', { name: 'citrix-gw', ports: [2598, 1494] }] });
    const rows = [
      defender({ DeviceId: 'id-1', DeviceName: 'filesrv01', LocalPort: 445 }),
      defender({ DeviceId: 'id-2', DeviceName: 'CITRIX-GW', LocalPort: 1494 }),
      defender({ DeviceId: 'id-2', DeviceName: 'CITRIX-GW', LocalPort: 3389 }),
    ];
    const alerts = rt.apply(DEF, 1, batch(DEF, rows), NOW).alerts;
    expect(alerts.map((a) => `${a.entity}:${a.detail.LocalPort}`)).toEqual(['CITRIX-GW:3389']);
  });

  it('fills the alert: id, title, entity, detail, lineage evidence, times and the next query', () => {
    const [a] = runtime().apply(DEF, 1, batch(DEF, [defender()]), NOW).alerts;
    expect(a).toEqual({
      alert_id: alertId(LISTENING_RULE, 'a1b2c3d4e5', 3389, '2024-05-01'),
      rule: LISTENING_RULE,
      severity: 'high',
      title: 'RDP listening on ws-042.corp.example (port 3389)',
      entity: 'ws-042.corp.example',
      event_time: '2024-05-01T13:45:10.123Z',
      created_time: '2024-05-02T08:00:00.000Z',
      detail: { table: DEF, DeviceId: 'a1b2c3d4e5', DeviceName: 'ws-042.corp.example', LocalIP: '10.1.2.3', LocalPort: 3389, service: 'RDP' },
      evidence: [{ table: DEF, source: 'defender_xdr', object: 'inbox/net-0001.json.gz', raw_seq: 77 }],
      next_query: `SELECT * FROM ${DEF} WHERE DeviceId = 'a1b2c3d4e5' AND eventDate = DATE '2024-05-01' AND LocalPort = 3389`,
    });
  });
});

describe('listening rule (CrowdStrike)', () => {
  it('fires on NetworkListenIP4 and IP6 rows keyed by aid', () => {
    const rt = runtime();
    const rows = [
      crowdstrike(),
      crowdstrike({ event_simpleName: 'NetworkListenIP6', aid: 'f00dfeed0002', ComputerName: 'web-1', LocalAddressIP4: null, LocalAddressIP6: 'fd00::7', LocalPort: 3389 }),
      crowdstrike({ event_simpleName: 'NetworkListenIP4', LocalPort: 8080 }),
    ];
    const alerts = rt.apply(CS, 5, batch(CS, rows), NOW).alerts;
    expect(alerts.map((a) => [a.entity, a.detail.LocalIP, a.detail.LocalPort, a.severity])).toEqual([
      ['LINUX-DB-7', '10.9.8.7', 445, 'high'],
      ['web-1', 'fd00::7', 3389, 'high'],
    ]);
    expect(alerts[0]!.alert_id).toBe(alertId(LISTENING_RULE, 'f00dfeed0001', 445, '2024-05-01'));
    expect(alerts[0]!.evidence).toEqual([{ table: CS, source: 'falcon_fdr', object: 's3://fdr/data/part-0001.gz', raw_seq: 12 }]);
    expect(alerts[0]!.next_query).toBe(`SELECT * FROM ${CS} WHERE aid = 'f00dfeed0001' AND eventDate = DATE '2024-05-01' AND LocalPort = 445`);
    // Same listener reported again: silent.
    expect(rt.apply(CS, 6, batch(CS, [crowdstrike({ timestamp: T1 + 60_000 })]), NOW).alerts).toEqual([]);
  });

  it('ignores rows of other event types even on watched ports', () => {
    expect(runtime().apply(CS, 1, batch(CS, [crowdstrike({ event_simpleName: 'NetworkConnectIP4' })]), NOW).alerts).toEqual([]);
  });
});
