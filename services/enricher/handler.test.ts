// enrichTable/enrichBatch over real Arrow batches with MaxMind's test databases: scope, geo, location and AS for IP
// columns, registered domains for names, other columns untouched (same buffers), configured extra columns appended,
// events.<table>.<partition> subject and headers, and a database replaced under a running loop of batches.
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc, tableToRows } from '@sluice/columnar';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup, type ReloadEvent } from '@sluice/geoip';
import { H, NonRetryableError, type InputMessage } from '@sluice/runtime';
import { defenderTables, fullColumnsOf, type TableEnrichment } from '@sluice/tables';
import { ASN_TEST_DB, CITY_TEST_DB, LITE_CITY_TEST_DB } from '../../libs/geoip/testDatabases.ts';
import { enrichBatch, enrichIpc, enrichmentByTable, enrichTable } from './handler.ts';

const def = defenderTables.DeviceNetworkEvents!;
const TABLE = def.name;
const tables = enrichmentByTable([def]);
const ENRICHED = /^(RemoteIP|RemoteUrl)_/;

interface Conn {
  ip: string | null;
  url?: string | null;
}

function parsedTable(conns: Conn[]) {
  const b = new ColumnBuilder(fullColumnsOf(def));
  conns.forEach((c, i) =>
    b.append({ Timestamp: 1_714_571_110_123_456 + i, DeviceId: `dev-${i}`, ActionType: 'ConnectionSuccess', RemoteIP: c.ip, RemoteUrl: c.url ?? null, RemotePort: 443, LocalPort: 50_000 + i, _source: 'defender', _object: 'f.json', _raw_seq: 5, _raw: `{"n":${i}}`, eventDate: 19_844 }),
  );
  return decodeIpc(encodeIpc(b.build()));
}

function input(conns: Conn[], headers: Record<string, string> = {}, seq = 12): InputMessage {
  return {
    subject: `parsed.${TABLE}`,
    data: encodeIpc(parsedTable(conns)),
    headers: { [H.encoding]: 'arrow-ipc', [H.table]: TABLE, [H.count]: String(conns.length), [H.source]: 'defender', [H.object]: 'f.json', [H.rawSeq]: '5', ...headers },
    stream: 'PARSED',
    seq,
    deliveryCount: 1,
  };
}

const withoutEnrichment = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !ENRICHED.test(k))));
const geoOf = (r: Record<string, unknown>) => [r.RemoteIP_scope, r.RemoteIP_geo_country, r.RemoteIP_geo_city, r.RemoteIP_geo_latitude, r.RemoteIP_geo_longitude, r.RemoteIP_asn, r.RemoteIP_as_org];
const NONE = [null, null, null, null, null, null];

describe('enricher with the MaxMind test databases', () => {
  let geo: GeoLookup;
  const domains = new DomainLookup();
  beforeAll(async () => {
    geo = await GeoLookup.open({ cityDatabase: CITY_TEST_DB, asnDatabase: ASN_TEST_DB, reloadIntervalMs: 0 });
  });
  afterAll(() => geo.close());

  it('fills scope, geo, location and AS for public IPs, marks the rest, registered domains for URLs; other columns untouched', () => {
    const conns: Conn[] = [
      { ip: '81.2.69.160', url: 'https://www.bbc.co.uk/news' },
      { ip: '1.128.0.7', url: 'login.microsoftonline.com' },
      { ip: '2001:480:10::1', url: 'xn--80ak6aa92e.com' },
      { ip: '81.2.69.160', url: '81.2.69.160' },
      { ip: '10.0.0.1', url: 'intranet.corp.local' },
      { ip: '100.64.0.9' },
      { ip: '127.0.0.1' },
      { ip: 'fe80::1%eth0' },
      { ip: 'not-an-ip', url: '!!garbage!!' },
      { ip: null },
    ];
    const before = parsedTable(conns);
    const out = enrichTable(before, tables.get(TABLE), geo, domains);
    // Same columns in the same order and types (the parser wrote the enrichment columns as nulls).
    expect(out.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(before.schema.fields.map((f) => `${f.name}:${String(f.type)}`));
    // The other columns are the very same buffers, not copies.
    expect(out.batches[0]!.getChild('_raw')!.data[0]).toBe(before.batches[0]!.getChild('_raw')!.data[0]);
    const rows = tableToRows(decodeIpc(encodeIpc(out)));
    expect(withoutEnrichment(rows)).toEqual(withoutEnrichment(tableToRows(before)));
    expect(rows.map(geoOf)).toEqual([
      ['public', 'GB', 'London', 51.5142, -0.0931, null, null],
      ['public', null, null, null, null, 1221, 'Telstra Pty Ltd'],
      ['public', 'US', 'San Diego', 32.7203, -117.1552, null, null],
      ['public', 'GB', 'London', 51.5142, -0.0931, null, null],
      ['private', ...NONE],
      ['cgnat', ...NONE],
      ['loopback', ...NONE],
      ['link_local', ...NONE],
      ['invalid', ...NONE],
      [null, ...NONE],
    ]);
    expect(rows.map((r) => [r.RemoteUrl_registered_domain, r.RemoteUrl_public_suffix])).toEqual([
      ['bbc.co.uk', 'co.uk'],
      ['microsoftonline.com', 'com'],
      ['xn--80ak6aa92e.com', 'com'],
      [null, null],
      [null, null],
      [null, null],
      [null, null],
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('appends columns the configuration adds, and returns tables without enrichment as they are', () => {
    const t = parsedTable([{ ip: '81.2.69.160' }]);
    const extra: TableEnrichment = { geoip: ['RemoteIP', 'LocalIP'], domain: [] };
    const out = enrichTable(t, extra, geo, domains);
    const names = out.schema.fields.map((f) => f.name);
    expect(names.slice(0, t.numCols)).toEqual(t.schema.fields.map((f) => f.name));
    expect(names.slice(t.numCols)).toEqual(['LocalIP_scope', 'LocalIP_geo_country', 'LocalIP_geo_city', 'LocalIP_geo_latitude', 'LocalIP_geo_longitude', 'LocalIP_asn', 'LocalIP_as_org']);
    expect(String(out.schema.fields.find((f) => f.name === 'LocalIP_asn')!.type)).toBe('Int64');
    const [row] = tableToRows(out);
    expect(row!.LocalIP_scope).toBeNull(); // LocalIP is null in this batch
    expect(row!.RemoteIP_geo_city).toBe('London');
    expect(row!.RemoteUrl_registered_domain).toBeNull(); // domain enrichment disabled: stays as the parser wrote it
    expect(enrichTable(t, { geoip: [], domain: [] }, geo, domains)).toBe(t);
    expect(enrichTable(t, undefined, geo, domains)).toBe(t);
  });

  it('fills the scope even without GeoIP databases', () => {
    const [row] = tableToRows(enrichTable(parsedTable([{ ip: '8.8.8.8' }]), tables.get(TABLE), null, null));
    expect(geoOf(row!)).toEqual(['public', ...NONE]);
  });

  it('handles batches of several record batches and of many rows with repeated addresses', () => {
    const conns = Array.from({ length: 5000 }, (_, i): Conn => ({ ip: ['81.2.69.160', '10.0.0.1', '1.128.0.7', null][i % 4]!, url: i % 3 ? 'www.bbc.co.uk' : null }));
    const a = parsedTable(conns.slice(0, 2000));
    const b = parsedTable(conns.slice(2000));
    const both = a.concat(b);
    expect(both.batches).toHaveLength(2);
    const rows = tableToRows(enrichTable(both, tables.get(TABLE), geo, domains));
    expect(rows).toHaveLength(5000);
    rows.forEach((r, i) => {
      expect(r.RemoteIP_scope).toBe(['public', 'private', 'public', null][i % 4]);
      expect(r.RemoteIP_asn).toBe(i % 4 === 2 ? 1221 : null);
      expect(r.RemoteUrl_registered_domain).toBe(i % 3 ? 'bbc.co.uk' : null);
    });
  });

  it('splices the IPC stream (fast path) to exactly the rows the generic path produces', () => {
    // Dotted quads are read from the column bytes, anything else (padded, mapped, leading zeros, IPv6) as text.
    const ips = ['81.2.69.160', '10.0.0.1', '1.128.0.7', null, '2001:480:10::1', 'x', ' 81.2.69.160 ', '::ffff:1.128.0.7', '081.2.69.160', '', '255.255.255.255', '81.2.69.160'];
    const conns = Array.from({ length: 300 }, (_, i): Conn => ({ ip: ips[i % 12]!, url: ['www.bbc.co.uk', null, '8.8.8.8', 'пример.рф'][i % 4]! }));
    const t = parsedTable(conns.slice(0, 100)).concat(parsedTable(conns.slice(100)));
    const bytes = encodeIpc(t);
    const fast = enrichIpc(bytes, tables.get(TABLE)!, geo, domains)!;
    expect(fast.rows).toBe(300);
    const fastTable = decodeIpc(fast.data);
    expect(fastTable.batches).toHaveLength(2);
    expect(fastTable.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`));
    expect(tableToRows(fastTable)).toEqual(tableToRows(enrichTable(t, tables.get(TABLE), geo, domains)));
    // An input stream at an odd byte offset (as inside a larger message buffer) reads the same.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(tableToRows(decodeIpc(enrichIpc(shifted.subarray(3), tables.get(TABLE)!, geo, domains)!.data))).toEqual(tableToRows(fastTable));
    // The same as a Node Buffer view (NATS delivers message data so): Buffer.slice() is a view, not a copy.
    const pooled = Buffer.alloc(bytes.length + 4099);
    pooled.set(bytes, 4099);
    expect(tableToRows(decodeIpc(enrichIpc(pooled.subarray(4099), tables.get(TABLE)!, geo, domains)!.data))).toEqual(tableToRows(fastTable));
    expect(tableToRows(fastTable).slice(0, 12).map(geoOf)).toEqual(tableToRows(enrichTable(t, tables.get(TABLE), geo, domains)).slice(0, 12).map(geoOf));
    expect(tableToRows(fastTable)[6]).toMatchObject({ RemoteIP_geo_city: 'London' });
    expect(tableToRows(fastTable)[7]).toMatchObject({ RemoteIP_asn: 1221 });
    // Without GeoIP databases only the scope: the same on both paths.
    expect(tableToRows(decodeIpc(enrichIpc(bytes, tables.get(TABLE)!, null, null)!.data))).toEqual(tableToRows(enrichTable(t, tables.get(TABLE), null, null)));
    // Columns the stream does not carry yet (configuration beyond the defaults): not spliceable, generic path.
    expect(enrichIpc(bytes, { geoip: ['LocalIP'] }, geo, domains)).toBeNull();
    expect(enrichIpc(new TextEncoder().encode('nope'), tables.get(TABLE)!, geo, domains)).toBeNull();
    const [viaBatch] = enrichBatch({ ...input([]), data: bytes }, { geo, domains, tables: new Map([[TABLE, { geoip: ['RemoteIP', 'LocalIP'] }]]) });
    expect(tableToRows(decodeIpc(viaBatch!.data)).map((r) => [r.RemoteIP_geo_city, r.LocalIP_scope])[0]).toEqual(['London', null]);
  });

  it('publishes to events.<table>.<partition> as Arrow IPC with the input headers and Sluice-Count', () => {
    const [out, ...more] = enrichBatch(input([{ ip: '81.2.69.160' }, { ip: '10.0.0.1' }, { ip: null }], { [H.count]: '999' }), { geo, domains, tables });
    expect(more).toEqual([]);
    expect(out!.subject).toBe(`events.${TABLE}.0`);
    expect(out!.records).toBe(3);
    expect(out!.headers).toEqual({ [H.encoding]: 'arrow-ipc', [H.table]: TABLE, [H.count]: '3', [H.source]: 'defender', [H.object]: 'f.json', [H.rawSeq]: '5' });
    expect(tableToRows(decodeIpc(out!.data)).map((r) => r.RemoteIP_geo_country)).toEqual(['GB', null, null]);
  });

  it('takes the table from the subject when the header is missing, and forwards tables without enrichment byte for byte', () => {
    const msg = input([{ ip: '81.2.69.160' }]);
    delete msg.headers[H.table];
    const [out] = enrichBatch(msg, { geo, domains, tables: new Map() });
    expect(out!.subject).toBe(`events.${TABLE}.0`);
    expect(out!.data).toBe(msg.data);
    const [enriched] = enrichBatch(msg, { geo, domains, tables });
    expect(tableToRows(decodeIpc(enriched!.data))[0]!.RemoteIP_geo_city).toBe('London');
  });

  it('picks the partition from the input sequence, so a redelivery goes to the same subject', () => {
    const msg = input([{ ip: '8.8.8.8' }]); // seq 12
    const opts = { geo, tables, partitions: 5 };
    expect(enrichBatch(msg, opts)[0]!.subject).toBe(`events.${TABLE}.2`);
    expect(enrichBatch(msg, opts)[0]!.subject).toBe(`events.${TABLE}.2`);
    expect(enrichBatch({ ...msg, seq: 13 }, opts)[0]!.subject).toBe(`events.${TABLE}.3`);
    expect(enrichBatch(msg, { ...opts, partitions: 4 })[0]!.subject).toBe(`events.${TABLE}.0`);
  });

  it('dead-letters envelopes that are not Arrow IPC', () => {
    const opts = { geo, tables };
    const ndjson = { ...input([{ ip: '8.8.8.8' }]), data: new TextEncoder().encode('{"a":1}\n'), headers: { [H.encoding]: 'ndjson' } };
    expect(() => enrichBatch(ndjson, opts)).toThrow(NonRetryableError);
    expect(() => enrichBatch({ ...ndjson, headers: {} }, opts)).toThrow(/got none/);
    const garbage = { ...input([{ ip: '8.8.8.8' }]), data: new TextEncoder().encode('definitely not arrow') };
    expect(() => enrichBatch(garbage, opts)).toThrow(NonRetryableError);
  });
});

describe('database reload while batches flow', () => {
  it('swaps to a replaced file between batches: old and new values both appear, no batch fails, no row lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enricher-reload-'));
    const city = join(dir, 'City.mmdb');
    copyFileSync(LITE_CITY_TEST_DB, city); // GeoLite2-City-Test has no 214.0.0.0/24 network
    const events: ReloadEvent[] = [];
    const geo = await GeoLookup.open({ cityDatabase: city, asnDatabase: null, reloadIntervalMs: 10, onReload: (e) => events.push(e) });
    const seen: (string | null)[] = [];
    let rows = 0;
    let batches = 0;
    const deadline = Date.now() + 20_000;
    // 214.0.0.1 is Singapore only in GeoIP2-City-Test; 81.2.69.160 is London in both.
    const step = async () => {
      const [out] = enrichBatch(input([{ ip: '214.0.0.1' }, { ip: '81.2.69.160' }], {}, ++batches), { geo, tables });
      const r = tableToRows(decodeIpc(out!.data));
      rows += r.length;
      expect(r[1]!.RemoteIP_geo_city).toBe('London');
      seen.push(r[0]!.RemoteIP_geo_city as string | null);
      await new Promise((res) => setTimeout(res, 2));
    };
    try {
      while (seen.length < 20) await step();
      // Half-written garbage first (kept out, the old database serves on), then an atomic rename of the new file.
      writeFileSync(city, 'partial');
      while (!events.some((e) => !e.ok) && Date.now() < deadline) await step();
      copyFileSync(CITY_TEST_DB, join(dir, 'next.mmdb'));
      renameSync(join(dir, 'next.mmdb'), city);
      while (!seen.includes('Singapore') && Date.now() < deadline) await step();
      for (let i = 0; i < 20; i++) await step();
    } finally {
      geo.close();
    }
    expect(rows).toBe(batches * 2);
    const first = seen.indexOf('Singapore');
    expect(first).toBeGreaterThan(20);
    expect(seen.slice(0, first).every((v) => v === null)).toBe(true); // old database until the swap
    expect(seen.slice(first).every((v) => v === 'Singapore')).toBe(true); // new one after it, never back
    expect(events.map((e) => [e.role, e.ok])).toEqual([
      ['city', false],
      ['city', true],
    ]);
    expect(events[0]).toMatchObject({ ok: false, error: expect.stringMatching(/not a MaxMind DB file/) });
    expect(events[1]).toMatchObject({ ok: true, databaseType: 'GeoIP2-City' });
    expect(geo.generation).toBe(1);
  }, 30_000);

  it('reloads a file overwritten in place, found by checkForUpdates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enricher-reload-'));
    const asn = join(dir, 'ASN.mmdb');
    copyFileSync(CITY_TEST_DB, join(dir, 'City.mmdb'));
    copyFileSync(ASN_TEST_DB, asn);
    const geo = await GeoLookup.open({ cityDatabase: join(dir, 'City.mmdb'), asnDatabase: asn, reloadIntervalMs: 0 });
    expect(geo.lookup('1.128.0.7')).toMatchObject({ asn: 1221 });
    expect(await geo.checkForUpdates()).toBe(false);
    writeFileSync(asn, 'x'); // not a database: refused, the loaded one stays
    expect(await geo.checkForUpdates()).toBe(false);
    expect(geo.lookup('1.128.0.7')).toMatchObject({ asn: 1221 });
    copyFileSync(CITY_TEST_DB, asn); // a City database where an ASN one belongs: refused too
    expect(await geo.checkForUpdates()).toBe(false);
    copyFileSync(ASN_TEST_DB, asn);
    expect(await geo.checkForUpdates()).toBe(true);
    expect(geo.lookup('1.128.0.7')).toMatchObject({ asn: 1221, asOrg: 'Telstra Pty Ltd' });
  });
});
