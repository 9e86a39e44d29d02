// Preamble segmentation: header lines leave the records, each segment carries the latest run, state carries over.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sluice/runtime';
import type { SourceFamily } from '@sluice/sources';
import { EMPTY_PREAMBLE, MAX_PREAMBLE_BYTES, resolveFamily, segmentByPreamble } from './preamble.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const hashFamily: SourceFamily = { name: 'hashy', title: 't', tables: {}, route: () => ({ routed: [], rejected: [] }), isPreamble: (l) => l.startsWith('#') };
const lines = (...l: string[]) => l.map((x) => enc.encode(x));
const text = (s: { preamble: string[]; records: Uint8Array[] }[]) => s.map((x) => ({ preamble: x.preamble, records: x.records.map((r) => dec.decode(r)) }));

describe('segmentByPreamble', () => {
  it('strips header runs and starts a new segment at each new run', () => {
    const { segments, state } = segmentByPreamble(lines('#a', '#b', '1', '2', '#c', '3', '#d', '#e', '4'), EMPTY_PREAMBLE, hashFamily);
    expect(text(segments)).toEqual([
      { preamble: ['#a', '#b'], records: ['1', '2'] },
      { preamble: ['#c'], records: ['3'] },
      { preamble: ['#d', '#e'], records: ['4'] },
    ]);
    expect(state).toEqual({ line: 9, lines: ['#d', '#e'], inRun: false });
  });

  it('continues from a saved state: a run split across two reads stays one run', () => {
    const first = segmentByPreamble(lines('1', '#x'), { line: 4, lines: ['#old'], inRun: false }, hashFamily);
    expect(text(first.segments)).toEqual([{ preamble: ['#old'], records: ['1'] }]);
    expect(first.state).toEqual({ line: 6, lines: ['#x'], inRun: true });
    const second = segmentByPreamble(lines('#y', '2'), JSON.parse(JSON.stringify(first.state)) as typeof first.state, hashFamily);
    expect(text(second.segments)).toEqual([{ preamble: ['#x', '#y'], records: ['2'] }]);
  });

  it('passes the line index within the file to isPreamble', () => {
    const seen: number[] = [];
    const fam: SourceFamily = { ...hashFamily, isPreamble: (l, i) => (seen.push(i), i === 0) };
    const { segments } = segmentByPreamble(lines('version srcaddr', 'a', 'b'), EMPTY_PREAMBLE, fam);
    expect(seen).toEqual([0, 1, 2]);
    expect(text(segments)).toEqual([{ preamble: ['version srcaddr'], records: ['a', 'b'] }]);
    const later = segmentByPreamble(lines('c'), { line: 3, lines: ['version srcaddr'], inRun: false }, fam);
    expect(text(later.segments)).toEqual([{ preamble: ['version srcaddr'], records: ['c'] }]);
  });

  it('without isPreamble keeps every line a record in one segment', () => {
    const { segments, state } = segmentByPreamble(lines('#a', '1'), EMPTY_PREAMBLE, undefined);
    expect(text(segments)).toEqual([{ preamble: [], records: ['#a', '1'] }]);
    expect(state.line).toBe(2);
  });

  it('a throwing isPreamble counts the line as a record; a huge preamble keeps only its last lines', () => {
    const fam: SourceFamily = { ...hashFamily, isPreamble: (l) => (l === 'boom' ? (() => { throw new Error('x'); })() : l.startsWith('#')) };
    expect(text(segmentByPreamble(lines('boom'), EMPTY_PREAMBLE, fam).segments)).toEqual([{ preamble: [], records: ['boom'] }]);
    const big = Array.from({ length: 100 }, (_, i) => `#${i}${'h'.repeat(500)}`);
    const { segments } = segmentByPreamble(lines(...big, 'r'), EMPTY_PREAMBLE, hashFamily);
    const p = segments[0]!.preamble;
    expect(p.length).toBeLessThan(100);
    expect(p.at(-1)).toBe(big.at(-1));
    expect(JSON.stringify(p).length).toBeLessThanOrEqual(MAX_PREAMBLE_BYTES);
  });
});

describe('resolveFamily', () => {
  it('defaults to the source name when it names a family; an explicit unknown family is a config error', () => {
    expect(resolveFamily('defender', undefined, 'k')?.name).toBe('defender');
    expect(resolveFamily('my-app', undefined, 'k')).toBeUndefined();
    expect(resolveFamily('edr-eu', 'defender', 'k')?.name).toBe('defender');
    expect(() => resolveFamily('x', 'nope', 'collector.directories[0].family')).toThrow(ConfigError);
    expect(() => resolveFamily('x', 'nope', 'collector.directories[0].family')).toThrow(/collector\.directories\[0\]\.family: unknown source family "nope"/);
  });
});
