// JSON helpers for the log: bigint-exact serialization (longs in stats) and narrowing of parsed unknowns.
// JSON.stringify throws on bigint, and Number would silently round longs above 2^53.

/** Like JSON.stringify (no indentation) but writes bigint as a bare JSON integer; undefined members are dropped. */
export function stringifyJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      // Non-finite numbers have no JSON form; JSON.stringify would write null, so callers must not pass them.
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyJson(v))).join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${stringifyJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot serialize ${typeof value} to JSON`);
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optString(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

export function optNumber(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** Map<String,String> fields (partitionValues, configuration): string values kept, null kept as null. */
export function stringMap(v: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (!isObject(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val;
    else if (val === null || val === undefined) out[k] = null;
    else out[k] = String(val);
  }
  return out;
}

export function stringArray(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((x): x is string => typeof x === 'string');
}
