// Partition values and data-file paths: value <-> string serialization, Hive directory escaping,
// and the URI encoding of add.path (plus decoding any add.path back to a filesystem path).
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeltaType } from './schema.ts';

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

// Spark's ExternalCatalogUtils.charToEscape, plus the characters it adds on Windows (space, <, >, |):
// escaping space keeps directory names shell- and URL-friendly; readers take values from the log, not the path.
const ESCAPE = new Set<number>([0x00]);
for (let c = 0x01; c < 0x20; c++) ESCAPE.add(c);
for (const ch of '"#%\'*/:=?\\\x7F{[]^ <>|') ESCAPE.add(ch.charCodeAt(0));

/** Spark's escapePathName: each escaped character becomes %XX (uppercase hex); everything else, incl. non-ASCII, stays. */
export function escapePathName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += ESCAPE.has(c) ? '%' + c.toString(16).toUpperCase().padStart(2, '0') : s[i];
  }
  return out;
}

/** Inverse of escapePathName (Spark's unescapePathName): %XX with two hex digits becomes the character. */
export function unescapePathName(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The Hive-style directory for one file's partition values: `a=1/b=x%20y` (or '' when unpartitioned). */
export function partitionDir(partitionColumns: string[], values: Record<string, string | null>): string {
  return partitionColumns
    .map((c) => {
      const v = values[c];
      return `${escapePathName(c)}=${v === null || v === undefined || v === '' ? HIVE_DEFAULT_PARTITION : escapePathName(v)}`;
    })
    .join('/');
}

// RFC 3986 unreserved characters, '/' and the sub-delims that Spark's Path.toUri leaves alone; everything else
// (notably '%' from escapePathName, space and non-ASCII) is percent-encoded as UTF-8 so add.path is a valid URI.
const URI_KEEP = /[A-Za-z0-9\-._~/!$&'()*+,;=@]/;

export function encodePathAsUri(relPath: string): string {
  let out = '';
  for (const ch of relPath) {
    if (URI_KEEP.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The filesystem path of an add/remove `path` (a URI, relative to the table root, or absolute / file:). */
export function resolveLogPath(root: string, uriPath: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uriPath)) {
    if (!uriPath.startsWith('file:')) throw new Error(`unsupported file URI scheme in ${uriPath}`);
    // file:/a and file:///a are both used by Spark; URL normalizes them.
    return fileURLToPath(new URL(uriPath));
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(uriPath);
  } catch {
    decoded = uriPath; // not valid percent-encoding: some writers store raw paths
  }
  return isAbsolute(decoded) ? decoded : join(root, decoded);
}

// ---- partition value serialization (PROTOCOL.md "Partition Value Serialization") ----

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? '-' + s : s;
}

/** Epoch days → `YYYY-MM-DD` (proleptic Gregorian, like java.time). */
export function formatDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Epoch µs → `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (the protocol's partition-value form). */
export function formatTimestampPartition(micros: bigint): string {
  const ms = floorDiv(micros, 1000n);
  const d = new Date(Number(floorDiv(ms, 1000n)) * 1000);
  const frac = micros - floorDiv(micros, 1_000_000n) * 1_000_000n;
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac.toString().padStart(6, '0')}`
  );
}

/** Java's Double.toString for the common cases, so "1.0" rather than "1" as Spark writes; readers parse either. */
function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  const s = String(v);
  return /[.eE]/.test(s) ? s : s + '.0';
}

/** A partition column's value (as produced by arrowColumns.valueAt) → its string in partitionValues (null for null). */
export function serializePartitionValue(type: DeltaType, v: bigint | number | boolean | string | null): string | null {
  if (v === null) return null;
  switch (type) {
    case 'string':
      // The protocol reads an empty string as null; Spark writes '' partitions as null, so do the same explicitly.
      return v === '' ? null : String(v);
    case 'long':
    case 'integer':
      return String(v);
    case 'double':
      return formatDouble(Number(v));
    case 'boolean':
      return v ? 'true' : 'false';
    case 'date':
      return formatDate(Number(v));
    case 'timestamp':
      return formatTimestampPartition(BigInt(v));
    case 'map':
      throw new Error('map columns cannot be partition columns');
  }
}

const DATE_RE = /^(-?\d{4,})-(\d{1,2})-(\d{1,2})$/;
const TS_RE = /^(-?\d{4,})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch days of `YYYY-MM-DD`, or null if malformed. */
export function parseDate(s: string): number | null {
  const m = DATE_RE.exec(s.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC maps years 0..99 to 1900+; setUTCFullYear keeps them literal.
  const d = new Date(ms);
  d.setUTCFullYear(Number(m[1]));
  return Math.round(d.getTime() / 86_400_000);
}

/** Epoch µs of a partition timestamp (`YYYY-MM-DD HH:MM:SS[.f]` read as UTC, or ISO-8601 with Z/offset). */
export function parseTimestamp(s: string): bigint | null {
  const m = TS_RE.exec(s.trim());
  if (!m) return null;
  const d = new Date(Date.UTC(2000, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  d.setUTCFullYear(Number(m[1]));
  let micros = BigInt(d.getTime()) * 1000n + BigInt((m[7] ?? '').padEnd(9, '0').slice(0, 6) || '0');
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1n : 1n;
    const digits = tz.slice(1).replace(':', '');
    const minutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    micros -= sign * minutes * 60_000_000n;
  }
  return micros;
}

/**
 * A partitionValues string → typed value, for any primitive Delta type name (foreign tables included).
 * Longs come back as bigint, timestamps as epoch µs bigint, dates as epoch days; null/'' → null.
 */
export function parsePartitionValue(type: string, s: string | null | undefined): bigint | number | boolean | string | null {
  if (s === null || s === undefined || s === '') return null;
  switch (type) {
    case 'string':
      return s;
    case 'long':
      return BigInt(s);
    case 'integer':
    case 'short':
    case 'byte':
      return Number.parseInt(s, 10);
    case 'double':
    case 'float':
      return Number(s);
    case 'boolean':
      return s.toLowerCase() === 'true';
    case 'date': {
      const d = parseDate(s);
      if (d === null) throw new Error(`bad date partition value "${s}"`);
      return d;
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      const t = parseTimestamp(s);
      if (t === null) throw new Error(`bad timestamp partition value "${s}"`);
      return t;
    }
    default:
      // decimal(p,s), binary...: keep the serialized text rather than guess.
      return s;
  }
}
