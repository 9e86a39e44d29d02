// Zeek ASCII (TSV) logs: the `#separator`/`#fields`/`#types`… header block and the decoding of one data line into an
// object keyed by Zeek field names, with values typed by the `#types` line. Pure: no I/O.
//
// Format facts (Zeek's LogAscii writer): the separator header is written as `#separator \x09` (space-separated, the
// separator itself escaped); every other header line uses the separator. In values, the separator, the set separator
// inside container elements, non-printable bytes and `\` are escaped as `\xNN` / `\\`. An unset field is `-`, an
// empty string or empty container is `(empty)`.

export interface ZeekHeader {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  /** Log stream path (`conn`, `dns`, …), when the header has a `#path` line. */
  path?: string;
  /** Field names (`ts`, `uid`, `id.orig_h`, …); empty when the header has no `#fields` line. */
  fields: string[];
  /** Zeek type of each field (`time`, `addr`, `set[string]`, …); empty when the header has no `#types` line. */
  types: string[];
}

/** Decoded value of one field: scalars, arrays for set/vector types, null for unset. */
export type ZeekValue = string | number | boolean | null | ZeekValue[];

export class ZeekFormatError extends Error {
  constructor(message: string) {
    // A record-level error is data, not a bug: no stack trace (capturing one made bad records ~10x slower to reject).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'ZeekFormatError';
  }
}

/** Header keywords Zeek writes before the data lines (`#close` is the trailer and not one of them). */
export const ZEEK_HEADER_KEYS: ReadonlySet<string> = new Set([
  'separator',
  'set_separator',
  'empty_field',
  'unset_field',
  'path',
  'open',
  'fields',
  'types',
]);

/** The keyword of a `#keyword…` line (`fields` for `#fields\tts…`), or undefined for other lines. */
export function zeekHeaderKey(line: string): string | undefined {
  if (!line.startsWith('#')) return undefined;
  const m = /^#([a-z_]+)(?![A-Za-z0-9_])/.exec(line);
  return m ? m[1] : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Undoes Zeek's escaping: `\xNN` is a raw byte, `\\` a backslash. Escaped bytes are reassembled as UTF-8 (Zeek escapes
 * each byte of a non-printable or invalid sequence); invalid sequences become U+FFFD. Other backslashes are kept.
 */
export function unescapeZeek(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  // A run of `\xNN` is decoded together: a multi-byte UTF-8 character arrives as several escaped bytes.
  return s.replace(ESCAPE, (m) => (m === '\\\\' ? '\\' : utf8.decode(hexBytes(m))));
}

const ESCAPE = /(?:\\x[0-9a-fA-F]{2})+|\\\\/g;

function hexBytes(run: string): Uint8Array {
  const out = new Uint8Array(run.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(run.slice(i * 4 + 2, i * 4 + 4), 16);
  return out;
}

/**
 * Parses Zeek header lines (any order; later lines win, so a preamble holding two blocks yields the last one).
 * Lines that are not header lines are ignored. Defaults are Zeek's: tab, `,`, `(empty)`, `-`.
 */
export function parseZeekHeader(lines: readonly string[]): ZeekHeader {
  const header: ZeekHeader = { separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-', fields: [], types: [] };
  // #separator comes first and defines how the other lines are split; read it before the rest.
  for (const raw of lines) {
    const line = stripCr(raw);
    if (zeekHeaderKey(line) !== 'separator') continue;
    const value = line.slice('#separator'.length).replace(/^[ \t]/, '');
    const sep = unescapeZeek(value);
    if (sep !== '') header.separator = sep;
  }
  for (const raw of lines) {
    const line = stripCr(raw);
    const key = zeekHeaderKey(line);
    if (key === undefined || key === 'separator' || !ZEEK_HEADER_KEYS.has(key)) continue;
    const rest = line.slice(1 + key.length);
    if (!rest.startsWith(header.separator)) continue;
    const body = rest.slice(header.separator.length);
    switch (key) {
      case 'set_separator':
        header.setSeparator = unescapeZeek(body) || header.setSeparator;
        break;
      case 'empty_field':
        header.emptyField = unescapeZeek(body);
        break;
      case 'unset_field':
        header.unsetField = unescapeZeek(body);
        break;
      case 'path':
        header.path = unescapeZeek(body);
        break;
      case 'fields':
        header.fields = body.split(header.separator).map(unescapeZeek);
        break;
      case 'types':
        header.types = body.split(header.separator).map(unescapeZeek);
        break;
      default:
        break; // #open: informational
    }
  }
  return header;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `set[string]` → `string`, `vector[interval]` → `interval`; undefined for scalar types. */
function elementType(type: string): string | undefined {
  const m = /^(?:set|vector)\[(.*)\]$/.exec(type);
  return m ? m[1] : undefined;
}

/** One (unescaped) scalar as its Zeek type: numbers and bools typed, everything else text. Untypeable text stays text. */
function scalar(text: string, type: string): ZeekValue {
  switch (type) {
    case 'count':
    case 'int':
    case 'port':
      if (INTEGER.test(text)) {
        const n = Number(text);
        // count is uint64: beyond 2^53 keep the text so the table coercion reports it instead of losing precision.
        return Number.isSafeInteger(n) ? n : text;
      }
      return text;
    case 'time':
    case 'interval':
    case 'double':
      return DECIMAL.test(text) ? Number(text) : text;
    case 'bool':
      return text === 'T' ? true : text === 'F' ? false : text;
    default:
      return text;
  }
}

/** Per-header decoding plan: element type of container fields (undefined for scalars), scalar type otherwise. */
interface Plan {
  element: (string | undefined)[];
  scalar: string[];
}
const plans = new WeakMap<ZeekHeader, Plan>();

function planOf(header: ZeekHeader): Plan {
  let p = plans.get(header);
  if (!p) {
    const types = header.fields.map((_, i) => header.types[i] ?? 'string');
    p = { element: types.map(elementType), scalar: types };
    plans.set(header, p);
  }
  return p;
}

/**
 * Decodes one data line with a parsed header into `{ fieldName: value }`. Unset fields (`-`) are null; `(empty)` is
 * `[]` for set/vector fields and `''` otherwise; containers split on the set separator before unescaping.
 * Throws ZeekFormatError when the header has no `#fields`, its `#types` count differs, or the line's field count differs.
 */
export function decodeZeekLine(line: string, header: ZeekHeader): Record<string, ZeekValue> {
  const { fields, types, unsetField, emptyField, setSeparator } = header;
  if (fields.length === 0) throw new ZeekFormatError('no #fields header line precedes this record');
  if (types.length !== 0 && types.length !== fields.length) {
    throw new ZeekFormatError(`header declares ${fields.length} #fields but ${types.length} #types`);
  }
  const values = stripCr(line).split(header.separator);
  if (values.length !== fields.length) {
    throw new ZeekFormatError(`line has ${values.length} fields, #fields declares ${fields.length}`);
  }
  const plan = planOf(header);
  const out: Record<string, ZeekValue> = {};
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]!;
    const text = values[i]!;
    const element = plan.element[i];
    let value: ZeekValue;
    if (text === unsetField) value = null;
    else if (element !== undefined) {
      value = text === emptyField ? [] : text.split(setSeparator).map((e) => (e === unsetField ? null : scalar(unescapeZeek(e), element)));
    } else if (text === emptyField) value = '';
    else value = scalar(unescapeZeek(text), plan.scalar[i]!);
    if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}
