// Derives a JSON Schema (draft-07, compiles with ajv 8 in strict mode) of the *input* record a table accepts,
// from the columns' `from` paths and types; it mirrors what coerce.ts accepts, for docs and ad-hoc checks.
import type { ColumnDef, TableDefinition } from './tableDefinition.ts';

export type JsonSchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonSchemaType;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

const INTEGER_TEXT = '^\\s*[+-]?\\d+\\s*$';
const DECIMAL_TEXT = '^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$';
const ISO_TIMESTAMP = '\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}([.,]\\d+)?)?([Zz]|[+-]\\d{2}(:?\\d{2})?)?)?';
const TIMESTAMP_TEXT = `^(${ISO_TIMESTAMP}|\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*)$`;
const BOOLEAN_TEXT = '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$';

/** Largest numeric timestamp whose microseconds are still a safe integer. */
function maxEpoch(c: ColumnDef): number {
  const perUnit = { s: 1_000_000, ms: 1_000, us: 1 }[c.unit ?? 'ms'];
  return Math.floor(Number.MAX_SAFE_INTEGER / perUnit);
}

/** The accepted non-null shapes of one column type. */
function branchesOf(c: ColumnDef): JsonSchema[] {
  switch (c.type) {
    case 'string':
      return [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }];
    case 'long':
      return [
        { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
        { type: 'string', pattern: INTEGER_TEXT },
      ];
    case 'integer':
      return [
        { type: 'integer', minimum: -2_147_483_648, maximum: 2_147_483_647 },
        { type: 'string', pattern: INTEGER_TEXT },
      ];
    case 'double':
      return [{ type: 'number' }, { type: 'string', pattern: DECIMAL_TEXT }];
    case 'boolean':
      return [{ type: 'boolean' }, { type: 'string', pattern: BOOLEAN_TEXT }];
    case 'timestamp':
      return [
        { type: 'string', pattern: TIMESTAMP_TEXT, description: 'ISO-8601 (any fraction digits; Z, ±hh:mm or no zone = UTC) or a number' },
        { type: 'number', minimum: -maxEpoch(c), maximum: maxEpoch(c), description: `epoch ${c.unit ?? 'ms'}` },
      ];
    case 'date':
      return [
        { type: 'string', pattern: `^${ISO_TIMESTAMP}$`, description: 'YYYY-MM-DD or an ISO-8601 timestamp' },
        { type: 'integer', description: 'epoch days' },
      ];
    case 'json':
      return [];
    case 'map':
      // Scalar values become their text; nested objects/arrays are accepted too and stored as JSON text.
      return [{ type: 'object', additionalProperties: true, description: 'object of key → value (map<string,string>)' }];
  }
}

function columnSchema(c: ColumnDef): JsonSchema {
  const nullable = c.nullable ?? true;
  const description = `${c.name} (${c.type}${nullable ? '' : ', required'})${c.doc ? `: ${c.doc}` : ''}`;
  if (c.type === 'json') return nullable ? { description } : { description, not: { type: 'null' } };
  const anyOf = branchesOf(c);
  if (nullable) {
    anyOf.push({ type: 'null' });
    // coerce.ts reads "" as missing for every type but string and json.
    if (c.type !== 'string') anyOf.push({ type: 'string', maxLength: 0 });
  }
  return { description, anyOf };
}

interface Node {
  leaf?: JsonSchema;
  children: Map<string, Node>;
  required: boolean;
}

function objectSchema(node: Node): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, child] of node.children) {
    properties[key] = nodeSchema(child);
    if (child.required) required.push(key);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: true };
}

function nodeSchema(node: Node): JsonSchema {
  if (node.children.size === 0) return node.leaf ?? {};
  if (!node.leaf) return objectSchema(node);
  return { allOf: [node.leaf, objectSchema(node)] };
}

/** JSON Schema of the source record: nested objects follow the dotted `from` paths; non-nullable columns are required. */
export function jsonSchemaOf(def: TableDefinition): JsonSchema {
  const root: Node = { children: new Map(), required: true };
  for (const c of def.columns) {
    const path = (c.from ?? c.name).split('.');
    const required = c.nullable === false;
    let node = root;
    for (const key of path) {
      let child = node.children.get(key);
      if (!child) {
        child = { children: new Map(), required: false };
        node.children.set(key, child);
      }
      if (required) child.required = true;
      node = child;
    }
    node.leaf = columnSchema(c);
  }
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: def.name,
    description: def.doc,
    ...objectSchema(root),
  };
}
