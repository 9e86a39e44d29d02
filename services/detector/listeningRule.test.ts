// detectListening on real Arrow batches of the DeviceNetworkEvents table (round-tripped through IPC like the bus does):
// which rows fire, known-server exclusion, stable per (device, port, day) alert ids, and the alert's fields.
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { defenderTables, fullColumnsOf } from '@sluice/tables';
import { alertId, detectListening, LISTENING_RULE, type ListeningRuleConfig } from './listeningRule.ts';

const TABLE = 'defender_device_network_events';
const PORTS = [3389, 139, 445, 2598, 1494];
const cfg: ListeningRuleConfig = { ports: PORTS, knownServers: [] };
const NOW = new Date('2024-05-02T08:00:00.000Z');
// 2024-05-01T13:45:10.123456Z in epoch microseconds.
const T1 = Date.UTC(2024, 4, 1, 13, 45, 10, 123) * 1000 + 456;
const DAY_US = 86_400_000_000;

type Row = Record<string, string | number | boolean | null>;

function row(over: Row = {}): Row {
  return {
    Timestamp: T1,
    DeviceId: 'a1b2c3d4e5',
    DeviceName: 'ws-042.corp.example',
    ActionType: 'ListeningConnectionCreated',
    LocalIP: '10.1.2.3',
    LocalPort: 3389,
    InitiatingProcessFileName: 'svchost.exe',
    _source: 'defender_xdr',
    _object: 'inbox/2024-05-01/net-0001.json.gz',
    _raw_seq: 77,
    ...over,
  };
}

function batch(rows: Row[]) {
  const b = new ColumnBuilder(fullColumnsOf(defenderTables.DeviceNetworkEvents!));
  for (const r of rows) b.append(r);
  return decodeIpc(encodeIpc(b.build()));
}

const detect = (rows: Row[], c: ListeningRuleConfig = cfg) => detectListening(batch(rows), TABLE, c, NOW);

describe('detectListening', () => {
  it('fires once per ListeningConnectionCreated row on each watched port', () => {
    const alerts = detect(PORTS.map((p) => row({ LocalPort: p })));
    expect(alerts.map((a) => a.detail.LocalPort)).toEqual(PORTS);
    expect(alerts.map((a) => a.detail.service)).toEqual(['RDP', 'NetBIOS', 'SMB', 'Citrix CGP', 'Citrix ICA']);
    expect(alerts.map((a) => a.severity)).toEqual(['high', 'medium', 'high', 'medium', 'medium']);
  });

  it('ignores other ports, other action types and null ports', () => {
    const rows = [
      ...[22, 80, 443, 3390, 0].map((p) => row({ LocalPort: p })),
      row({ LocalPort: null }),
      ...['ConnectionSuccess', 'InboundConnectionAccepted', 'ConnectionAttempt'].map((a) => row({ ActionType: a })),
      row({ ActionType: null }),
    ];
    expect(detect(rows)).toEqual([]);
    // The same batch plus one matching row yields exactly that one.
    expect(detect([...rows, row({ LocalPort: 445 })]).map((a) => a.detail.LocalPort)).toEqual([445]);
  });

  it('skips known servers by DeviceName or DeviceId, case-insensitively', () => {
    const rows = [
      row({ DeviceId: 'id-1', DeviceName: 'FILESRV01' }),
      row({ DeviceId: 'ID-2', DeviceName: 'citrix-gw' }),
      row({ DeviceId: 'id-3', DeviceName: 'ws-7' }),
    ];
    const alerts = detect(rows, { ports: PORTS, knownServers: ['filesrv01', 'id-2'] });
    expect(alerts.map((a) => a.entity)).toEqual(['ws-7']);
    expect(detect(rows, { ports: PORTS, knownServers: ['FileSrv01', 'Id-2', 'WS-7'] })).toEqual([]);
  });

  it('gives the same id for the same device, port and day, and a different one otherwise', () => {
    const [a, sameDayLater, otherDay, otherPort, otherDevice] = detect([
      row(),
      row({ Timestamp: T1 + 3_600_000_000 }),
      row({ Timestamp: T1 + DAY_US }),
      row({ LocalPort: 445 }),
      row({ DeviceId: 'ffff0000', DeviceName: 'ws-043' }),
    ]);
    expect(a!.alert_id).toMatch(/^[0-9a-f]{32}$/);
    expect(sameDayLater!.alert_id).toBe(a!.alert_id);
    expect(a!.alert_id).toBe(alertId(LISTENING_RULE, 'a1b2c3d4e5', 3389, '2024-05-01'));
    const ids = [a, otherDay, otherPort, otherDevice].map((x) => x!.alert_id);
    expect(new Set(ids).size).toBe(4);
    // Ids do not depend on the batch or on when the detector ran.
    const again = detectListening(batch([row()]), TABLE, cfg, new Date('2030-01-01T00:00:00Z'));
    expect(again[0]!.alert_id).toBe(a!.alert_id);
  });

  it('fills severity, entity, detail, lineage evidence, ISO event time and the next query', () => {
    const [a] = detect([row()]);
    expect(a).toEqual({
      alert_id: alertId(LISTENING_RULE, 'a1b2c3d4e5', 3389, '2024-05-01'),
      rule: LISTENING_RULE,
      severity: 'high',
      title: 'RDP listening on ws-042.corp.example (port 3389)',
      entity: 'ws-042.corp.example',
      event_time: '2024-05-01T13:45:10.123Z',
      created_time: '2024-05-02T08:00:00.000Z',
      detail: {
        DeviceId: 'a1b2c3d4e5',
        DeviceName: 'ws-042.corp.example',
        LocalIP: '10.1.2.3',
        LocalPort: 3389,
        service: 'RDP',
        InitiatingProcessFileName: 'svchost.exe',
      },
      evidence: [{ table: TABLE, source: 'defender_xdr', object: 'inbox/2024-05-01/net-0001.json.gz', raw_seq: 77 }],
      next_query: `SELECT * FROM ${TABLE} WHERE DeviceId = 'a1b2c3d4e5' AND eventDate = DATE '2024-05-01' AND LocalPort = 3389`,
    });
  });

  it('uses the UTC day at the edges and falls back to the DeviceId when the name is missing', () => {
    const lastUs = Date.UTC(2024, 4, 1, 23, 59, 59, 999) * 1000 + 999;
    const [late, early] = detect([row({ Timestamp: lastUs, DeviceName: null }), row({ Timestamp: lastUs + 1, DeviceName: null })]);
    expect(late!.event_time).toBe('2024-05-01T23:59:59.999Z');
    expect(early!.event_time).toBe('2024-05-02T00:00:00.000Z');
    expect(late!.alert_id).not.toBe(early!.alert_id);
    expect(late!.entity).toBe('a1b2c3d4e5');
    expect(late!.next_query).toContain("DATE '2024-05-01'");
    expect(early!.next_query).toContain("DATE '2024-05-02'");
  });

  it('escapes quotes in the DeviceId of the next query', () => {
    const [a] = detect([row({ DeviceId: "x' OR '1'='1" })]);
    expect(a!.next_query).toContain("DeviceId = 'x'' OR ''1''=''1'");
  });
});
