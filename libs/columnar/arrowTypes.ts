// Maps sluice column types to Arrow types and Arrow tables back to plain rows.
import { Bool, DataType, DateDay, Field, Float64, Int32, Int64, Schema, TimeUnit, Timestamp, Utf8, type Table } from 'apache-arrow';
import type { ColumnType } from '@sluice/tables';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable?: boolean;
}

export function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'string':
    case 'json':
      return new Utf8();
    case 'long':
      return new Int64();
    case 'integer':
      return new Int32();
    case 'double':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      // Delta's timestamp is microseconds UTC; Spark and delta-rs read TIMESTAMP_MICROS with isAdjustedToUTC.
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case 'date':
      return new DateDay();
  }
}

export function arrowSchema(columns: ColumnSpec[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable ?? true)));
}

/** Rows of a table as plain objects: Int64/timestamps as numbers (µs for timestamps), dates as epoch days. */
export function tableToRows(table: Table): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const cols = table.schema.fields.map((f, i) => ({ name: f.name, type: f.type, vec: table.getChildAt(i)! }));
  for (let r = 0; r < table.numRows; r++) {
    const row: Record<string, unknown> = {};
    for (const c of cols) {
      let v = c.vec.get(r) as unknown;
      // apache-arrow returns timestamps and dates as epoch milliseconds; sluice rows use µs and days.
      if (v == null) v = null;
      else if (DataType.isTimestamp(c.type)) v = Math.round(Number(v) * 1000);
      else if (DataType.isDate(c.type)) v = Math.floor((v as number) / 86_400_000);
      else if (typeof v === 'bigint') v = Number(v);
      row[c.name] = v;
    }
    out.push(row);
  }
  return out;
}
