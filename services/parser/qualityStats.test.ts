// The parser's per-envelope quality stats: exact rows / kept / dropped / quarantined, failures per check (warn
// included), the deciding rule of each rejected row, one message per envelope with an id stable across redeliveries.
import { describe, expect, it } from 'vitest';
import { H, type InputMessage } from '@sluice/runtime';
import type { TableDefinition } from '@sluice/tables';
import { parseBatch, parserContext } from './handler.ts';
import type { QualityStats } from './qualityStats.ts';

const enc = new TextEncoder();

const def: TableDefinition = {
  name: 't_quality',
  layer: 'silver',
  doc: 'test',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [
    { name: 'ts', type: 'timestamp', unit: 's', nullable: false },
    { name: 'user', type: 'string' },
    { name: 'port', type: 'long' },
  ],
  expectations: [
    { name: 'user_present', action: 'quarantine', description: 'user set', check: (r) => typeof r.user === 'string' && r.user !== '' },
    { name: 'port_valid', action: 'drop', description: 'port in range', check: (r) => r.port == null || (Number(r.port) >= 0 && Number(r.port) <= 65535) },
    { name: 'port_present', action: 'warn', description: 'port set', check: (r) => r.port != null },
  ],
};

function input(lines: string[], seq = 41): InputMessage {
  return {
    subject: 'cat.app.t_quality',
    data: enc.encode(lines.join('\n') + '\n'),
    headers: { [H.encoding]: 'ndjson', [H.source]: 'app', [H.object]: 'f.json', [H.rawSeq]: '7', [H.ingestTime]: '2024-03-11T10:00:00.000Z' },
    stream: 'CATEGORIZED',
    seq,
    deliveryCount: 1,
  };
}

const rec = (o: Record<string, unknown>) => JSON.stringify({ ts: 1710151200, ...o });
const lines = [
  rec({ user: 'a', port: 22 }), // kept
  rec({ user: 'b', port: 443 }), // kept
  rec({ user: 'c' }), // kept, warn port_present
  rec({ user: '', port: 80 }), // quarantined: user_present
  rec({ user: '', port: 70000 }), // quarantined (quarantine beats drop): user_present + port_valid
  rec({ user: 'd', port: -1 }), // dropped: port_valid
  rec({ ts: 'not a time', user: 'e' }), // quarantined: coercion → parse
  '{broken', // quarantined: parse (invalid JSON)
];

const statsOf = (outs: ReturnType<typeof parseBatch>) => outs.filter((o) => o.subject === 'quality.t_quality');

describe('parser quality stats', () => {
  it('counts one envelope exactly: rows, kept, dropped, quarantined, failures per check and the deciding rule', () => {
    const outs = parseBatch(input(lines), { ...parserContext(def, '1.2.3'), qualityStats: true });
    const [q, ...more] = statsOf(outs);
    expect(more).toEqual([]);
    expect(q!.msgId).toBe('quality:CATEGORIZED:41:t_quality');
    expect(q!.records).toBe(1);
    expect(q!.headers).toMatchObject({ [H.encoding]: 'ndjson', [H.count]: '1', [H.table]: 't_quality', [H.ingestTime]: '2024-03-11T10:00:00.000Z' });
    const s = JSON.parse(new TextDecoder().decode(q!.data)) as QualityStats;
    expect(s).toEqual({
      table: 't_quality',
      category: 't_quality',
      source: 'app',
      object: 'f.json',
      raw_seq: 7,
      input_stream: 'CATEGORIZED',
      input_seq: 41,
      ingest_time: '2024-03-11T10:00:00.000Z',
      parser_version: '1.2.3',
      rows: 8,
      kept: 3,
      dropped: 1,
      quarantined: 4,
      failures: { port_present: 1, user_present: 2, port_valid: 2, parse: 2 },
      rejected: { port_valid: 1, user_present: 2, parse: 2 },
    });
    // The stats agree with what the handler really produced.
    const parsed = outs.filter((o) => o.subject === 'parsed.t_quality').reduce((n, o) => n + o.records, 0);
    const quarantined = outs.filter((o) => o.subject === 'quarantine.parser.t_quality').reduce((n, o) => n + o.records, 0);
    expect([parsed, quarantined]).toEqual([s.kept, s.quarantined]);
  });

  it('a redelivered input yields the same message (same id, same bytes)', () => {
    const ctx = { ...parserContext(def, '1.2.3'), qualityStats: true };
    const a = statsOf(parseBatch(input(lines, 5), ctx))[0]!;
    const b = statsOf(parseBatch(input(lines, 5), ctx))[0]!;
    expect(b.msgId).toBe(a.msgId);
    expect(new TextDecoder().decode(b.data)).toBe(new TextDecoder().decode(a.data));
  });

  it('a clean envelope still reports its rows (the denominator); an empty one and a context without stats report nothing', () => {
    const ctx = { ...parserContext(def, '1.2.3'), qualityStats: true };
    const clean = JSON.parse(new TextDecoder().decode(statsOf(parseBatch(input([rec({ user: 'a', port: 1 })]), ctx))[0]!.data)) as QualityStats;
    expect([clean.rows, clean.kept, clean.dropped, clean.quarantined, clean.failures, clean.rejected]).toEqual([1, 1, 0, 0, {}, {}]);
    expect(statsOf(parseBatch({ ...input([]), data: new Uint8Array() }, ctx))).toEqual([]);
    expect(statsOf(parseBatch(input(lines), parserContext(def, '1.2.3')))).toEqual([]);
  });
});
