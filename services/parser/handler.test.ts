import { describe, expect, it } from 'vitest';
import { decodeIpc, tableToRows } from '@sluice/columnar';
import { encodePreamble, FatalStageError, H, type InputMessage } from '@sluice/runtime';
import { RecordError, type RecordContext, type SourceFamily } from '@sluice/sources';
import { defenderTables, type TableDefinition } from '@sluice/tables';
import { generateDefenderRecords } from '../../test/fixtures/defenderGenerator.ts';
import { parseBatch, parserContext } from './handler.ts';

const enc = new TextEncoder();

function input(lines: string[], seq = 9): InputMessage {
  return {
    subject: 'cat.defender.DeviceNetworkEvents',
    data: enc.encode(lines.join('\n') + '\n'),
    headers: { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'a.json', [H.rawSeq]: '3', [H.ingestTime]: '2024-03-11T10:00:00.000Z' },
    stream: 'CATEGORIZED',
    seq,
    deliveryCount: 1,
  };
}

describe('parseBatch', () => {
  const def = defenderTables.DeviceNetworkEvents!;
  const gen = generateDefenderRecords({ seed: 3, counts: { DeviceNetworkEvents: 30 }, malformed: 40 });
  const net = gen.records.filter((r) => r.category === 'AdvancedHunting-DeviceNetworkEvents');

  it('types good rows into Arrow with lineage, quarantines bad ones with reasons, drops what a drop rule says', () => {
    const counts = new Map<string, number>();
    const ctx = parserContext(def, '9.9.9', { inc: (l, n = 1) => counts.set(`${l.rule}:${l.action}`, (counts.get(`${l.rule}:${l.action}`) ?? 0) + n) });
    const lines = [...net.map((r) => JSON.stringify(r)), '{not json'];
    const outs = parseBatch(input(lines), ctx);
    const parsed = outs.filter((o) => o.subject === `parsed.${def.name}`);
    const rows = parsed.flatMap((o) => tableToRows(decodeIpc(o.data)));
    const malformed = gen.expected.malformed.filter((m) => m.category === 'DeviceNetworkEvents');
    expect(rows.length).toBe(net.length - malformed.length);
    const r = rows[0]!;
    expect(r).toMatchObject({ _source: 'defender', _object: 'a.json', _raw_seq: 3, _input_seq: 9, _parser_version: '9.9.9', _ingest_time: Date.parse('2024-03-11T10:00:00Z') * 1000 });
    expect(typeof r.Timestamp).toBe('number');
    expect(r.RemoteIP_geo_country).toBeNull(); // filled by the enricher, not the parser
    expect(JSON.parse(r._raw as string)).toEqual(net.find((x) => x.properties.ReportId === r.ReportId && x.properties.DeviceId === r.DeviceId));

    const q = outs.filter((o) => o.subject === `quarantine.parser.${def.name}`).flatMap((o) => new TextDecoder().decode(o.data).trim().split('\n').map((l) => JSON.parse(l)));
    const mustQ = malformed.filter((m) => m.disposition === 'quarantine');
    expect(q.length).toBe(mustQ.length + 1);
    expect(q.find((x) => x.raw === '{not json')).toMatchObject({ rule: 'parse', input_seq: 9, raw_seq: 3 });
    for (const m of mustQ) expect(q.some((x) => x.reason.includes(m.reason))).toBe(true);
    const dropped = malformed.filter((m) => m.disposition === 'drop').length;
    if (dropped > 0) expect(counts.get('valid_remote_port:drop')).toBe(dropped);
  });

  it('stops the stage on an expect_or_fail rule', () => {
    const strict: TableDefinition = { ...def, expectations: [{ name: 'never', action: 'fail', description: 'always fails', check: () => false }] };
    expect(() => parseBatch(input([JSON.stringify(net[0])]), parserContext(strict, 'x'))).toThrow(FatalStageError);
  });

  it('cuts Arrow envelopes so each stays well under max_payload', () => {
    const big = generateDefenderRecords({ seed: 4, counts: { DeviceNetworkEvents: 2000 } }).records.map((r) => JSON.stringify(r));
    const outs = parseBatch(input(big), parserContext(def, 'x'));
    expect(outs.length).toBeGreaterThan(1);
    for (const o of outs) expect(o.data.length).toBeLessThan(700 * 1024);
    expect(outs.reduce((n, o) => n + o.records, 0)).toBe(2000);
  });

  it('cuts lines as splitLines does: LF or CRLF, blank and CR-only lines skipped, no final newline needed', () => {
    const [x, y, z] = net.slice(0, 3).map((r) => JSON.stringify(r));
    const msg = { ...input([]), data: enc.encode(`\n${x}\r\n\r\n\n${y}\n\r\n${z}`) };
    const outs = parseBatch(msg, parserContext(def, 'r'));
    const rows = outs.filter((o) => o.subject === `parsed.${def.name}`).flatMap((o) => tableToRows(decodeIpc(o.data)));
    const kept = [x, y, z].filter((l) => rows.some((r) => r._raw === l));
    const quarantined = outs.filter((o) => o.subject.startsWith('quarantine.')).flatMap((o) => new TextDecoder().decode(o.data).trim().split('\n').map((l) => JSON.parse(l).raw as string));
    expect([...kept, ...quarantined].sort()).toEqual([x, y, z].sort());
    expect(rows.every((r) => !String(r._raw).endsWith('\r'))).toBe(true);
  });

  it('gives every envelope its own lineage and rows when one context parses many (the builder is reused)', () => {
    const lines = generateDefenderRecords({ seed: 5, counts: { DeviceNetworkEvents: 303 } }).records.map((r) => JSON.stringify(r));
    const ctx = parserContext(def, 'r');
    const rowsOf = (outs: ReturnType<typeof parseBatch>) => outs.filter((o) => o.subject === `parsed.${def.name}`).flatMap((o) => tableToRows(decodeIpc(o.data)));
    const a = parseBatch(input(lines.slice(0, 300), 1), ctx);
    // A stage failure in the middle of an envelope leaves rows in the shared builder; the next envelope must not see them.
    const validate = ctx.validate;
    let calls = 0;
    ctx.validate = (record) => (++calls === 3 ? { ...validate(record), disposition: 'fail', reasons: ['stop'], failed: [] } : validate(record));
    expect(() => parseBatch(input(lines.slice(0, 5), 2), ctx)).toThrow(FatalStageError);
    ctx.validate = validate;
    const b = parseBatch({ ...input(lines.slice(300, 303), 3), headers: { ...input([]).headers, [H.object]: 'b.json', [H.rawSeq]: '4' } }, ctx);
    // The same envelope parsed by a fresh context: identical bytes.
    expect(a.length).toBeGreaterThan(1);
    const again = parseBatch(input(lines.slice(0, 300), 1), parserContext(def, 'r'));
    expect(a.map((o) => o.data.length)).toEqual(again.map((o) => o.data.length));
    expect(a.every((o, i) => Buffer.from(o.data).equals(again[i]!.data))).toBe(true);
    expect(rowsOf(b).map((r) => [r._object, r._raw_seq, r._input_seq, r._raw])).toEqual(lines.slice(300, 303).map((l) => ['b.json', 4, 3, l]));
  });
});

describe('parseBatch with a family decoder', () => {
  const def: TableDefinition = {
    name: 't_pairs',
    layer: 'silver',
    doc: 'test',
    partitionBy: ['eventDate'],
    eventTime: 'ts',
    columns: [
      { name: 'ts', type: 'timestamp', unit: 's', nullable: false },
      { name: 'value', type: 'long' },
    ],
    expectations: [],
  };
  const family = {
    name: 'pairs',
    title: 'k=v pairs',
    tables: { pairs: def },
    route: () => ({ routed: [], rejected: [] }),
    decode: (record: Uint8Array, _category: string, ctx: RecordContext) => {
      const text = new TextDecoder().decode(record);
      if (text === 'boom') throw new TypeError('unexpected');
      if (!text.includes('=')) throw new RecordError('shape', `no "=" in record (fields: ${ctx.preamble.join(',')})`);
      return Object.fromEntries(text.split(' ').map((p) => p.split('=')));
    },
  } satisfies SourceFamily;

  it('decodes with the family and the preamble, quarantines RecordError with its rule and any other throw as parse', () => {
    const msg = input(['ts=1710151200 value=7', 'garbage', 'boom']);
    msg.headers[H.preamble] = encodePreamble(['#fields ts value']);
    const outs = parseBatch(msg, parserContext(def, 'v', undefined, family, 'pairs'));
    const rows = outs.filter((o) => o.subject === 'parsed.t_pairs').flatMap((o) => tableToRows(decodeIpc(o.data)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ts: 1710151200 * 1e6, value: 7, _raw: 'ts=1710151200 value=7', eventDate: 19793 });
    const q = outs.filter((o) => o.subject === 'quarantine.parser.t_pairs').flatMap((o) => new TextDecoder().decode(o.data).trim().split('\n').map((l) => JSON.parse(l)));
    expect(q.map((r) => [r.rule, r.reason])).toEqual([
      ['shape', 'no "=" in record (fields: #fields ts value)'],
      ['parse', 'decoder failed: unexpected'],
    ]);
  });
});
