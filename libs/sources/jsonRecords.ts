// Helpers for JSON-line families: parse a record for routing, and a route() built from a category function.
import { UNKNOWN_CATEGORY, type Rejected, type RouteResult, type Routed } from './sourceFamily.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();

/** JSON.parse of UTF-8 bytes, or a rejection naming the parse error. */
export function parseJsonRecord(raw: Uint8Array): { value: unknown } | Rejected {
  try {
    return { value: JSON.parse(dec.decode(raw)) as unknown };
  } catch (e) {
    return { raw, rule: 'parse', reason: `invalid JSON: ${(e as Error).message}` };
  }
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function jsonKindOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** A record that must be one JSON object (`what` names it in the rejection, e.g. "an FDR event"). */
export function parseJsonObjectRecord(raw: Uint8Array, what: string): { value: JsonObject } | Rejected {
  const parsed = parseJsonRecord(raw);
  if (!('value' in parsed)) return parsed;
  if (!isJsonObject(parsed.value)) return { raw, rule: 'parse', reason: `expected ${what} (JSON object), got ${jsonKindOf(parsed.value)}` };
  return { value: parsed.value };
}

export function encodeJson(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

/**
 * route() for families whose records are JSON objects, optionally wrapped in a container array
 * (`explode` returns the elements, or undefined when the value is a single record). A single record keeps its
 * original bytes; exploded elements are re-serialised. `categoryOf` returns a token or undefined (→ `_unknown`).
 */
export function routeJson(
  records: Uint8Array[],
  categoryOf: (record: unknown) => string | undefined,
  explode?: (value: unknown) => unknown[] | undefined,
): RouteResult {
  const out: GuardedOutput = { routed: [], rejected: [], skipped: 0 };
  for (const raw of records) {
    const parsed = parseJsonRecord(raw);
    if (!('value' in parsed)) {
      out.rejected.push(parsed);
      continue;
    }
    routeGuarded(raw, out, () => {
      const items = explode?.(parsed.value);
      if (items) {
        // An empty container carries no event: counted as skipped rather than vanishing.
        if (items.length === 0) out.skipped++;
        for (const item of items) out.routed.push({ category: categoryOf(item) ?? UNKNOWN_CATEGORY, record: encodeJson(item) });
      } else {
        out.routed.push({ category: categoryOf(parsed.value) ?? UNKNOWN_CATEGORY, record: raw });
      }
    });
  }
  return out;
}

export interface GuardedOutput {
  routed: Routed[];
  rejected: Rejected[];
  skipped: number;
}

/**
 * Routes one raw record with `fn`; if it throws (JSON nested deeper than JSON.stringify can re-serialise, a value no
 * rule foresaw), its partial output is undone and the whole record is rejected: route() must never throw.
 */
export function routeGuarded(raw: Uint8Array, out: GuardedOutput, fn: () => void): void {
  const routed = out.routed.length;
  const rejected = out.rejected.length;
  const skipped = out.skipped;
  try {
    fn();
  } catch (e) {
    out.routed.length = routed;
    out.rejected.length = rejected;
    out.skipped = skipped;
    out.rejected.push({ raw, rule: 'route', reason: `cannot route record: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/** The elements of `{"records":[...]}` / `{"Records":[...]}`, else undefined. */
export function recordsArrayOf(value: unknown): unknown[] | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.records)) return o.records;
  if (Array.isArray(o.Records)) return o.Records;
  return undefined;
}
