import { describe, expect, it } from 'vitest';
import { H, type InputMessage } from '@sluice/runtime';
import { splitBatch, UNKNOWN_CATEGORY } from './handler.ts';

const enc = new TextEncoder();
const known = new Set(['DeviceProcessEvents', 'DeviceNetworkEvents']);

function input(lines: string[]): InputMessage {
  return { subject: 'raw.defender', data: enc.encode(lines.join('\n') + '\n'), headers: { [H.source]: 'defender', [H.object]: 'f.json', [H.encoding]: 'ndjson' }, stream: 'RAW', seq: 42, deliveryCount: 1 };
}

describe('splitBatch', () => {
  it('explodes payloads, routes by category, keeps unknown categories and quarantines invalid JSON', () => {
    const payload = { records: [{ category: 'AdvancedHunting-DeviceProcessEvents', n: 1 }, { category: 'AdvancedHunting-DeviceNetworkEvents', n: 2 }, { category: 'AdvancedHunting-Brand New', n: 3 }] };
    const single = '{"category":"AdvancedHunting-DeviceProcessEvents","n":4}';
    const outs = splitBatch(input([JSON.stringify(payload), single, '{"broken":']), known);
    const bySubject = Object.fromEntries(outs.map((o) => [o.subject, new TextDecoder().decode(o.data).trim().split('\n')]));
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
});
