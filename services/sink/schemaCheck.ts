// Schema check of one incoming Arrow envelope against its Delta table, before it is buffered: an incompatible
// envelope is quarantined on its own instead of failing (and, after retries, stopping) a whole flush.
import type { DataType, Table } from 'apache-arrow';
import { acceptsArrowType, inferDeltaType, type DeltaColumn } from '@sluice/delta';

export type SchemaCheck =
  /** Compatible; `added` are the envelope's new nullable columns, which the next append adds to the table. */
  | { ok: true; added: DeltaColumn[] }
  /** Incompatible: `column` is the first offending column, `reason` names it and both types. */
  | { ok: false; column: string; reason: string };

/**
 * Compatible: the table's columns with accepted Arrow types, plus extra nullable columns of a type Delta can
 * store (schema evolution adds them), minus nullable table columns (written as null). Anything the Delta append
 * would refuse is incompatible: a type mismatch, a missing non-nullable column, nulls in a non-nullable column,
 * a name differing only in case, or an extra column that is non-nullable or has no Delta type.
 */
export function checkEnvelopeSchema(data: Table, columns: readonly DeltaColumn[]): SchemaCheck {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const seen = new Set<string>();
  const added: DeltaColumn[] = [];
  for (const f of data.schema.fields) {
    const type = f.type as DataType;
    const col = byName.get(f.name.toLowerCase());
    seen.add(f.name.toLowerCase());
    if (!col) {
      const inferred = inferDeltaType(type);
      if (!inferred) return bad(f.name, `new column "${f.name}" has Arrow type ${String(type)}, which has no Delta type`);
      if (!f.nullable) return bad(f.name, `new column "${f.name}" (Arrow ${String(type)}, Delta ${inferred}) is non-nullable; only nullable columns can be added`);
      added.push({ name: f.name, type: inferred, nullable: true });
      continue;
    }
    if (col.name !== f.name) return bad(f.name, `column "${f.name}" (Arrow ${String(type)}) differs only in case from table column "${col.name}" (Delta ${col.type})`);
    if (!acceptsArrowType(col.type, type)) return bad(f.name, `column "${f.name}" has Arrow type ${String(type)}, the table has Delta type ${col.type}`);
    if (!col.nullable && (data.getChild(f.name)?.nullCount ?? 0) > 0) return bad(f.name, `non-nullable column "${f.name}" (Delta ${col.type}, Arrow ${String(type)}) has null values`);
  }
  for (const c of columns) {
    if (!c.nullable && !seen.has(c.name.toLowerCase())) return bad(c.name, `non-nullable column "${c.name}" (Delta ${c.type}) is missing from the envelope (no Arrow column)`);
  }
  return { ok: true, added };
}

function bad(column: string, reason: string): SchemaCheck {
  return { ok: false, column, reason };
}
