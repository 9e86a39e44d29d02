// Schema evolution policy: which differences between a table's schema and a definition / Arrow input are
// allowed ('addNewColumns': new nullable columns are appended to the schema) and which throw DeltaSchemaError.
import { DataType, type Table } from 'apache-arrow';
import { DeltaSchemaError } from './errors.ts';
import { isObject } from './jsonText.ts';
import { deltaTypeOf, schemaField, type DeltaColumn, type DeltaType, type SchemaField } from './schema.ts';

export type SchemaEvolution = 'addNewColumns' | 'none';

interface Problem {
  column: string;
  text: string;
}

function fail(root: string, what: string, problems: Problem[]): never {
  throw new DeltaSchemaError(`Delta table ${root} ${what}: ${problems.map((p) => p.text).join('; ')}`, problems[0]!.column);
}

/**
 * Checks a table definition against the table. Returns the definition's columns the table lacks (to be added
 * by the next append) — always empty under 'none', where any difference is an error, as it always was.
 */
export function reconcileDefinition(
  root: string,
  table: { schema: SchemaField[]; partitionColumns: string[] },
  def: { columns: DeltaColumn[]; partitionBy: string[] },
  policy: SchemaEvolution,
): DeltaColumn[] {
  const problems: Problem[] = [];
  const existing = new Map(table.schema.map((f) => [f.name.toLowerCase(), f]));
  const added: DeltaColumn[] = [];
  for (const c of def.columns) {
    const f = existing.get(c.name.toLowerCase());
    if (!f) {
      if (policy === 'none') problems.push({ column: c.name, text: `column "${c.name}" is missing from the table` });
      else if (!c.nullable) problems.push({ column: c.name, text: `new column "${c.name}" is non-nullable (existing rows would have no value); only nullable columns can be added` });
      else added.push(c);
    } else if (f.name !== c.name) {
      problems.push({ column: c.name, text: `column "${c.name}" is "${f.name}" in the table (Delta column names are case-insensitive)` });
    } else if (deltaTypeOf(f.type) !== c.type) {
      problems.push({ column: c.name, text: `column "${c.name}" is ${JSON.stringify(f.type)} in the table, ${c.type} in the definition (type changes are not supported)` });
    }
  }
  const wanted = new Set(def.columns.map((c) => c.name.toLowerCase()));
  for (const f of table.schema) {
    if (wanted.has(f.name.toLowerCase())) continue;
    // A nullable column the definition dropped stays in the table (new rows get null); a required one cannot.
    if (policy === 'none') problems.push({ column: f.name, text: `table column "${f.name}" is not in the definition` });
    else if (!f.nullable) problems.push({ column: f.name, text: `non-nullable table column "${f.name}" was removed from the definition` });
  }
  if (JSON.stringify(table.partitionColumns) !== JSON.stringify(def.partitionBy)) {
    const column = [...table.partitionColumns, ...def.partitionBy].find((p) => !table.partitionColumns.includes(p) || !def.partitionBy.includes(p)) ?? def.partitionBy[0] ?? table.partitionColumns[0] ?? '';
    problems.push({ column, text: `table is partitioned by [${table.partitionColumns.join(', ')}], definition by [${def.partitionBy.join(', ')}]` });
  }
  if (problems.length) fail(root, 'does not match its definition', problems);
  return added;
}

/** The Delta type an Arrow input column of a new column is stored as, if any. */
export function inferDeltaType(t: DataType): DeltaType | undefined {
  if (DataType.isInt(t)) return t.isSigned ? (t.bitWidth <= 32 ? 'integer' : 'long') : undefined;
  if (DataType.isFloat(t)) return t.precision >= 1 ? 'double' : undefined;
  if (DataType.isBool(t)) return 'boolean';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return 'string';
  if (DataType.isDictionary(t)) return DataType.isUtf8(t.valueType) || DataType.isLargeUtf8(t.valueType) ? 'string' : undefined;
  if (DataType.isTimestamp(t)) return 'timestamp';
  if (DataType.isDate(t)) return 'date';
  if (DataType.isMap(t)) return isStringType(t.keyType) && isStringType(t.valueType) ? 'map' : undefined;
  return undefined;
}

function isStringType(t: DataType): boolean {
  return DataType.isUtf8(t) || DataType.isLargeUtf8(t);
}

/** Input columns the table lacks, as nullable Delta columns (under 'none' any such column is an error). */
export function newInputColumns(root: string, data: Table, columns: DeltaColumn[], policy: SchemaEvolution): DeltaColumn[] {
  const known = new Map(columns.map((c) => [c.name.toLowerCase(), c.name]));
  const problems: Problem[] = [];
  const added: DeltaColumn[] = [];
  for (const f of data.schema.fields) {
    const same = known.get(f.name.toLowerCase());
    if (same === f.name) continue;
    if (same !== undefined) {
      problems.push({ column: f.name, text: `input column "${f.name}" differs only in case from table column "${same}"` });
      continue;
    }
    if (policy === 'none') {
      problems.push({ column: f.name, text: `input column "${f.name}" is not in the table schema` });
      continue;
    }
    const type = inferDeltaType(f.type as DataType);
    if (!type) problems.push({ column: f.name, text: `new input column "${f.name}" has Arrow type ${String(f.type)}, which has no Delta type here` });
    else if (!f.nullable) problems.push({ column: f.name, text: `new input column "${f.name}" is non-nullable; only nullable columns can be added` });
    else {
      added.push({ name: f.name, type, nullable: true });
      known.set(f.name.toLowerCase(), f.name);
    }
  }
  if (problems.length) fail(root, 'cannot take this input', problems);
  return added;
}

/** schemaString with `added` appended as new fields; existing fields (and their metadata) are kept verbatim. */
export function appendToSchemaString(schemaString: string, added: DeltaColumn[]): string {
  const parsed: unknown = JSON.parse(schemaString);
  const fields = isObject(parsed) && Array.isArray(parsed.fields) ? parsed.fields : [];
  const base = isObject(parsed) ? parsed : { type: 'struct' };
  return JSON.stringify({ ...base, fields: [...fields, ...added.map(schemaField)] });
}
