// Replays the saved fuzz corpus (test/fuzz/corpus/<target>/: inputs that once crashed, hung or lost records) through
// the same targets the fuzzer drives, and asserts the fuzzing property on each: no exception, and every record
// accounted for (records = rows + dropped + skipped + rejected + quarantined, each refusal with a reason).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, runCase } from './runner.ts';
import { TARGETS } from './targets/index.ts';

for (const name of Object.keys(TARGETS)) {
  const cases = loadCorpus(name);
  if (cases.length === 0) continue;
  describe(`fuzz corpus: ${name}`, () => {
    const target = TARGETS[name]!();
    beforeAll(async () => target.setup?.());
    afterAll(async () => target.teardown?.());
    for (const saved of cases) {
      it(`${saved.name} (${saved.case.meta.gen}): once "${saved.problem.split('\n')[0]!.slice(0, 100)}"`, async () => {
        // Timings are not asserted (shared machines); a regression to a hang shows as this test's timeout.
        const v = await runCase(target, saved.case, Infinity);
        expect(v.crash).toBeUndefined();
        const o = v.outcome!;
        expect(o.problems).toEqual([]);
        expect(o.rows + o.dropped + o.skipped + o.rejected + o.quarantined).toBe(o.records);
      });
    }
  });
}
