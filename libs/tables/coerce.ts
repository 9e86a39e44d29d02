// Record → typed Row coercion driven by a TableDefinition: path extraction, per-type conversion (convert.ts) and
// failure reasons naming the column. Each definition is compiled once into a specialised function (see compileCoercer).
import { converterFor, describeValue, Invalid, type Value } from './convert.ts';
import { EVENT_DATE } from './lineage.ts';
import type { ColumnType, Row, TableDefinition } from './tableDefinition.ts';
import { eventDateOf } from './timestamp.ts';

export { describeValue } from './convert.ts';
export { eventDateOf, parseTimestampMicros } from './timestamp.ts';

export type CoerceResult = { ok: true; row: Row } | { ok: false; reason: string };
export type Coercer = (record: unknown) => CoerceResult;

interface PlannedColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Index of the parent object path; the value is parent[leaf]. */
  parent: number;
  leaf: string;
  convert: (v: unknown) => Value | Invalid;
}

/** What the generated code calls back into. */
interface Runtime {
  convert: ((v: unknown) => Value | Invalid)[];
  Invalid: typeof Invalid;
  fail: (column: number, invalid: Invalid | null) => CoerceResult;
  badRecord: (record: unknown) => CoerceResult;
  resolve: (record: Record<string, unknown>, path: readonly string[]) => object | undefined;
  paths: string[][];
  eventDateOf: (micros: number) => number;
  noEventTime: CoerceResult;
}

function resolveObject(record: Record<string, unknown>, path: readonly string[]): object | undefined {
  let cur: unknown = record;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[path[i]!];
  }
  return cur !== null && typeof cur === 'object' ? cur : undefined;
}

/** Inline fast path for the common well-typed value; falls back to the full converter. */
function fastPath(c: PlannedColumn): string | null {
  switch (c.type) {
    case 'string':
    case 'json':
      return `typeof raw === 'string'`;
    case 'long':
      return `typeof raw === 'number' && Number.isSafeInteger(raw)`;
    case 'integer':
      return `typeof raw === 'number' && (raw | 0) === raw`;
    case 'double':
      return `typeof raw === 'number' && Number.isFinite(raw)`;
    case 'boolean':
      return `raw === true || raw === false`;
    default:
      return null;
  }
}

function generate(columns: PlannedColumn[], parents: string[][], eventTimeIndex: number): string {
  const lines: string[] = [
    `'use strict';`,
    `const { convert, Invalid, fail, badRecord, resolve, paths, eventDateOf, noEventTime } = rt;`,
    `return function coerce(record) {`,
    `  if (record === null || typeof record !== 'object' || Array.isArray(record)) return badRecord(record);`,
    `  let raw, v, t;`,
  ];
  parents.forEach((path, p) => {
    if (path.length === 0) lines.push(`  const p${p} = record;`);
    else if (path.length === 1) lines.push(`  t = record[${JSON.stringify(path[0])}]; const p${p} = t !== null && typeof t === 'object' ? t : undefined;`);
    else lines.push(`  const p${p} = resolve(record, paths[${p}]);`);
  });
  columns.forEach((c, i) => {
    const emptyIsMissing = c.type !== 'string' && c.type !== 'json';
    lines.push(`  let c${i} = null;`);
    lines.push(`  raw = p${c.parent} === undefined ? undefined : p${c.parent}[${JSON.stringify(c.leaf)}];`);
    const missing = `{${c.nullable ? '' : ` return fail(${i}, null);`} }`;
    lines.push(`  if (raw === undefined || raw === null${emptyIsMissing ? ` || raw === ''` : ''}) ${missing}`);
    const fast = fastPath(c);
    if (fast) lines.push(`  else if (${fast}) c${i} = raw;`);
    // A function can only be an inherited Object.prototype member (e.g. "toString"), never data: treat it as absent.
    lines.push(`  else if (typeof raw === 'function') ${missing}`);
    lines.push(`  else { v = convert[${i}](raw); if (v instanceof Invalid) return fail(${i}, v); c${i} = v; }`);
  });
  const fields = columns.map((c, i) => `${JSON.stringify(c.name)}: c${i}`);
  if (eventTimeIndex >= 0) {
    lines.push(`  if (typeof c${eventTimeIndex} !== 'number') return noEventTime;`);
    fields.push(`${JSON.stringify(EVENT_DATE)}: eventDateOf(c${eventTimeIndex})`);
  }
  // One object literal: every row of a table gets the same shape, built without transitions.
  lines.push(`  return { ok: true, row: { ${fields.join(', ')} } };`, `};`);
  return lines.join('\n');
}

/**
 * Compiles a definition into a record → row function. Missing values are `undefined` or `null`; an empty string
 * counts as missing for every type but string and json. A non-nullable missing column fails the record.
 * When the table has an eventTime (and does not declare eventDate itself) the row also gets eventDate in epoch days.
 *
 * The function is generated code (one local per column, one object literal per row): it is several times faster
 * than an interpreted column loop, whose keyed stores into a growing row object dominate the cost.
 */
export function compileCoercer(def: TableDefinition): Coercer {
  const parentKeys = new Map<string, number>();
  const parents: string[][] = [];
  const columns: PlannedColumn[] = def.columns.map((c) => {
    const segments = (c.from ?? c.name).split('.');
    if (c.name === '__proto__' || segments.includes('__proto__')) {
      throw new Error(`table ${def.name}: column "${c.name}": "__proto__" is not allowed in names or paths`);
    }
    const leaf = segments.pop()!;
    const key = segments.join('.');
    let parent = parentKeys.get(key);
    if (parent === undefined) {
      parent = parents.length;
      parents.push(segments);
      parentKeys.set(key, parent);
    }
    return { name: c.name, type: c.type, nullable: c.nullable ?? true, parent, leaf, convert: converterFor(c) };
  });
  const eventTime = def.eventTime && !def.columns.some((c) => c.name === EVENT_DATE) ? def.eventTime : undefined;
  const eventTimeIndex = eventTime === undefined ? -1 : columns.findIndex((c) => c.name === eventTime);
  if (eventTime !== undefined && eventTimeIndex < 0) throw new Error(`table ${def.name}: eventTime: unknown column "${eventTime}"`);

  const rt: Runtime = {
    convert: columns.map((c) => c.convert),
    Invalid,
    fail: (i, invalid) => {
      const c = columns[i]!;
      const reason = invalid === null ? `column ${c.name}: required but missing` : `column ${c.name}: expected ${c.type}, got ${invalid.detail}`;
      return { ok: false, reason };
    },
    badRecord: (record) => ({ ok: false, reason: `record: expected object, got ${describeValue(record)}` }),
    resolve: resolveObject,
    paths: parents,
    eventDateOf,
    noEventTime: Object.freeze({ ok: false, reason: `column ${eventTime ?? ''}: event time missing, cannot derive ${EVENT_DATE}` }),
  };
  const factory = new Function('rt', generate(columns, parents, eventTimeIndex)) as (rt: Runtime) => Coercer;
  return factory(rt);
}

const compiled = new WeakMap<TableDefinition, Coercer>();

/** One-off coercion; compiles the definition on first use and caches it per definition object. */
export function coerceRecord(def: TableDefinition, record: unknown): CoerceResult {
  let coercer = compiled.get(def);
  if (!coercer) {
    coercer = compileCoercer(def);
    compiled.set(def, coercer);
  }
  return coercer(record);
}
