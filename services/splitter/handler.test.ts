import { describe, expect, it } from 'vitest';
import { H, encodePreamble, type InputMessage } from '@sluice/runtime';
import { defenderFamily, type SourceFamily } from '@sluice/sources';
import { splitBatch, UNKNOWN_CATEGORY, type SplitStats } from './handler.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function input(lines: string[], headers: Record<string, string> = {}): InputMessage {
  return { subject: 'raw.defender', data: enc.encode(lines.join('\n') + '\n'), headers: { [H.source]: 'defender', [H.object]: 'f.json', [H.encoding]: 'ndjson', ...headers }, stream: 'RAW', seq: 42, deliveryCount: 1 };
}

describe('splitBatch', () => {
  it('explodes payloads, routes by category, keeps unknown categories and quarantines invalid JSON', () => {
    const payload = { records: [{ category: 'AdvancedHunting-DeviceProcessEvents', n: 1 }, { category: 'AdvancedHunting-DeviceNetworkEvents', n: 2 }, { category: 'AdvancedHunting-Brand New', n: 3 }] };
    const single = '{"category":"AdvancedHunting-DeviceProcessEvents","n":4}';
    const outs = splitBatch(input([JSON.stringify(payload), single, '{"broken":']), defenderFamily);
    const bySubject = Object.fromEntries(outs.map((o) => [o.subject, dec.decode(o.data).trim().split('\n')]));
    expect(Object.keys(bySubject).sort()).toEqual(['cat.defender.DeviceNetworkEvents', 'cat.defender.DeviceProcessEvents', `cat.defender.${UNKNOWN_CATEGORY}`, 'quarantine.splitter.defender']);
    expect(bySubject['cat.defender.DeviceProcessEvents']).toEqual([JSON.stringify(payload.records[0]), single]);
    expect(bySubject[`cat.defender.${UNKNOWN_CATEGORY}`]).toHaveLength(1);
    const q = JSON.parse(bySubject['quarantine.splitter.defender']![0]!);
    expect(q).toMatchObject({ stage: 'splitter', raw: '{"broken":', raw_seq: 42, object: 'f.json' });
    expect(q.reason).toMatch(/^invalid JSON/);
    const proc = outs.find((o) => o.subject === 'cat.defender.DeviceProcessEvents')!;
    expect(proc.headers![H.rawSeq]).toBe('42');
    expect(proc.records).toBe(2);
  });

  it('passes the preamble on, sends unsafe category tokens and newline-bearing records to the right place, counts skips', () => {
    const seen: string[][] = [];
    const family: SourceFamily = {
      name: 't',
      title: 't',
      tables: {},
      route: (records, ctx) => {
        seen.push([...ctx.preamble]);
        return {
          routed: [
            { category: 'ok', record: records[0]! },
            { category: 'bad.token', record: records[1]! },
            { category: 'ok', record: enc.encode('two\nlines') },
          ],
          rejected: [{ raw: records[2]!, rule: 'shape', reason: 'not a t record' }],
          skipped: 4,
        };
      },
    };
    const pre = encodePreamble(['#fields\ta\tb', '#path\tconn']);
    const stats: SplitStats = { byCategory: new Map(), skipped: 0 };
    const outs = splitBatch(input(['a', 'b', 'c'], { [H.preamble]: pre }), family, stats);
    expect(seen).toEqual([['#fields\ta\tb', '#path\tconn']]);
    const ok = outs.find((o) => o.subject === 'cat.defender.ok')!;
    expect(dec.decode(ok.data)).toBe('a\n');
    expect(ok.headers![H.preamble]).toBe(pre);
    expect(dec.decode(outs.find((o) => o.subject === `cat.defender.${UNKNOWN_CATEGORY}`)!.data)).toBe('b\n');
    const q = dec.decode(outs.find((o) => o.subject === 'quarantine.splitter.defender')!.data).trim().split('\n').map((l) => JSON.parse(l));
    expect(q.map((r) => [r.rule, r.raw])).toEqual([['shape', 'c'], ['parse', 'two\nlines']]);
    expect(stats.skipped).toBe(4);
    expect(Object.fromEntries(stats.byCategory)).toEqual({ ok: 1, [UNKNOWN_CATEGORY]: 1 });
  });
});
