// The collector builds envelopes a window at a time: the plan and the bodies must be exactly packLines' (same
// bodies, so the same message ids and JetStream de-duplication after a crash), oversized records included.
import { describe, expect, it } from 'vitest';
import { packLines } from '@sluice/runtime';
import { buildBody, planEnvelopes } from './rawPublisher.ts';

describe('planEnvelopes + buildBody', () => {
  it('cut and fill envelopes exactly as packLines does (random sizes, records over the cap)', () => {
    let x = 99;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let round = 0; round < 300; round++) {
      const max = 64 + rnd(400);
      const records = Array.from({ length: rnd(60) }, (_, i) => new Uint8Array(rnd(4) === 0 ? rnd(max + 40) : rnd(max / 4)).fill(97 + (i % 26)));
      const want = packLines(records, max);
      const { ends, oversized } = planEnvelopes(records, max);
      const got = ends.map((end, k) => buildBody(records, k === 0 ? 0 : ends[k - 1]!, end, max));
      expect(got).toEqual(want.bodies);
      expect(oversized).toBe(want.oversized.length);
    }
  });

  it('plans nothing for no records and one envelope per record at the cap', () => {
    expect(planEnvelopes([], 100)).toEqual({ ends: [], oversized: 0 });
    const at = [new Uint8Array(99), new Uint8Array(99), new Uint8Array(100)];
    expect(planEnvelopes(at, 100)).toEqual({ ends: [1, 3], oversized: 1 });
  });
});
