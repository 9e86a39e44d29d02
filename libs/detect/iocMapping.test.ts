import { describe, expect, it } from 'vitest';
import { allTables } from '../tables/registry.ts';
import { IocIndex, type IocRow } from './iocIndex.ts';
import {
  DAY_MICROS,
  DEFAULT_IOC_MAPPING,
  entriesFor,
  iocAlertId,
  matchBatch,
  matchRows,
  newSuppressionState,
  pruneSuppression,
  type IocMapping,
  type SuppressionState,
} from './iocMapping.ts';

const H = 3_600_000_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0) * 1000; // 2026-11-20T10:00Z in µs
const NOW = T0 + 10 * DAY_MICROS;
const SHA256 = 'ab'.repeat(32);
const SHA1 = 'cd'.repeat(20);
const MD5 = 'ef'.repeat(16);
const toyRegistered = (h: string): string | null => h.split('.').slice(-2).join('.') || null;

function index(rows: Partial<IocRow>[]): IocIndex {
  const ix = new IocIndex();
  ix.upsert(rows.map((r) => ({ indicator: '', type: 'IPv4', dataset: 'otx', first_seen: T0 - DAY_MICROS, last_seen: null, ...r })));
  return ix;
}

const proc = (t: number, device: string, extra: Record<string, unknown> = {}) => ({ Timestamp: t, DeviceName: device, DeviceId: `id-${device}`, ...extra });

describe('DEFAULT_IOC_MAPPING', () => {
  const tables = new Map(allTables().map((t) => [t.name, t]));

  it('names only existing tables and columns, and each table’s event-time column', () => {
    for (const e of DEFAULT_IOC_MAPPING) {
      const def = tables.get(e.table);
      expect(def, e.table).toBeDefined();
      const cols = new Set(def!.columns.map((c) => c.name));
      expect(cols.has(e.column), `${e.table}.${e.column}`).toBe(true);
      for (const d of typeof e.device === 'string' ? [e.device] : (e.device ?? [])) expect(cols.has(d), `${e.table} device ${d}`).toBe(true);
      expect(e.time, e.table).toBe(def!.eventTime);
      for (const m of e.template?.matchAll(/\{([^}]+)\}/g) ?? []) expect(cols.has(m[1]!), `${e.table} template ${m[1]}`).toBe(true);
    }
  });

  it('covers the seeds’ list for Defender, CrowdStrike, Zeek and CloudTrail', () => {
    const has = (table: string, column: string, type: string) =>
      DEFAULT_IOC_MAPPING.some((e) => e.table === table && e.column === column && e.type === type);
    for (const [t, c, ty] of [
      ['defender_device_process_events', 'SHA1', 'FileHash-SHA1'],
      ['defender_device_process_events', 'SHA256', 'FileHash-SHA256'],
      ['defender_device_process_events', 'MD5', 'FileHash-MD5'],
      ['defender_device_process_events', 'InitiatingProcessSHA256', 'FileHash-SHA256'],
      ['defender_device_file_events', 'SHA1', 'FileHash-SHA1'],
      ['defender_device_network_events', 'RemoteIP', 'IPv4'],
      ['defender_device_network_events', 'RemoteUrl', 'URL'],
      ['defender_device_network_events', 'RemoteUrl', 'hostname'],
      ['defender_device_events', 'SHA256', 'FileHash-SHA256'],
      ['crowdstrike_process', 'MD5HashData', 'FileHash-MD5'],
      ['crowdstrike_process', 'SHA1HashData', 'FileHash-SHA1'],
      ['crowdstrike_process', 'SHA256HashData', 'FileHash-SHA256'],
      ['crowdstrike_file_write', 'SHA256HashData', 'FileHash-SHA256'],
      ['crowdstrike_dns_request', 'DomainName', 'hostname'],
      ['crowdstrike_network_connect', 'RemoteAddressIP4', 'IPv4'],
      ['crowdstrike_network_connect', 'RemoteAddressIP6', 'IPv6'],
      ['zeek_dns', 'query', 'hostname'],
      ['zeek_conn', 'id_resp_h', 'IPv4'],
      ['zeek_http', 'host', 'hostname'],
      ['zeek_http', 'uri', 'URL'],
      ['zeek_ssl', 'server_name', 'hostname'],
      ['cloudtrail', 'sourceIPAddress', 'IPv4'],
    ]) {
      expect(has(t!, c!, ty!), `${t}.${c} ${ty}`).toBe(true);
    }
    expect(DEFAULT_IOC_MAPPING.find((e) => e.table === 'crowdstrike_dns_request')?.alsoRegisteredDomain).toBe(true);
  });

  it('groups entries per table', () => {
    expect(entriesFor(DEFAULT_IOC_MAPPING, 'defender_device_process_events').map((e) => e.column)).toEqual([
      'SHA1',
      'SHA256',
      'MD5',
      'InitiatingProcessSHA1',
      'InitiatingProcessSHA256',
      'InitiatingProcessMD5',
    ]);
    expect(entriesFor(DEFAULT_IOC_MAPPING, 'no_such_table')).toEqual([]);
  });
});

describe('matchRows', () => {
  const T = 'defender_device_process_events';

  it('reports a match with entity, IoC, indicator, event time, row index and a stable id', () => {
    const ix = index([{ indicator: SHA256, type: 'FileHash-SHA256', threat: 'AgentTesla' }]);
    const state = newSuppressionState();
    const rows = [proc(T0, 'ws-1', { SHA256: 'ff'.repeat(32) }), proc(T0 + 5, 'ws-1', { SHA256: SHA256.toUpperCase(), SHA1: SHA1 })];
    const res = matchRows(rows, T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    expect(res.suppressed).toBe(0);
    expect(res.matches).toHaveLength(1);
    const m = res.matches[0]!;
    expect(m).toMatchObject({
      rule: 'ioc_match',
      table: T,
      column: 'SHA256',
      rowIndex: 1,
      device: 'ws-1',
      iocType: 'FileHash-SHA256',
      ioc: SHA256,
      observed: SHA256.toUpperCase(),
      eventTime: T0 + 5,
    });
    expect(m.indicators.map((h) => [h.dataset, h.threat])).toEqual([['otx', 'AgentTesla']]);
    expect(m.alertId).toBe(iocAlertId('ioc_match', 'ws-1', 'FileHash-SHA256', SHA256, T0 + 5));
    expect(m.alertId).toMatch(/^[0-9a-f]{32}$/);
    // Same input, fresh state → the same id (replay after a restart from an older snapshot).
    expect(matchRows(rows, T, DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState()).matches[0]!.alertId).toBe(m.alertId);
  });

  it('one match per IoC even when several feeds name it; one per IoC type when several hashes of a file match', () => {
    const ix = index([
      { indicator: SHA256, type: 'FileHash-SHA256', dataset: 'malwarebazaar' },
      { indicator: SHA256, type: 'FileHash-SHA256', dataset: 'otx' },
      { indicator: MD5, type: 'FileHash-MD5', dataset: 'malwarebazaar' },
    ]);
    const res = matchRows([proc(T0, 'ws-1', { SHA256, MD5 })], T, DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState());
    expect(res.matches.map((m) => [m.iocType, m.indicators.map((h) => h.dataset).sort()])).toEqual([
      ['FileHash-SHA256', ['malwarebazaar', 'otx']],
      ['FileHash-MD5', ['malwarebazaar']],
    ]);
  });

  it('matches only while the indicator is valid', () => {
    const ix = index([
      { indicator: SHA256, type: 'FileHash-SHA256', first_seen: T0, last_seen: T0 + H },
      { indicator: SHA1, type: 'FileHash-SHA1', first_seen: T0, last_seen: null },
    ]);
    const run = (t: number, extra: Record<string, unknown>, now = NOW) =>
      matchRows([proc(t, 'ws-1', extra)], T, DEFAULT_IOC_MAPPING, ix, now, newSuppressionState()).matches.length;
    expect(run(T0 - 1, { SHA256 })).toBe(0); // before first_seen
    expect(run(T0, { SHA256 })).toBe(1);
    expect(run(T0 + H, { SHA256 })).toBe(1);
    expect(run(T0 + H + 1, { SHA256 })).toBe(0); // after last_seen
    expect(run(T0 + 5 * DAY_MICROS, { SHA1 })).toBe(1); // open-ended: valid until now
    expect(run(T0 + 5 * DAY_MICROS, { SHA1 }, T0 + 4 * DAY_MICROS)).toBe(0); // …but not after now
  });

  it('reports a (device, IoC type, IoC) once per 24 h; boundaries are exact', () => {
    const ix = index([{ indicator: SHA256, type: 'FileHash-SHA256' }]);
    const state = newSuppressionState();
    const run = (t: number, device = 'ws-1') => matchRows([proc(t, device, { SHA256 })], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    const first = run(T0).matches[0]!;
    expect(run(T0 + H).matches).toHaveLength(0);
    expect(run(T0 + DAY_MICROS - 1).matches).toHaveLength(0);
    expect(run(T0 - DAY_MICROS + 1).matches).toHaveLength(0); // late, less than 24 h before the reported one
    expect(run(T0, 'ws-2').matches).toHaveLength(1); // another device
    const second = run(T0 + DAY_MICROS).matches[0]!; // exactly 24 h later: a new window
    expect(second.alertId).not.toBe(first.alertId);
    expect(second.alertId).toBe(iocAlertId('ioc_match', 'ws-1', 'FileHash-SHA256', SHA256, T0 + DAY_MICROS));
    expect(run(T0 + 2 * DAY_MICROS - 1).matches).toHaveLength(0);
    // A very late event, ≥ 24 h before the open window, alerts on its own and leaves the window where it was.
    expect(run(T0 - 1).matches).toHaveLength(1);
    expect(run(T0 + DAY_MICROS + 2 * H).matches).toHaveLength(0);
    expect(state.entries[`ws-1\u0000FileHash-SHA256\u0000${SHA256}`]).toBe(T0 + DAY_MICROS);
  });

  it('keeps duplicates inside one batch to one alert', () => {
    const ix = index([{ indicator: SHA256, type: 'FileHash-SHA256' }]);
    const rows = [proc(T0, 'ws-1', { SHA256 }), proc(T0, 'ws-1', { SHA256 }), proc(T0 + 1, 'ws-1', { InitiatingProcessSHA256: SHA256 })];
    const res = matchRows(rows, T, DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState());
    expect(res.matches.map((m) => m.rowIndex)).toEqual([0]);
    expect(res.suppressed).toBe(2);
  });

  it('suppression state survives a JSON round trip (snapshot/restore)', () => {
    const ix = index([{ indicator: SHA256, type: 'FileHash-SHA256' }]);
    const state = newSuppressionState();
    matchRows([proc(T0, 'ws-1', { SHA256 })], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    const restored = JSON.parse(JSON.stringify(state)) as SuppressionState;
    expect(matchRows([proc(T0 + H, 'ws-1', { SHA256 })], T, DEFAULT_IOC_MAPPING, ix, NOW, restored)).toMatchObject({ matches: [], suppressed: 1 });
  });

  it('expires suppression entries 24 h (+ lateness) after their window opened, by min(event time, now)', () => {
    const ix = index([{ indicator: SHA256, type: 'FileHash-SHA256' }, { indicator: SHA1, type: 'FileHash-SHA1' }]);
    const state = newSuppressionState();
    matchRows([proc(T0, 'ws-1', { SHA256 })], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    matchRows([proc(T0 + DAY_MICROS + H - 1, 'ws-2', { SHA1 })], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    expect(Object.keys(state.entries)).toHaveLength(2);
    // Pruning runs at most once per minute of event time.
    matchRows([proc(T0 + DAY_MICROS + H + 30_000_000, 'ws-3', {})], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    expect(Object.keys(state.entries)).toHaveLength(2);
    matchRows([proc(T0 + DAY_MICROS + H + 60_000_000, 'ws-3', {})], T, DEFAULT_IOC_MAPPING, ix, NOW, state);
    expect(Object.keys(state.entries).map((k) => k.split('\u0000')[0])).toEqual(['ws-2']);
    // A future-dated event does not expire anything beyond `now`.
    const s2 = newSuppressionState();
    matchRows([proc(T0, 'ws-1', { SHA256 })], T, DEFAULT_IOC_MAPPING, ix, T0 + H, s2);
    matchRows([proc(T0 + 30 * DAY_MICROS, 'ws-9', {})], T, DEFAULT_IOC_MAPPING, ix, T0 + H, s2);
    expect(Object.keys(s2.entries)).toHaveLength(1);
    expect(pruneSuppression(s2, T0 + 30 * DAY_MICROS)).toBe(1);
  });

  it('matches DNS names on the registered domain when the mapping says so', () => {
    const ix = index([{ indicator: 'evil.com', type: 'domain' }, { indicator: 'c2.evil.com', type: 'hostname' }]);
    const rows = [
      { timestamp: T0, ComputerName: 'LAPTOP-1', aid: 'a1', DomainName: 'x.y.evil.com' },
      { timestamp: T0, ComputerName: 'LAPTOP-1', aid: 'a1', DomainName: 'C2.EVIL.COM.' },
      { timestamp: T0, ComputerName: 'LAPTOP-1', aid: 'a1', DomainName: 'good.com' },
    ];
    const res = matchRows(rows, 'crowdstrike_dns_request', DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState(), { registeredDomainOf: toyRegistered });
    expect(res.matches.map((m) => [m.rowIndex, m.device, m.iocType, m.ioc])).toEqual([
      [0, 'LAPTOP-1', 'domain', 'evil.com'],
      [1, 'LAPTOP-1', 'hostname', 'c2.evil.com'],
    ]);
    // Without a registeredDomainOf only exact names match.
    const exact = matchRows(rows, 'crowdstrike_dns_request', DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState());
    expect(exact.matches.map((m) => m.rowIndex)).toEqual([1]);
  });

  it('composes Zeek http URLs from host and uri; skips rows with a part missing', () => {
    const ix = index([{ indicator: 'http://dl.evil.com/payload.bin', type: 'URL' }]);
    const rows = [
      { ts: T0, uid: 'C1', id_orig_h: '10.0.0.5', host: 'DL.evil.com', uri: '/payload.bin' },
      { ts: T0, uid: 'C2', id_orig_h: '10.0.0.6', host: null, uri: '/payload.bin' },
      { ts: T0, uid: 'C3', id_orig_h: '10.0.0.7', host: 'dl.evil.com:80', uri: '/payload.bin' },
    ];
    const res = matchRows(rows, 'zeek_http', DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState());
    expect(res.matches.map((m) => [m.rowIndex, m.device, m.column, m.observed, m.ioc])).toEqual([
      [0, '10.0.0.5', 'uri', 'http://DL.evil.com/payload.bin', 'http://dl.evil.com/payload.bin'],
      [2, '10.0.0.7', 'uri', 'http://dl.evil.com:80/payload.bin', 'http://dl.evil.com/payload.bin'],
    ]);
  });

  it('matches Defender RemoteIP of either family and RemoteUrl as URL and host name', () => {
    const ix = index([
      { indicator: '198.51.100.9', type: 'IPv4' },
      { indicator: 'https://bad.example.net/gate.php', type: 'URL' },
      { indicator: 'bad.example.net', type: 'domain' },
    ]);
    const rows = [
      proc(T0, 'ws-1', { RemoteIP: '::ffff:198.51.100.9', RemoteUrl: null }),
      proc(T0, 'ws-1', { RemoteIP: '10.0.0.1', RemoteUrl: 'bad.example.net/gate.php' }),
    ];
    const res = matchRows(rows, 'defender_device_network_events', DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState());
    expect(res.matches.map((m) => [m.rowIndex, m.column, m.iocType, m.ioc])).toEqual([
      [0, 'RemoteIP', 'IPv4', '198.51.100.9'],
      [1, 'RemoteUrl', 'URL', 'https://bad.example.net/gate.php'],
      [1, 'RemoteUrl', 'domain', 'bad.example.net'],
    ]);
  });

  it('adding a table is one line of config; times in ms and missing times are handled', () => {
    const mapping: IocMapping = [{ table: 'proxy_log', column: 'dest', type: 'IPv4', device: 'src', time: 't' }];
    const ix = index([{ indicator: '203.0.113.1', type: 'IPv4' }]);
    const rows = [
      { t: T0 / 1000, src: 'host-a', dest: '203.0.113.1' },
      { src: 'host-b', dest: '203.0.113.1' },
    ];
    const res = matchRows(rows, 'proxy_log', mapping, ix, NOW, newSuppressionState(), { timeUnit: 'ms' });
    expect(res.matches.map((m) => [m.device, m.eventTime])).toEqual([
      ['host-a', T0],
      ['host-b', NOW],
    ]);
    expect(res.noEventTime).toBe(1);
    expect(matchRows(rows, 'other_table', mapping, ix, NOW, newSuppressionState()).matches).toEqual([]);
  });

  it('matchBatch reads column-oriented batches (Arrow view: times in ms) like matchRows', () => {
    const ix = index([{ indicator: 'evil.com', type: 'domain' }]);
    const cols: Record<string, unknown[]> = { ts: [T0 / 1000, T0 / 1000 + 1], id_orig_h: ['10.0.0.1', '10.0.0.2'], query: ['www.evil.com', 'ok.org'] };
    const batch = { numRows: 2, column: (n: string) => cols[n] };
    const res = matchBatch(batch, 'zeek_dns', DEFAULT_IOC_MAPPING, ix, NOW, newSuppressionState(), { registeredDomainOf: toyRegistered, timeUnit: 'ms' });
    expect(res.matches.map((m) => [m.rowIndex, m.device, m.ioc, m.eventTime])).toEqual([[0, '10.0.0.1', 'evil.com', T0]]);
  });
});
