import { describe, expect, it } from 'vitest';
import { parseCsvLine } from './csvLine.ts';

describe('parseCsvLine', () => {
  it('splits plain and quoted fields, unescaping doubled quotes', () => {
    expect(parseCsvLine('a,b,,c')).toEqual({ ok: true, fields: ['a', 'b', '', 'c'] });
    expect(parseCsvLine('"1","http://x/?a=1,2","say ""hi"""')).toEqual({ ok: true, fields: ['1', 'http://x/?a=1,2', 'say "hi"'] });
    expect(parseCsvLine('""')).toEqual({ ok: true, fields: [''] });
    expect(parseCsvLine('')).toEqual({ ok: true, fields: [''] });
    expect(parseCsvLine('a,')).toEqual({ ok: true, fields: ['a', ''] });
    expect(parseCsvLine('"a",')).toEqual({ ok: true, fields: ['a', ''] });
  });

  it('ignores blanks around quoted fields (MalwareBazaar writes "a", "b") but keeps them in unquoted ones', () => {
    expect(parseCsvLine('"2024-03-19 11:31:27", "abc" , "n/a"')).toEqual({ ok: true, fields: ['2024-03-19 11:31:27', 'abc', 'n/a'] });
    expect(parseCsvLine(' a , b')).toEqual({ ok: true, fields: [' a ', ' b'] });
  });

  it('takes another delimiter', () => {
    expect(parseCsvLine('a\t"b\tc"\td', '\t')).toEqual({ ok: true, fields: ['a', 'b\tc', 'd'] });
  });

  it('reports an unterminated quote and text after a closing quote with the column', () => {
    expect(parseCsvLine('"1","http://x')).toEqual({ ok: false, reason: 'unterminated quoted field in column 2' });
    expect(parseCsvLine('"1"x,2')).toEqual({ ok: false, reason: 'text after the closing quote in column 1' });
  });

  it('never throws on random input', () => {
    let seed = 7;
    const alphabet = ['"', ',', ' ', 'a', '\t', '""', '\u00e9', '\ufffd'];
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = n % 40;
      for (let k = 0; k < len; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        s += alphabet[seed % alphabet.length];
      }
      const r = parseCsvLine(s);
      if (r.ok) expect(r.fields.length).toBeGreaterThan(0);
      else expect(r.reason).toMatch(/column \d+/);
    }
  });
});
