// Splits one CSV line (RFC 4180 quoting: "a ""b""" → a "b") into fields. Pure: no I/O.
// Line-framed sources deliver one record per line, so a quoted field that spans lines is reported, not joined.

export type CsvLine = { ok: true; fields: string[] } | { ok: false; reason: string };

const QUOTE = 34;
const SPACE = 32;
const TAB = 9;

/** A space or tab that is not itself the delimiter. */
function isBlank(c: number, delim: number): boolean {
  return (c === SPACE || c === TAB) && c !== delim;
}

/**
 * Fields of `line` separated by `delimiter` (one character, default `,`). Blanks around a quoted field are
 * ignored (abuse.ch MalwareBazaar writes `"a", "b"`); unquoted fields are kept as written. Fails on an unterminated
 * quote or text after a closing quote, naming the column.
 */
export function parseCsvLine(line: string, delimiter = ','): CsvLine {
  const delim = delimiter.charCodeAt(0);
  const fields: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    // Leading blanks only matter when a quote follows them.
    let j = i;
    while (j < n && isBlank(line.charCodeAt(j), delim)) j++;
    if (j < n && line.charCodeAt(j) === QUOTE) {
      let value = '';
      let k = j + 1;
      for (;;) {
        const q = line.indexOf('"', k);
        if (q < 0) return { ok: false, reason: `unterminated quoted field in column ${fields.length + 1}` };
        value += line.slice(k, q);
        if (line.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          k = q + 2;
          continue;
        }
        k = q + 1;
        break;
      }
      while (k < n && isBlank(line.charCodeAt(k), delim)) k++;
      fields.push(value);
      if (k >= n) return { ok: true, fields };
      if (line.charCodeAt(k) !== delim) return { ok: false, reason: `text after the closing quote in column ${fields.length}` };
      i = k + 1;
      continue;
    }
    const d = line.indexOf(delimiter, i);
    if (d < 0) {
      fields.push(line.slice(i));
      return { ok: true, fields };
    }
    fields.push(line.slice(i, d));
    i = d + 1;
  }
}
