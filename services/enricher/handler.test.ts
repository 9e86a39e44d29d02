// enrichTable/enrichBatch with real GeoIP databases (embedded GeoLite2, MaxMind's test DB when present): geo values
// for public IPs, nulls otherwise, other columns untouched and in order, events.<table>.<partition> subject and headers.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc, tableToRows } from '@sluice/columnar';
import { GeoLookup } from '@sluice/geoip';
import { H, NonRetryableError, type InputMessage } from '@sluice/runtime';
import { defenderTables, fullColumnsOf } from '@sluice/tables';
import { enrichBatch, enrichTable } from './handler.ts';

const TEST_DB = '/work/shared/testdata/mmdb/GeoIP2-City-Test.mmdb';
const def = defenderTables.DeviceNetworkEvents!;
const TABLE = def.name;
const NON_PUBLIC = ['10.0.0.1', '192.168.1.20', '127.0.0.1', '::1', 'not-an-ip', null];

function parsedTable(ips: (string | null)[]) {
  const b = new ColumnBuilder(fullColumnsOf(def));
  ips.forEach((ip, i) =>
    b.append({ Timestamp: 1_714_571_110_123_456 + i, DeviceId: `dev-${i}`, ActionType: 'ConnectionSuccess', RemoteIP: ip, RemotePort: 443, LocalPort: 50_000 + i, _source: 'defender', _object: 'f.json', _raw_seq: 5, eventDate: 19_844 }),
  );
  return decodeIpc(encodeIpc(b.build()));
}

function input(ips: (string | null)[], headers: Record<string, string> = {}): InputMessage {
  return {
    subject: `parsed.${TABLE}`,
    data: encodeIpc(parsedTable(ips)),
    headers: { [H.encoding]: 'arrow-ipc', [H.table]: TABLE, [H.count]: String(ips.length), [H.source]: 'defender', [H.object]: 'f.json', [H.rawSeq]: '5', ...headers },
    stream: 'PARSED',
    seq: 12,
    deliveryCount: 1,
  };
}

const geoOf = (rows: Record<string, unknown>[]) => rows.map((r) => [r.RemoteIP_geo_country, r.RemoteIP_geo_city]);
const withoutGeo = (rows: Record<string, unknown>[]) => rows.map(({ RemoteIP_geo_country: _c, RemoteIP_geo_city: _y, ...rest }) => rest);

describe('enricher with the embedded GeoLite2 database', () => {
  let geo: GeoLookup;
  beforeAll(async () => {
    geo = await GeoLookup.open();
  });

  it('fills country (and city when known) for public IPs, nulls for the rest, other columns untouched', () => {
    const ips = ['8.8.8.8', '216.160.83.56', ...NON_PUBLIC];
    const before = parsedTable(ips);
    const out = enrichTable(before, ['RemoteIP'], geo);
    expect(out.schema.fields.map((f) => f.name)).toEqual(before.schema.fields.map((f) => f.name));
    expect(out.schema.fields.map((f) => String(f.type))).toEqual(before.schema.fields.map((f) => String(f.type)));
    const rows = tableToRows(out);
    expect(rows).toHaveLength(ips.length);
    expect(withoutGeo(rows)).toEqual(withoutGeo(tableToRows(before)));
    const [google, poulsbo, ...rest] = geoOf(rows);
    expect(google).toEqual(['US', null]);
    expect(poulsbo![0]).toBe('US');
    expect(typeof poulsbo![1]).toBe('string');
    expect(poulsbo![1]).toBe(geo.lookup('216.160.83.56')!.city);
    expect(rest).toEqual(NON_PUBLIC.map(() => [null, null]));
  });

  it('appends the geo columns at the end when the input lacks them, and returns the table as is without fields', () => {
    const b = new ColumnBuilder([{ name: 'RemoteIP', type: 'string' }, { name: 'n', type: 'integer' }]);
    b.append({ RemoteIP: '8.8.8.8', n: 1 });
    const t = b.build();
    expect(tableToRows(enrichTable(t, ['RemoteIP'], geo))).toEqual([{ RemoteIP: '8.8.8.8', n: 1, RemoteIP_geo_country: 'US', RemoteIP_geo_city: null }]);
    expect(enrichTable(t, [], geo)).toBe(t);
    expect(tableToRows(enrichTable(t, ['RemoteIP'], null))).toEqual([{ RemoteIP: '8.8.8.8', n: 1, RemoteIP_geo_country: null, RemoteIP_geo_city: null }]);
  });

  it('publishes to events.<table>.<partition> as Arrow IPC with the input headers and Sluice-Count', () => {
    const ips = ['8.8.8.8', '10.0.0.1', null];
    const [out, ...more] = enrichBatch(input(ips, { [H.count]: '999' }), { geo, geoFields: new Map([[TABLE, ['RemoteIP']]]) });
    expect(more).toEqual([]);
    expect(out!.subject).toBe(`events.${TABLE}.0`);
    expect(out!.records).toBe(3);
    expect(out!.headers).toEqual({ [H.encoding]: 'arrow-ipc', [H.table]: TABLE, [H.count]: '3', [H.source]: 'defender', [H.object]: 'f.json', [H.rawSeq]: '5' });
    expect(geoOf(tableToRows(decodeIpc(out!.data)))).toEqual([['US', null], [null, null], [null, null]]);
  });

  it('takes the table from the subject when the header is missing, and leaves tables without geo fields alone', () => {
    const msg = input(['8.8.8.8']);
    delete msg.headers[H.table];
    const [out] = enrichBatch(msg, { geo, geoFields: new Map() });
    expect(out!.subject).toBe(`events.${TABLE}.0`);
    expect(tableToRows(decodeIpc(out!.data))).toEqual(tableToRows(parsedTable(['8.8.8.8'])));
  });

  it('picks the partition from the input sequence, so a redelivery goes to the same subject', () => {
    const msg = input(['8.8.8.8']); // seq 12
    const opts = { geo, geoFields: new Map(), partitions: 5 };
    expect(enrichBatch(msg, opts)[0]!.subject).toBe(`events.${TABLE}.2`);
    expect(enrichBatch(msg, opts)[0]!.subject).toBe(`events.${TABLE}.2`);
    expect(enrichBatch({ ...msg, seq: 13 }, opts)[0]!.subject).toBe(`events.${TABLE}.3`);
    expect(enrichBatch(msg, { ...opts, partitions: 4 })[0]!.subject).toBe(`events.${TABLE}.0`);
  });

  it('dead-letters envelopes that are not Arrow IPC', () => {
    const opts = { geo, geoFields: new Map([[TABLE, ['RemoteIP']]]) };
    const ndjson = { ...input(['8.8.8.8']), data: new TextEncoder().encode('{"a":1}\n'), headers: { [H.encoding]: 'ndjson' } };
    expect(() => enrichBatch(ndjson, opts)).toThrow(NonRetryableError);
    expect(() => enrichBatch({ ...ndjson, headers: {} }, opts)).toThrow(/got none/);
    const garbage = { ...input(['8.8.8.8']), data: new TextEncoder().encode('definitely not arrow') };
    expect(() => enrichBatch(garbage, opts)).toThrow(NonRetryableError);
  });
});

describe('enricher with the MaxMind GeoIP2-City test database', () => {
  it.runIf(existsSync(TEST_DB))('resolves country and city (81.2.69.160 → GB/London)', async () => {
    const geo = await GeoLookup.open(TEST_DB);
    const ips = ['81.2.69.160', '175.16.199.0', '8.8.8.8', ...NON_PUBLIC];
    const [out] = enrichBatch(input(ips), { geo, geoFields: new Map([[TABLE, ['RemoteIP']]]) });
    const rows = tableToRows(decodeIpc(out!.data));
    expect(geoOf(rows)).toEqual([['GB', 'London'], ['CN', 'Changchun'], [null, null], ...NON_PUBLIC.map(() => [null, null])]);
    expect(withoutGeo(rows)).toEqual(withoutGeo(tableToRows(parsedTable(ips))));
  });
});
