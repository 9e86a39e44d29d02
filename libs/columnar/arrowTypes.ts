// Maps sluice column types to Arrow types and Arrow tables back to plain rows.
import { Bool, DataType, DateDay, Field, Float64, Int32, Int64, Map_, MapRow, Schema, Struct, TimeUnit, Timestamp, Utf8, type Table } from 'apache-arrow';
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
    case 'map':
      return stringMapType();
  }
}

/**
 * Arrow type of a 'map' column: Map<Utf8, Utf8> with entries struct {key: Utf8 not null, value: Utf8 nullable},
 * keys not sorted. Field names follow the Arrow spec ("entries", "key", "value"); parquet-wasm writes it as a
 * Parquet MAP (key_value group) that Spark, delta-rs and DuckDB read as map<string,string>.
 */
export function stringMapType(): Map_<Utf8, Utf8> {
  const entries = new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]);
  return new Map_(new Field('entries', entries, false), false);
}

/** An Arrow map cell → plain object (values via `value`); "__proto__" keys become own properties. */
export function mapRowToObject(m: MapRow, value: (v: unknown) => unknown = (v) => v): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of m as Iterable<[unknown, unknown]>) {
    const key = String(k);
    const x = v === undefined ? null : value(v);
    if (key === '__proto__') Object.defineProperty(o, key, { value: x, enumerable: true, writable: true, configurable: true });
    else o[key] = x;
  }
  return o;
}

export function arrowSchema(columns: ColumnSpec[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable ?? true)));
}

/** Rows of a table as plain objects: Int64/timestamps as numbers (µs for timestamps), dates as epoch days, maps as objects. */
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
      else if (v instanceof MapRow) v = mapRowToObject(v);
      row[c.name] = v;
    }
    out.push(row);
  }
  return out;
}
