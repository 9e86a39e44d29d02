// Tests of expectation evaluation and the combined validator: action precedence, warnings, coercion failures
// quarantined with their reason, and checks that throw counting as failed.
import { describe, expect, it } from 'vitest';
import { compileValidator, evaluateExpectations, expectationReason } from './expectations.ts';
import type { TableDefinition } from './tableDefinition.ts';

const def: TableDefinition = {
  name: 'e',
  layer: 'bronze',
  doc: 'expectation test table',
  columns: [
    { name: 'Id', type: 'string', nullable: false },
    { name: 'Port', type: 'integer' },
    { name: 'Kind', type: 'string' },
  ],
  partitionBy: [],
  expectations: [
    { name: 'id_present', action: 'quarantine', description: 'Id is non-empty', check: (r) => r.Id !== '' },
    { name: 'valid_port', action: 'drop', description: 'Port is null or 0..65535', check: (r) => r.Port === null || (typeof r.Port === 'number' && r.Port >= 0 && r.Port <= 65_535) },
    { name: 'kind_known', action: 'warn', description: 'Kind is a or b', check: (r) => r.Kind === 'a' || r.Kind === 'b' },
    { name: 'not_poison', action: 'fail', description: 'Kind is not poison', check: (r) => r.Kind !== 'poison' },
  ],
};

describe('compileValidator', () => {
  const validate = compileValidator(def);

  it('keeps rows that pass every rule, with no reasons', () => {
    const v = validate({ Id: 'x', Port: 443, Kind: 'a' });
    expect(v).toEqual({ row: { Id: 'x', Port: 443, Kind: 'a' }, disposition: 'keep', reasons: [], warnings: [], failed: [] });
  });

  it('keeps rows failing only warn rules and reports the warning', () => {
    const v = validate({ Id: 'x', Kind: 'zzz' });
    expect(v.disposition).toBe('keep');
    expect(v.warnings).toEqual(['expectation kind_known (warn): Kind is a or b']);
    expect(v.failed).toEqual(['kind_known']);
  });

  it('drops, quarantines or fails by the strictest failed action', () => {
    expect(validate({ Id: 'x', Port: 70_000, Kind: 'a' }).disposition).toBe('drop');
    const q = validate({ Id: '', Port: 70_000, Kind: 'a' });
    expect(q.disposition).toBe('quarantine');
    expect(q.reasons).toEqual(['expectation id_present (quarantine): Id is non-empty', 'expectation valid_port (drop): Port is null or 0..65535']);
    expect(validate({ Id: '', Port: 70_000, Kind: 'poison' }).disposition).toBe('fail');
  });

  it('quarantines records that do not coerce, with the coercion reason', () => {
    expect(validate({ Port: 1 })).toEqual({ row: null, disposition: 'quarantine', reasons: ['column Id: required but missing'], warnings: [], failed: ['coercion'] });
    expect(validate({ Id: 'x', Port: 'abc' }).reasons).toEqual(['column Port: expected integer, got string "abc"']);
  });
});

describe('evaluateExpectations', () => {
  it('counts a check that throws as failed', () => {
    const throwing: TableDefinition = {
      ...def,
      expectations: [{ name: 'boom', action: 'drop', description: 'never throws', check: () => { throw new Error('x'); } }],
    };
    expect(evaluateExpectations(throwing, { Id: 'x', Port: null, Kind: null }).disposition).toBe('drop');
  });

  it('formats reasons with name, action and description', () => {
    expect(expectationReason(def.expectations[1]!)).toBe('expectation valid_port (drop): Port is null or 0..65535');
  });
});
