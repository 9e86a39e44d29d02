// Hostile-input generators for the fuzzer: random bytes and mutations of valid records (truncation, byte flips,
// deep nesting, huge lines, invalid UTF-8, out-of-range numbers, duplicate keys, wrong types, blank input, gzip
// bombs, truncated gzip). All draw from one seeded Rng, so (seed, target, iteration) names an input exactly.
import { gzipSync } from 'node:zlib';
import { Rng } from '../fixtures/seededRng.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export { Rng };

/** Rng for input `i` of `target` under `seed`: inputs are independent, so any one can be regenerated alone. */
export function rngFor(seed: number, target: string, i: number): Rng {
  let h = 2_166_136_261 ^ seed;
  for (const c of `${target}#${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16_777_619);
  return new Rng(h >>> 0);
}

/** Numbers a JSON number or a text field may hold that typed columns cannot (or can only barely). */
export const HOSTILE_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '-0.0',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '9007199254740993',
  '1.7976931348623157e309',
  '123456789012345678901234567890',
  '0.1e-99999',
  '1E+2147483648',
  '00012',
  '0x10',
  '1_000',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '4294967296',
  '65536',
  '-1',
  '2147483648',
];

/** Byte sequences that are not UTF-8: lone continuation, truncated sequences, overlongs, surrogates, > U+10FFFF. */
export const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe, 0xff], [0x80], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf]];

/** Odd but valid text: NUL, control characters, a BOM, RTL marks, astral characters, escapes. */
const ODD_TEXT = ['\u0000', '\u001b[31m', '\ufeff', '\u202e', '😀', '\\', '\\u0000', '"', "'", '\t', '\r', '%s%n', '${jndi:ldap://x}', '-', '(empty)', '', ' '];

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function text(b: Uint8Array): string {
  return dec.decode(b);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function randomBytes(rng: Rng, max: number): Uint8Array {
  const n = rng.int(0, max);
  const out = new Uint8Array(n);
  // Mostly printable with some newlines and high bytes: pure noise rarely reaches past the first check of a parser.
  const mode = rng.int(0, 2);
  for (let i = 0; i < n; i++) {
    if (mode === 0) out[i] = rng.int(0, 255);
    else if (mode === 1) out[i] = rng.chance(0.03) ? 0x0a : rng.int(0x20, 0x7e);
    else out[i] = rng.pick([0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x30, 0x31, 0x2e, 0x65, 0x2d, 0x20, 0x09, 0x0a, 0x5c, 0x6e, 0x74, 0x3c, 0x3e, 0x3d, 0x23]);
  }
  return out;
}

/** Deeply nested JSON (or just opening brackets): `[[[[…` up to `depth`, closed or not. */
export function deepNesting(rng: Rng, depth: number): string {
  const open = rng.pick(['[', '{"a":', '[{"a":']);
  const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
  const closed = rng.chance(0.5);
  return open.repeat(depth) + (closed ? '1' + close.repeat(depth) : '');
}

/** One value of a type a column does not expect. */
export function wrongValue(rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => ({}),
    () => [],
    () => ({ a: { b: [1, 'x', null] } }),
    () => [1, 2, 3],
    () => ['a', 'b'],
    () => null,
    () => true,
    () => false,
    () => 0,
    () => -1,
    () => 1.5,
    () => 1e308,
    () => '',
    () => 'x'.repeat(rng.int(1, 3000)),
    () => rng.pick(ODD_TEXT),
    () => rng.pick(HOSTILE_NUMBERS),
    () => '2024-02-30T25:61:61Z',
    () => '10000-01-01T00:00:00Z',
    () => '0000-00-00',
    () => '999.999.999.999',
    () => '::ffff:1.2.3.4%eth0',
  ])();
}

interface JsonPath {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

/** Every (parent, key) of a parsed JSON value, depth first, capped. */
function paths(v: unknown, out: JsonPath[] = [], depth = 0): JsonPath[] {
  if (depth > 20 || out.length > 2000) return out;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i });
      paths(x, out, depth + 1);
    });
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push({ parent: v as Record<string, unknown>, key: k });
      paths(x, out, depth + 1);
    }
  }
  return out;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Replaces one value at a random path of a JSON line with a value of the wrong type. */
function jsonWrongType(rng: Rng, line: string): string | undefined {
  const v = tryJson(line);
  if (v === undefined || typeof v !== 'object' || v === null) return undefined;
  const ps = paths(v);
  if (ps.length === 0) return undefined;
  for (let k = rng.int(1, 3); k > 0; k--) {
    const p = rng.pick(ps);
    (p.parent as Record<string | number, unknown>)[p.key] = wrongValue(rng);
  }
  return stringify(v);
}

/** JSON.stringify, or undefined for a value nested too deeply for it (a line an earlier mutation deepened). */
function stringify(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/** Replaces one value of a JSON line with valid but deeply nested JSON (`[[[…1…]]]`): parses, but recursion fails. */
function deepValue(rng: Rng, line: string): string | undefined {
  const v = tryJson(line);
  if (v === undefined || typeof v !== 'object' || v === null) return undefined;
  const ps = paths(v);
  if (ps.length === 0) return undefined;
  const p = rng.pick(ps);
  const mark = '\u0000deep\u0000';
  (p.parent as Record<string | number, unknown>)[p.key] = mark;
  const depth = rng.pick([1000, 20_000, 100_000]);
  return stringify(v)?.replace(JSON.stringify(mark), '['.repeat(depth) + '1' + ']'.repeat(depth));
}

/** Replaces a number (or a numeric string) in the text with an out-of-range one, keeping the surrounding syntax. */
function numberOutOfRange(rng: Rng, line: string): string | undefined {
  const nums = [...line.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
  if (nums.length === 0) return undefined;
  const m = rng.pick(nums);
  return line.slice(0, m.index) + rng.pick(HOSTILE_NUMBERS) + line.slice(m.index! + m[0].length);
}

/** Appends a duplicate of one of the object's keys (with another value) at the end or start of a JSON object line. */
function duplicateKey(rng: Rng, line: string): string | undefined {
  const keys = [...line.matchAll(/"((?:[^"\\]|\\.){1,64})"\s*:/g)];
  if (keys.length === 0 || !line.trimEnd().endsWith('}')) return undefined;
  const k = rng.pick(keys)[1]!;
  const dup = `"${k}":${JSON.stringify(wrongValue(rng)) ?? 'null'}`;
  if (rng.chance(0.5)) {
    const end = line.lastIndexOf('}');
    return `${line.slice(0, end)},${dup}}`;
  }
  const start = line.indexOf('{');
  return `${line.slice(0, start + 1)}${dup},${line.slice(start + 1)}`;
}

/** Replaces one field of a delimited text line (TSV, space-separated, key=value, CSV) with a hostile token. */
function fieldMutation(rng: Rng, line: string): string {
  const sep = line.includes('\t') ? '\t' : line.includes(',') && !line.startsWith('{') ? ',' : ' ';
  const fields = line.split(sep);
  const i = rng.int(0, fields.length - 1);
  const f = fields[i]!;
  const eq = f.indexOf('=');
  const token = rng.pick<() => string>([
    () => rng.pick(HOSTILE_NUMBERS),
    () => rng.pick(ODD_TEXT),
    () => 'x'.repeat(rng.int(1000, 70_000)),
    () => sep.repeat(rng.int(1, 50)),
    () => String(wrongValue(rng)),
    () => '"' + f,
    () => f + '"',
    () => '',
  ])();
  fields[i] = eq > 0 && rng.chance(0.5) ? `${f.slice(0, eq + 1)}${token}` : token;
  if (rng.chance(0.2)) fields.splice(i, rng.int(0, 3));
  if (rng.chance(0.2)) fields.splice(i, 0, ...Array.from({ length: rng.int(1, 200) }, () => rng.pick(ODD_TEXT)));
  return fields.join(sep);
}

export type LineMutation = 'truncate' | 'flip' | 'nest' | 'deepvalue' | 'huge' | 'utf8' | 'number' | 'dupkey' | 'wrongtype' | 'field' | 'blank' | 'splice' | 'repeat';

/** One mutation of a valid record line; returns the mutated bytes and its name. */
export function mutateLine(rng: Rng, line: string, hugeBytes: number, only?: LineMutation): { data: Uint8Array; how: LineMutation } {
  const how: LineMutation = only ?? rng.pick<LineMutation>(['truncate', 'flip', 'flip', 'nest', 'deepvalue', 'huge', 'utf8', 'number', 'number', 'dupkey', 'wrongtype', 'wrongtype', 'field', 'field', 'blank', 'splice', 'repeat']);
  const b = bytes(line);
  switch (how) {
    case 'truncate':
      return { data: b.subarray(0, rng.int(0, b.length)), how };
    case 'flip': {
      const out = b.slice();
      for (let k = rng.int(1, 8); k > 0 && out.length > 0; k--) {
        const at = rng.int(0, out.length - 1);
        out[at] = rng.chance(0.5) ? out[at]! ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
      }
      return { data: out, how };
    }
    case 'nest': {
      const at = rng.int(0, line.length);
      return { data: bytes(line.slice(0, at) + deepNesting(rng, rng.pick([100, 5000, 100_000])) + line.slice(at)), how };
    }
    case 'deepvalue':
      return { data: bytes(deepValue(rng, line) ?? line.slice(0, rng.int(0, line.length)) + deepNesting(rng, 100_000)), how };
    case 'huge': {
      const at = rng.int(0, line.length);
      const filler = rng.pick(['x', 'A', ' ', '\\', '"', '\t', '9']).repeat(hugeBytes + rng.int(1, 1000));
      return { data: bytes(line.slice(0, at) + filler + line.slice(at)), how };
    }
    case 'utf8': {
      const at = rng.int(0, b.length);
      return { data: concat([b.subarray(0, at), new Uint8Array(rng.pick(INVALID_UTF8)), b.subarray(at)]), how };
    }
    case 'number':
      return { data: bytes(numberOutOfRange(rng, line) ?? line + rng.pick(HOSTILE_NUMBERS)), how };
    case 'dupkey':
      return { data: bytes(duplicateKey(rng, line) ?? fieldMutation(rng, line)), how };
    case 'wrongtype':
      return { data: bytes(jsonWrongType(rng, line) ?? fieldMutation(rng, line)), how };
    case 'field':
      return { data: bytes(fieldMutation(rng, line)), how };
    case 'blank':
      return { data: bytes(rng.pick(['', ' ', '\t', '  \t ', '\r', '\u0000', '\ufeff', '{}', '[]', 'null', '""', '0'])), how };
    case 'splice': {
      const at = rng.int(0, line.length);
      return { data: bytes(line.slice(0, at) + line.slice(rng.int(0, line.length))), how };
    }
    case 'repeat':
      return { data: bytes(line.repeat(rng.int(2, 5))), how };
  }
}

/** Zeros that inflate to `inflated` bytes from a few tens of KB: the decompression-bomb shape. Cached per size. */
const bombs = new Map<number, Uint8Array>();
export function gzipBomb(inflated: number): Uint8Array {
  let b = bombs.get(inflated);
  if (!b) {
    b = gzipSync(new Uint8Array(inflated), { level: 9 });
    bombs.set(inflated, b);
  }
  return b;
}

/** A gzip stream of `data` cut short (or with a flipped byte in its body or trailer). */
export function brokenGzip(rng: Rng, data: Uint8Array): Uint8Array {
  const gz = gzipSync(data);
  if (rng.chance(0.6)) return gz.subarray(0, rng.int(0, gz.length - 1));
  const out = gz.slice();
  const at = rng.int(10, Math.max(10, out.length - 1));
  if (at < out.length) out[at] = out[at]! ^ 0xff;
  return out;
}
