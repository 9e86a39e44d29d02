// Conversions of one source value to a column type (string, long, integer, double, boolean, timestamp, date, json, map),
// returning the typed value or an Invalid carrying the "got …" detail of the failure reason.
import type { ColumnDef, StringMap } from './tableDefinition.ts';
import { eventDateOf, parseTimestampMicros } from './timestamp.ts';

export type Value = string | number | boolean | StringMap;

/** A failed conversion; allocated only on the error path. `detail` follows "got <value>". */
export class Invalid {
  constructor(readonly detail: string) {}
}

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const DECIMAL_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const UNIT_TO_MICROS = { s: 1_000_000, ms: 1_000, us: 1 } as const;

/** Short description of a source value for reasons: `string "abc"`, `number 1.5`, `object`. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function toLong(v: unknown, min: number, max: number, range: string): Value | Invalid {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && INTEGER_TEXT.test(v)) n = Number(v);
  else if (typeof v === 'bigint') n = Number(v);
  else return new Invalid(describeValue(v));
  if (!Number.isInteger(n)) return new Invalid(`${describeValue(v)} (not an integer)`);
  if (n < min || n > max) return new Invalid(`${describeValue(v)} (out of ${range} range)`);
  return n;
}

const toLongSafe = (v: unknown): Value | Invalid => toLong(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'safe integer');
const toInteger = (v: unknown): Value | Invalid => toLong(v, INT32_MIN, INT32_MAX, '32-bit');

function toDouble(v: unknown): Value | Invalid {
  if (typeof v === 'number') return Number.isFinite(v) ? v : new Invalid(describeValue(v));
  if (typeof v === 'string' && DECIMAL_TEXT.test(v)) return Number(v);
  return new Invalid(describeValue(v));
}

function toBoolean(v: unknown): Value | Invalid {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return new Invalid(describeValue(v));
}

function toString(v: unknown): Value | Invalid {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return new Invalid(describeValue(v));
}

function toJson(v: unknown): Value | Invalid {
  if (typeof v === 'string') return v;
  try {
    const text = JSON.stringify(v);
    return text === undefined ? new Invalid(describeValue(v)) : text;
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return new Invalid(`${describeValue(v)} (${message})`);
  }
}

/**
 * A JSON object → string map: scalar values become their text, null stays null, nested objects and arrays
 * become their JSON text. Anything but a plain object (array, string, number...) is invalid.
 */
function toMap(v: unknown): Value | Invalid {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return new Invalid(describeValue(v));
  const out: StringMap = {};
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    let s: string | null;
    if (x === null || x === undefined) s = null;
    else if (typeof x === 'string') s = x;
    else if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') s = String(x);
    else if (typeof x === 'object') {
      const j = toJson(x);
      if (j instanceof Invalid) return new Invalid(`object (key ${JSON.stringify(key)}: ${j.detail})`);
      s = j as string;
    } else s = null; // functions, symbols: not data
    // "__proto__" arrives as an own key from JSON.parse; a plain assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: s, enumerable: true, writable: true, configurable: true });
    else out[key] = s;
  }
  return out;
}

function timestampConverter(unit: number): (v: unknown) => Value | Invalid {
  return (v) => {
    let micros: number | null;
    if (typeof v === 'string') {
      micros = parseTimestampMicros(v);
      if (micros === null && DECIMAL_TEXT.test(v)) micros = Math.round(Number(v) * unit);
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      micros = Math.round(v * unit);
    } else return new Invalid(describeValue(v));
    if (micros === null) return new Invalid(describeValue(v));
    if (!Number.isSafeInteger(micros)) return new Invalid(`${describeValue(v)} (out of range)`);
    return micros;
  };
}

function toDate(v: unknown): Value | Invalid {
  if (typeof v === 'number') return Number.isInteger(v) ? v : new Invalid(`${describeValue(v)} (not whole epoch days)`);
  if (typeof v === 'string') {
    const micros = parseTimestampMicros(v);
    if (micros !== null) return eventDateOf(micros);
  }
  return new Invalid(describeValue(v));
}

export function converterFor(c: ColumnDef): (v: unknown) => Value | Invalid {
  switch (c.type) {
    case 'string':
      return toString;
    case 'long':
      return toLongSafe;
    case 'integer':
      return toInteger;
    case 'double':
      return toDouble;
    case 'boolean':
      return toBoolean;
    case 'timestamp':
      return timestampConverter(UNIT_TO_MICROS[c.unit ?? 'ms']);
    case 'date':
      return toDate;
    case 'json':
      return toJson;
    case 'map':
      return toMap;
  }
}
