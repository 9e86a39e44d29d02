// The enricher's IPC splice and its output columns at their edges: the input message bytes are never written to
// (NATS hands over Node Buffers), a batch of many rows with IPv6, nulls, empty strings and non-ASCII values gives
// the generic path's rows, and string columns with non-ASCII values and lone surrogates at the seams of two values
// encode each value on its own (as Buffer.write does), on both paths.
import { describe, expect, it } from 'vitest';
import { IntervalIndex } from '@sluice/attribution';
import { ColumnBuilder, decodeIpc, encodeIpc, tableToRows } from '@sluice/columnar';
import { DomainLookup } from '@sluice/domains';
import { GeoLookup } from '@sluice/geoip';
import { defenderTables, fullColumnsOf } from '@sluice/tables';
import { CITY_TEST_DB, ASN_TEST_DB } from '../../libs/geoip/testDatabases.ts';
import { enrichIpc, enrichmentByTable, enrichTable } from './handler.ts';

const def = defenderTables.DeviceNetworkEvents!;
const enrich = enrichmentByTable([def]).get(def.name)!;
const T0 = Date.UTC(2024, 2, 13, 9, 0, 0);

interface Row {
  remote: string | null;
  url?: string | null;
  local?: string | null;
}

function parsed(rows: Row[]): Uint8Array {
  const b = new ColumnBuilder(fullColumnsOf(def));
  rows.forEach((r, i) =>
    b.append({ Timestamp: (T0 + i) * 1000, DeviceId: `dev-${i}`, ActionType: 'ConnectionSuccess', RemoteIP: r.remote, RemoteUrl: r.url ?? null, LocalIP: r.local ?? null, _source: 'defender', _object: 'f.json', _raw_seq: 5, _raw: `{"n":${i}}`, eventDate: 19_795 }),
  );
  return encodeIpc(b.build());
}

describe('enricher splice', () => {
  it('leaves the input bytes as they were (a Node Buffer view, as NATS delivers them)', async () => {
    const geo = await GeoLookup.open({ cityDatabase: CITY_TEST_DB, asnDatabase: ASN_TEST_DB, reloadIntervalMs: 0 });
    const bytes = parsed(Array.from({ length: 50 }, (_, i) => ({ remote: i % 3 ? '81.2.69.160' : '1.128.0.7', url: 'www.bbc.co.uk' })));
    const pool = Buffer.alloc(bytes.length + 100);
    pool.set(bytes, 100);
    const input = pool.subarray(100);
    const before = Buffer.from(input); // a copy
    const out = enrichIpc(input, enrich, geo, new DomainLookup())!;
    expect(Buffer.compare(input, before)).toBe(0);
    // And the output is not a view of the input.
    expect(out.data.buffer).not.toBe(input.buffer);
    expect(tableToRows(decodeIpc(out.data))[1]).toMatchObject({ RemoteIP_geo_city: 'London', RemoteUrl_registered_domain: 'bbc.co.uk' });
    geo.close();
  });

  it('gives the generic path\'s rows for 2 000 rows of mixed addresses, names, nulls and empty strings', async () => {
    const geo = await GeoLookup.open({ cityDatabase: CITY_TEST_DB, asnDatabase: ASN_TEST_DB, reloadIntervalMs: 0 });
    const domains = new DomainLookup();
    const remotes = ['81.2.69.160', '2001:480:10::1', null, '', '1.128.0.7', '10.0.0.1', '::ffff:81.2.69.160', '175.16.199.1', 'not an ip', '2.125.160.216', '89.160.20.112'];
    const urls = ['www.bbc.co.uk', null, '', 'пример.рф', 'https://sub.example.com/x?y', '8.8.8.8', 'localhost', 'mañana.com.ar'];
    const rows = Array.from({ length: 2000 }, (_, i) => ({ remote: remotes[(i * 7) % remotes.length]!, url: urls[(i * 3) % urls.length]! }));
    const bytes = parsed(rows);
    const fast = enrichIpc(bytes, enrich, geo, domains)!;
    const generic = enrichTable(decodeIpc(bytes), enrich, geo, domains);
    const got = tableToRows(decodeIpc(fast.data));
    expect(got).toEqual(tableToRows(generic));
    expect(got[0]).toMatchObject({ RemoteIP_scope: 'public', RemoteIP_geo_country: 'GB', RemoteUrl_registered_domain: 'bbc.co.uk', RemoteUrl_public_suffix: 'co.uk' });
    // Non-ASCII values among ASCII ones, per row.
    expect(got.filter((r) => r.RemoteUrl === 'пример.рф').every((r) => r.RemoteUrl_registered_domain === 'пример.рф' && r.RemoteUrl_public_suffix === 'рф')).toBe(true);
    expect(new Set(got.map((r) => r.RemoteUrl_registered_domain))).toEqual(new Set([null, 'bbc.co.uk', 'пример.рф', 'example.com', 'mañana.com.ar']));
    // Null and empty addresses have no results; IPv6 and mapped addresses are looked up.
    expect(got.filter((r) => r.RemoteIP === null || r.RemoteIP === '').every((r) => r.RemoteIP_scope === null)).toBe(true);
    expect(got.find((r) => r.RemoteIP === '2001:480:10::1')).toMatchObject({ RemoteIP_geo_city: 'San Diego' });
    expect(got.find((r) => r.RemoteIP === '::ffff:81.2.69.160')).toMatchObject({ RemoteIP_geo_city: 'London' });
    geo.close();
  });

  it('encodes non-ASCII strings and lone surrogates value by value, on both paths', () => {
    const index = new IntervalIndex({ retentionHours: 24 * 365 });
    const users = ['Zoë', 'x\uD800', '\uDC00y', '', 'ascii', '日本語', null];
    users.forEach((user, i) =>
      index.upsert({ ip: `10.0.0.${i + 1}`, mac: null, user, hostname: i % 2 ? `host-${i}` : 'hôte', source: 'dhcp', validFrom: T0 - 1000, validTo: null, intervalId: `i${i}`, revision: 0 }),
    );
    const rows = [...users.keys(), 99].map((i) => ({ remote: '10.9.9.9', local: `10.0.0.${i + 1}` }));
    const bytes = parsed(rows);
    const attr = { index, eventTime: 'Timestamp' };
    const fast = tableToRows(decodeIpc(enrichIpc(bytes, enrich, null, null, attr)!.data));
    // A lone surrogate is written as U+FFFD on its own; joined, "x\uD800" + "\uDC00y" would have made one character.
    expect(fast.map((r) => r.LocalIP_user)).toEqual(['Zoë', 'x\uFFFD', '\uFFFDy', '', 'ascii', '日本語', null, null]);
    expect(fast.map((r) => r.LocalIP_hostname)).toEqual(['hôte', 'host-1', 'hôte', 'host-3', 'hôte', 'host-5', 'hôte', null]);
    expect(tableToRows(enrichTable(decodeIpc(bytes), enrich, null, null, attr))).toEqual(fast);
  });
});
