// Cisco ISE's comma-separated key=value body: `text, key=value, key2=value with spaces, cisco-av-pair=k=v, ...`.
// Pairs are separated by unescaped commas, `\,` is a comma inside a value, a value may contain `=`, keys may
// contain spaces (`Device Type`), and repeated keys (cisco-av-pair) collect to arrays. Pure: no I/O.

export type KeyValues = Record<string, string | string[]>;

export interface KeyValueParse {
  /** key → value, or the values in order when the key repeats. */
  values: KeyValues;
  /** Pairs in order as written (repeats included). */
  pairs: [key: string, value: string][];
  /** Leading segments without `=` (the ISE message text before the first pair), comma-joined. */
  text: string;
}

/**
 * Splits at unescaped commas. Unescapes `\,` → `,` and `\\` → `\`; other backslashes stay as written
 * (ISE writes e.g. `\;` inside user agents and its meaning is not documented).
 */
export function splitEscaped(s: string, separator = ','): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length && (s[i + 1] === separator || s[i + 1] === '\\')) {
      cur += s[i + 1];
      i++;
    } else if (c === separator) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Parses a body. Segments before the first `key=` are the leading text; a segment without `=` after a pair is
 * taken as the continuation of that pair's value (a comma the sender did not escape). Keys and values are trimmed;
 * empty segments (the trailing comma ISE writes) are ignored.
 */
export function parseKeyValues(body: string): KeyValueParse {
  const pairs: [string, string][] = [];
  const leading: string[] = [];
  for (const raw of splitEscaped(body)) {
    const seg = raw.trim();
    if (seg === '') continue;
    const eq = seg.indexOf('=');
    if (eq <= 0) {
      const last = pairs[pairs.length - 1];
      if (last) last[1] = `${last[1]},${raw.trimEnd()}`;
      else leading.push(seg);
      continue;
    }
    pairs.push([seg.slice(0, eq).trim(), seg.slice(eq + 1).trim()]);
  }
  const values: KeyValues = {};
  for (const [k, v] of pairs) {
    const prev = Object.hasOwn(values, k) ? values[k] : undefined;
    const next = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    // Defined rather than assigned so a key named "__proto__" is data, not the prototype.
    Object.defineProperty(values, k, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return { values, pairs, text: leading.join(', ') };
}

/** The first value of a key (repeats → the first), or undefined. */
export function firstValue(values: KeyValues, key: string): string | undefined {
  if (!Object.hasOwn(values, key)) return undefined;
  const v = values[key]!;
  return Array.isArray(v) ? v[0] : v;
}
