// Delta schema: the column types this library writes, the schemaString JSON, and its parsing back.
// Parsing keeps unknown (nested, decimal...) types as raw JSON so foreign tables can still be read.
import type { DataType } from 'apache-arrow';
import { arrowType } from '@sluice/columnar';
import { DeltaLogError } from './errors.ts';
import { isObject } from './jsonText.ts';

/** 'map' is Delta's map<string,string> with nullable values (see MAP_TYPE); the others are primitive type names. */
export type DeltaType = 'string' | 'long' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'date' | 'map';

export const DELTA_TYPES: readonly DeltaType[] = ['string', 'long', 'integer', 'double', 'boolean', 'timestamp', 'date', 'map'];

/** The schemaString form of DeltaType 'map'. */
export const MAP_TYPE = Object.freeze({ type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true });

export interface DeltaColumn {
  name: string;
  type: DeltaType;
  nullable: boolean;
}

/** A field of a parsed schemaString; `type` is a primitive name ("long", "decimal(10,2)") or a nested JSON object. */
export interface SchemaField {
  name: string;
  type: string | Record<string, unknown>;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export function isDeltaType(t: unknown): t is DeltaType {
  return typeof t === 'string' && (DELTA_TYPES as readonly string[]).includes(t);
}

/** The schemaString field `type` of a DeltaType: its name, or the map type object. */
export function schemaFieldType(t: DeltaType): string | Record<string, unknown> {
  return t === 'map' ? { ...MAP_TYPE } : t;
}

/** The DeltaType of a parsed schema field type, if this library writes it (map<string,string> included). */
export function deltaTypeOf(t: SchemaField['type']): DeltaType | undefined {
  if (typeof t === 'string') return isDeltaType(t) && t !== 'map' ? t : undefined;
  // valueContainsNull false is still readable/writable as map (our values are a superset); keys must be strings.
  if (t.type === 'map' && t.keyType === 'string' && t.valueType === 'string') return 'map';
  return undefined;
}

/** A schemaString field for a column. */
export function schemaField(c: DeltaColumn): { name: string; type: string | Record<string, unknown>; nullable: boolean; metadata: Record<string, unknown> } {
  return { name: c.name, type: schemaFieldType(c.type), nullable: c.nullable, metadata: {} };
}

export function schemaString(columns: DeltaColumn[]): string {
  return JSON.stringify({ type: 'struct', fields: columns.map(schemaField) });
}

export function parseSchemaString(s: string): SchemaField[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (e) {
    throw new DeltaLogError(`metaData.schemaString is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed) || parsed.type !== 'struct' || !Array.isArray(parsed.fields)) {
    throw new DeltaLogError('metaData.schemaString is not a struct type');
  }
  return parsed.fields.map((f: unknown, i: number): SchemaField => {
    if (!isObject(f) || typeof f.name !== 'string' || (typeof f.type !== 'string' && !isObject(f.type))) {
      throw new DeltaLogError(`metaData.schemaString: field ${i} is malformed`);
    }
    return {
      name: f.name,
      type: f.type,
      nullable: f.nullable !== false,
      metadata: isObject(f.metadata) ? f.metadata : {},
    };
  });
}

/** The columns of a parsed schema, when every field has a type this library writes; otherwise the offending field. */
export function deltaColumnsOf(fields: SchemaField[]): { columns: DeltaColumn[] } | { unsupported: SchemaField } {
  const columns: DeltaColumn[] = [];
  for (const f of fields) {
    const type = deltaTypeOf(f.type);
    if (!type) return { unsupported: f };
    columns.push({ name: f.name, type, nullable: f.nullable });
  }
  return { columns };
}

export function deltaArrowType(t: DeltaType): DataType {
  // Shared with @sluice/columnar so the sink's batches already have the exact types we write.
  return arrowType(t);
}

/** Throws on duplicate names (Delta forbids names equal ignoring case), unknown types or bad partition columns. */
export function validateColumns(columns: DeltaColumn[], partitionBy: string[]): void {
  if (columns.length === 0) throw new Error('a Delta table needs at least one column');
  const seen = new Set<string>();
  for (const c of columns) {
    if (!c.name) throw new Error('column names must be non-empty');
    const key = c.name.toLowerCase();
    if (seen.has(key)) throw new Error(`duplicate column "${c.name}" (Delta column names are case-insensitive)`);
    seen.add(key);
    if (!isDeltaType(c.type)) throw new Error(`column "${c.name}": unsupported type ${String(c.type)}`);
  }
  const names = new Set(columns.map((c) => c.name));
  const parts = new Set<string>();
  for (const p of partitionBy) {
    if (!names.has(p)) throw new Error(`partitionBy: unknown column "${p}"`);
    if (parts.has(p)) throw new Error(`partitionBy: "${p}" listed twice`);
    if (columns.find((c) => c.name === p)?.type === 'map') {
      throw new Error(`partitionBy: column "${p}" is a map; map columns cannot be partition columns`);
    }
    parts.add(p);
  }
  if (parts.size === columns.length) throw new Error('a Delta table needs at least one non-partition column');
}
