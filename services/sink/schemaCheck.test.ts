// checkEnvelopeSchema: which envelope schemas a table takes (same, extra nullable, missing nullable) and which it
// refuses (type mismatch, missing or null non-nullable column, case clash, non-nullable or untyped new column).
import { Field, Int32, makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBuilder } from '@sluice/columnar';
import type { DeltaColumn } from '@sluice/delta';
import { checkEnvelopeSchema } from './schemaCheck.ts';

const table: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'user', type: 'string', nullable: true },
  { name: 'bytes', type: 'integer', nullable: true },
];

function build(columns: DeltaColumn[], rows: Record<string, string | number | null>[]): Table {
  const b = new ColumnBuilder(columns);
  for (const r of rows) b.append(r);
  return b.build();
}

/** One non-nullable Int32 column (ColumnBuilder only makes nullable fields for nullable columns of the table). */
function nonNullableInt(name: string): Table {
  const type = new Int32();
  const field = new Field(name, type, false);
  const child = makeData({ type, length: 1, nullCount: 0, data: Int32Array.from([1]) });
  const struct = makeData({ type: new Struct([field]), length: 1, nullCount: 0, children: [child] });
  return new Table(new RecordBatch(new Schema([field]), struct));
}

describe('checkEnvelopeSchema', () => {
  it('accepts the same columns and types', () => {
    expect(checkEnvelopeSchema(build(table, [{ id: 1, user: 'a', bytes: 3 }]), table)).toEqual({ ok: true, added: [] });
  });

  it('accepts missing nullable columns and reports extra nullable ones as added', () => {
    const cols: DeltaColumn[] = [table[0]!, { name: 'country', type: 'string', nullable: true }];
    expect(checkEnvelopeSchema(build(cols, [{ id: 1, country: 'FR' }]), table)).toEqual({ ok: true, added: [{ name: 'country', type: 'string', nullable: true }] });
  });

  it('refuses a type mismatch, naming the column and both types', () => {
    const cols: DeltaColumn[] = [table[0]!, { name: 'bytes', type: 'string', nullable: true }];
    const r = checkEnvelopeSchema(build(cols, [{ id: 1, bytes: 'many' }]), table);
    expect(r).toMatchObject({ ok: false, column: 'bytes' });
    expect(!r.ok && r.reason).toMatch(/"bytes".*Utf8.*Delta type integer/);
  });

  it('refuses a long where the table has an integer (no narrowing)', () => {
    const cols: DeltaColumn[] = [table[0]!, { name: 'bytes', type: 'long', nullable: true }];
    expect(checkEnvelopeSchema(build(cols, [{ id: 1, bytes: 5 }]), table)).toMatchObject({ ok: false, column: 'bytes' });
  });

  it('refuses a missing non-nullable column', () => {
    const r = checkEnvelopeSchema(build([table[1]!], [{ user: 'a' }]), table);
    expect(r).toMatchObject({ ok: false, column: 'id' });
    expect(!r.ok && r.reason).toMatch(/non-nullable column "id" \(Delta long\) is missing/);
  });

  it('refuses nulls in a non-nullable column', () => {
    const cols: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: true }];
    expect(checkEnvelopeSchema(build(cols, [{ id: null }]), table)).toMatchObject({ ok: false, column: 'id' });
  });

  it('refuses a column differing only in case', () => {
    const cols: DeltaColumn[] = [table[0]!, { name: 'User', type: 'string', nullable: true }];
    expect(checkEnvelopeSchema(build(cols, [{ id: 1, User: 'a' }]), table)).toMatchObject({ ok: false, column: 'User' });
  });

  it('refuses a new non-nullable column', () => {
    const t = nonNullableInt('extra');
    const r = checkEnvelopeSchema(t, [{ name: 'user', type: 'string', nullable: true }]);
    expect(r).toMatchObject({ ok: false, column: 'extra' });
    expect(!r.ok && r.reason).toMatch(/non-nullable/);
  });
});
