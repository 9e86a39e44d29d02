// IP attribution in the enricher: an index holding known leases → exact <col>_user / _mac / _hostname on each row at
// its event time (inside an interval, before it, at its start, at the handover boundary, after an open one), the
// same values through the IPC splice fast path and the generic path (also on sliced batches), lookup counts by
// result, and null columns when attribution is off.
import { describe, expect, it } from 'vitest';
import { IntervalIndex, type HoldingRevision } from '@sluice/attribution';
import { ColumnBuilder, decodeIpc, encodeIpc, tableToRows } from '@sluice/columnar';
import { H, type InputMessage } from '@sluice/runtime';
import { defenderTables, fullColumnsOf } from '@sluice/tables';
import { emptyCounts } from './attribution.ts';
import { enrichBatch, enrichIpc, enrichmentByTable, enrichTable, eventTimeByTable } from './handler.ts';

const def = defenderTables.DeviceNetworkEvents!;
const TABLE = def.name;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 13, 9, 0, 0);
const tables = enrichmentByTable([def]);
const eventTimes = eventTimeByTable([def]);

function leases(): IntervalIndex {
  const idx = new IntervalIndex({ retentionHours: 24 * 365 * 10 });
  const base = { user: null, hostname: null, source: 'dhcp', validTo: null, revision: 0 };
  const add = (r: Partial<HoldingRevision> & Pick<HoldingRevision, 'ip' | 'intervalId' | 'validFrom'>) => idx.upsert({ mac: null, ...base, ...r });
  // alice's laptop held 10.1.2.3 for one hour (DHCP, user added by RADIUS: revision 2 closes it), then bob's phone.
  add({ ip: '10.1.2.3', intervalId: 'a', validFrom: T0, validTo: T0 + HOUR, mac: 'aa:bb:cc:00:00:01', user: 'alice', hostname: 'laptop-1', revision: 2 });
  add({ ip: '10.1.2.3', intervalId: 'b', validFrom: T0 + HOUR, mac: 'aa:bb:cc:00:00:02', user: 'bob', hostname: 'phone', source: 'radius' });
  add({ ip: '10.7.7.7', intervalId: 'c', validFrom: T0 - HOUR, mac: 'aa:bb:cc:00:00:07', hostname: 'printer' });
  return idx;
}

interface Ev {
  ip: string | null;
  t: number;
}

function parsed(evs: Ev[]) {
  const b = new ColumnBuilder(fullColumnsOf(def));
  evs.forEach((e, i) =>
    b.append({ Timestamp: e.t * 1000, DeviceId: `dev-${i}`, ActionType: 'ConnectionSuccess', LocalIP: e.ip, RemoteIP: '81.2.69.160', RemotePort: 443, _source: 'defender', _object: 'f.json', _raw_seq: 5, _raw: `{"n":${i}}`, eventDate: 19_795 }),
  );
  return encodeIpc(b.build());
}

const EVENTS: Ev[] = [
  { ip: '10.1.2.3', t: T0 + 30 * 60_000 }, // inside alice's interval
  { ip: '10.1.2.3', t: T0 - 1 }, // before any interval
  { ip: '10.1.2.3', t: T0 }, // at alice's start (valid_from inclusive)
  { ip: '10.1.2.3', t: T0 + HOUR - 1 }, // the last ms of alice's interval
  { ip: '10.1.2.3', t: T0 + HOUR }, // the handover (valid_to exclusive): bob
  { ip: '10.1.2.3', t: T0 + 50 * HOUR }, // long after: bob's interval is still open
  { ip: '10.7.7.7', t: T0 }, // MAC and host only
  { ip: '10.0.0.9', t: T0 }, // internal, nobody known: miss
  { ip: '8.8.8.8', t: T0 }, // public: not_local
  { ip: null, t: T0 }, // no address: no lookup
];
const EXPECTED = [
  ['alice', 'aa:bb:cc:00:00:01', 'laptop-1'],
  [null, null, null],
  ['alice', 'aa:bb:cc:00:00:01', 'laptop-1'],
  ['alice', 'aa:bb:cc:00:00:01', 'laptop-1'],
  ['bob', 'aa:bb:cc:00:00:02', 'phone'],
  ['bob', 'aa:bb:cc:00:00:02', 'phone'],
  [null, 'aa:bb:cc:00:00:07', 'printer'],
  [null, null, null],
  [null, null, null],
  [null, null, null],
];
const attributed = (rows: Record<string, unknown>[]) => rows.map((r) => [r.LocalIP_user, r.LocalIP_mac, r.LocalIP_hostname]);
const msg = (data: Uint8Array): InputMessage => ({
  subject: `parsed.${TABLE}`,
  data,
  headers: { [H.encoding]: 'arrow-ipc', [H.table]: TABLE, [H.count]: '10' },
  stream: 'PARSED',
  seq: 3,
  deliveryCount: 1,
});

describe('enricher IP attribution', () => {
  it('stamps each row with the holder of its address at its event time, on both paths, and counts the lookups', () => {
    const index = leases();
    const bytes = parsed(EVENTS);
    const counts = emptyCounts();
    const fast = enrichIpc(bytes, tables.get(TABLE)!, null, null, { index, counts, eventTime: 'Timestamp' })!;
    expect(fast).not.toBeNull();
    const rows = tableToRows(decodeIpc(fast.data));
    expect(attributed(rows)).toEqual(EXPECTED);
    // 6 hits (rows 0, 2-6), 2 misses of internal addresses (10.1.2.3 before its first lease, 10.0.0.9), 1 public.
    expect(counts).toEqual({ hit: 6, miss: 2, not_local: 1 });
    // The other columns are untouched.
    expect(rows.map((r) => r.LocalIP)).toEqual(EVENTS.map((e) => e.ip));
    expect(rows[0]!.RemoteIP_scope).toBe('public');

    const generic = enrichTable(decodeIpc(bytes), tables.get(TABLE), null, null, { index, eventTime: 'Timestamp' });
    expect(tableToRows(generic)).toEqual(rows);
    // Sliced batches (child offsets, validity bitmaps not at bit 0) read the right times.
    const sliced = decodeIpc(bytes).slice(3);
    expect(attributed(tableToRows(enrichTable(sliced, tables.get(TABLE), null, null, { index, eventTime: 'Timestamp' })))).toEqual(EXPECTED.slice(3));
  });

  it('enrichBatch takes the event-time column from the table and adds the counts; no index means null columns', () => {
    const index = leases();
    const counts = emptyCounts();
    const [out] = enrichBatch(msg(parsed(EVENTS)), { geo: null, tables, attribution: { index, eventTimes, counts } });
    expect(attributed(tableToRows(decodeIpc(out!.data)))).toEqual(EXPECTED);
    expect(counts).toEqual({ hit: 6, miss: 2, not_local: 1 });
    const [off] = enrichBatch(msg(parsed(EVENTS)), { geo: null, tables, attribution: { index: null, eventTimes, counts } });
    expect(attributed(tableToRows(decodeIpc(off!.data)))).toEqual(EVENTS.map(() => [null, null, null]));
    const [none] = enrichBatch(msg(parsed(EVENTS)), { geo: null, tables });
    expect(attributed(tableToRows(decodeIpc(none!.data)))).toEqual(EVENTS.map(() => [null, null, null]));
    expect(counts).toEqual({ hit: 6, miss: 2, not_local: 1 });
  });

  it('a revision that reaches the index later changes the answer for later batches only (the ordering gap)', () => {
    const index = new IntervalIndex({ retentionHours: 24 });
    const counts = emptyCounts();
    const ev: Ev[] = [{ ip: '10.2.2.2', t: T0 + 60_000 }];
    const [before] = enrichBatch(msg(parsed(ev)), { geo: null, tables, attribution: { index, eventTimes, counts } });
    index.upsert({ ip: '10.2.2.2', mac: 'aa:bb:cc:00:00:22', user: 'dave', hostname: null, source: 'radius', validFrom: T0, validTo: null, intervalId: 'd', revision: 0 });
    const [after] = enrichBatch(msg(parsed(ev)), { geo: null, tables, attribution: { index, eventTimes, counts } });
    expect([...attributed(tableToRows(decodeIpc(before!.data))), ...attributed(tableToRows(decodeIpc(after!.data)))]).toEqual([
      [null, null, null],
      ['dave', 'aa:bb:cc:00:00:22', null],
    ]);
    expect(counts).toEqual({ hit: 1, miss: 1, not_local: 0 });
  });
});
