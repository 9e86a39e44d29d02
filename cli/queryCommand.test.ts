// `sluice query --ip --at` over an ip_lookup table written here: the highest revision of an interval wins, the
// interval end is exclusive, an open interval matches any later time, nobody → exit 1, bad arguments → exit 2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder } from '@sluice/columnar';
import { DeltaTable, type DeltaColumn } from '@sluice/delta';
import { fullColumnsOf, ipLookupTable } from '@sluice/tables';
import { main } from './main.ts';
import { holdersAt, runQuery } from './queryCommand.ts';

const us = (iso: string) => Date.parse(iso) * 1000;
const day = (iso: string) => Math.floor(Date.parse(iso) / 86_400_000);
const row = (o: { ip: string; mac: string; user?: string; host?: string; source?: string; from: string; to?: string; id: string; rev: number; by?: string }) => ({
  ip: o.ip, mac: o.mac, user: o.user ?? null, hostname: o.host ?? null, source: o.source ?? 'dhcp', valid_from: us(o.from), valid_to: o.to ? us(o.to) : null,
  lease_expires: null, closed_by: o.by ?? null, interval_id: o.id, revision: o.rev, emitted_time: us('2024-03-14T00:00:00Z'), evidence: '[]', valid_from_date: day(o.from),
});
const ROWS = [
  row({ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', host: 'laptop-1', from: '2024-03-13T08:00:00Z', id: 'i1', rev: 0 }),
  row({ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'alice', host: 'laptop-1', from: '2024-03-13T08:00:00Z', id: 'i1', rev: 1 }),
  row({ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: 'alice', host: 'laptop-1', from: '2024-03-13T08:00:00Z', to: '2024-03-13T09:30:00Z', by: 'release', id: 'i1', rev: 2 }),
  row({ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:02', user: 'bob', source: 'ise', from: '2024-03-13T09:30:00Z', id: 'i2', rev: 0 }),
  row({ ip: '10.9.9.9', mac: 'aa:bb:cc:00:00:09', from: '2024-03-13T09:00:00Z', id: 'i3', rev: 0 }),
];

let lake = '';
beforeAll(async () => {
  lake = mkdtempSync(join(tmpdir(), 'sluice-query-'));
  const cols = fullColumnsOf(ipLookupTable);
  const t = await DeltaTable.openOrCreate(join(lake, 'gold', 'ip_lookup'), {
    columns: cols.map((c): DeltaColumn => ({ name: c.name, type: c.type === 'json' ? 'string' : (c.type as DeltaColumn['type']), nullable: c.nullable ?? true })),
    partitionBy: ipLookupTable.partitionBy,
  });
  const b = new ColumnBuilder(cols);
  for (const r of ROWS) b.append(r);
  await t.append(b.build());
  return () => rmSync(lake, { recursive: true, force: true });
});

describe('sluice query', () => {
  it('holdersAt: the latest revision of each interval covering the time', () => {
    expect(holdersAt(ROWS, '10.1.2.3', us('2024-03-13T09:08:00Z')).map((h) => [h.mac, h.user, h.revision, h.closed_by])).toEqual([['aa:bb:cc:00:00:01', 'alice', 2, 'release']]);
    // valid_to is exclusive: at the handover the new holder answers.
    expect(holdersAt(ROWS, '10.1.2.3', us('2024-03-13T09:30:00Z')).map((h) => h.user)).toEqual(['bob']);
    expect(holdersAt(ROWS, '10.1.2.3', us('2024-03-13T07:59:59Z'))).toEqual([]);
    expect(holdersAt(ROWS, '10.9.9.9', us('2025-01-01T00:00:00Z')).map((h) => h.mac)).toEqual(['aa:bb:cc:00:00:09']);
  });

  it('prints the holder from the Delta table, exit 0; nobody → exit 1', async () => {
    const out: string[] = [];
    const code = await runQuery({ table: join(lake, 'gold', 'ip_lookup'), ip: '10.1.2.3', at: '2024-03-13T09:08:00Z' }, (s) => out.push(s));
    expect(code).toBe(0);
    expect(out.join('\n')).toBe(
      ['ip        10.1.2.3', 'mac       aa:bb:cc:00:00:01', 'user      alice', 'hostname  laptop-1', 'source    dhcp', 'interval  2024-03-13T08:00:00.000Z → 2024-03-13T09:30:00.000Z (release)'].join('\n'),
    );
    const none: string[] = [];
    expect(await runQuery({ table: join(lake, 'gold', 'ip_lookup'), ip: '10.7.7.7', at: '2024-03-13T09:08:00Z' }, (s) => none.push(s))).toBe(1);
    expect(none).toEqual([`nobody held 10.7.7.7 at 2024-03-13T09:08:00.000Z (per ${join(lake, 'gold', 'ip_lookup')})`]);
  });

  it('through the command line: --lake, --help, missing and bad arguments', async () => {
    const logs: string[] = [];
    const errs: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (s: string) => void logs.push(s);
    console.error = (s: string) => void errs.push(s);
    try {
      expect(await main(['query', '--lake', lake, '--ip', '10.1.2.3', '--at', '2024-03-13T09:45:00Z'])).toBe(0);
      expect(logs.at(-1)).toContain('user      bob');
      expect(logs.at(-1)).toContain('interval  2024-03-13T09:30:00.000Z → open');
      expect(await main(['query', '--lake', lake, '--ip', '10.1.2.3', '--at', '2024-03-12T00:00:00Z'])).toBe(1);
      expect(await main(['query', '--help'])).toBe(0);
      expect(logs.at(-1)).toMatch(/^Usage: sluice query --ip ADDRESS --at TIME/);
      expect(await main(['query', '--ip', '10.1.2.3'])).toBe(2);
      expect(await main(['query', '--lake', lake, '--ip', 'nope', '--at', '2024-03-13T09:08:00Z'])).toBe(2);
      expect(await main(['query', '--lake', lake, '--ip', '10.1.2.3', '--at', 'tuesday'])).toBe(2);
      expect(errs.join('\n')).toMatch(/--ip and --at are required[\s\S]*"nope" is not an IP address[\s\S]*"tuesday" is not an ISO-8601 time/);
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});

