// Turns the bytes of a file or request body into raw records: NDJSON lines, or the elements of one JSON document
// (`{"records":[...]}`, `{"Records":[...]}`, a top-level array, or a single object). Pure: no I/O.

export type Framing = 'ndjson' | 'document';

export interface FramedRecords {
  framing: Framing;
  /** One raw record per entry, as UTF-8 bytes without the trailing newline. */
  records: Uint8Array[];
  /** Bytes consumed: for NDJSON the end of the last complete line; the caller resumes from here. */
  consumed: number;
}

const NL = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function firstNonSpace(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xef && c !== 0xbb && c !== 0xbf) return c;
  }
  return -1;
}

/**
 * Frames `buf` from byte `offset`. `complete` says the content will not grow (a settled file, a request body): then a
 * last line without a newline counts, and a whole-content JSON document is recognised (only from offset 0).
 */
export function frameRecords(buf: Uint8Array, offset: number, complete: boolean): FramedRecords {
  if (complete && offset === 0) {
    const doc = tryDocument(buf);
    if (doc) return { framing: 'document', records: doc, consumed: buf.length };
  }
  const records: Uint8Array[] = [];
  let start = offset;
  let consumed = offset;
  for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
    pushLine(records, buf, start, nl);
    start = nl + 1;
    consumed = start;
  }
  if (complete && start < buf.length) {
    pushLine(records, buf, start, buf.length);
    consumed = buf.length;
  }
  return { framing: 'ndjson', records, consumed };
}

function pushLine(out: Uint8Array[], buf: Uint8Array, start: number, end: number): void {
  if (end > start && buf[end - 1] === 0x0d) end--;
  // Skip blank lines: they carry no record. A stray CR counts as blank too: a record of only `\r` would be published
  // and then vanish when the envelope's lines are split (CR before LF is stripped there).
  let blank = true;
  for (let j = start; j < end; j++) {
    const c = buf[j]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) {
      blank = false;
      break;
    }
  }
  if (!blank) out.push(buf.subarray(start, end));
}

/** A single JSON value spanning the content (pretty-printed JSON included). NDJSON fails fast at its second line. */
function tryDocument(buf: Uint8Array): Uint8Array[] | undefined {
  const first = firstNonSpace(buf, 0);
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(buf));
  } catch {
    return undefined;
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.records)) items = o.records;
    else if (Array.isArray(o.Records)) items = o.Records;
    else {
      // A single record on one line keeps its original bytes (number formatting, key order, big integers).
      const trimmed = trim(buf);
      if (trimmed.indexOf(NL) === -1) return [trimmed];
      items = [value];
    }
  } else return undefined;
  try {
    return items.map((v) => encoder.encode(JSON.stringify(v)));
  } catch {
    // Nested deeper than JSON.stringify's recursion allows (JSON.parse has no such limit): not split as a document;
    // its lines travel as they are and the splitter rejects what it cannot read.
    return undefined;
  }
}

function trim(buf: Uint8Array): Uint8Array {
  let a = 0;
  let b = buf.length;
  const ws = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  while (a < b && ws(buf[a]!)) a++;
  while (b > a && ws(buf[b - 1]!)) b--;
  return buf.subarray(a, b);
}

/** Validates that every record is one JSON value; returns the first problem (1-based record number) or null. */
export function firstInvalidJson(records: Uint8Array[]): { index: number; reason: string } | null {
  for (let i = 0; i < records.length; i++) {
    try {
      JSON.parse(decoder.decode(records[i]));
    } catch (e) {
      return { index: i + 1, reason: (e as Error).message };
    }
  }
  return null;
}
