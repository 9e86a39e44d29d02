import { describe, expect, it } from 'vitest';
import { decodeZeekLine, parseZeekHeader, unescapeZeek, ZeekFormatError, zeekHeaderKey } from './zeekTsv.ts';

const T = '\t';
const HEADER = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tnotice',
  '#open\t2024-03-11-00-00-00',
  '#fields\tts\tuid\tid.orig_p\tactions\tsuppress_for\tmsg\tdropped\tTTLs',
  '#types\ttime\tstring\tport\tset[enum]\tinterval\tstring\tbool\tvector[interval]',
];

describe('parseZeekHeader', () => {
  it('decodes the escaped separator and reads every header line', () => {
    const h = parseZeekHeader(HEADER);
    expect(h).toEqual({
      separator: '\t',
      setSeparator: ',',
      emptyField: '(empty)',
      unsetField: '-',
      path: 'notice',
      fields: ['ts', 'uid', 'id.orig_p', 'actions', 'suppress_for', 'msg', 'dropped', 'TTLs'],
      types: ['time', 'string', 'port', 'set[enum]', 'interval', 'string', 'bool', 'vector[interval]'],
    });
  });

  it('takes the last block when the lines hold two (rotated files), ignores #close and other lines', () => {
    const h = parseZeekHeader([...HEADER, '#close\t2024-03-11-01-00-00', 'not a header', '#path\tconn', '#fields\tts\tuid', '#types\ttime\tstring']);
    expect(h.path).toBe('conn');
    expect(h.fields).toEqual(['ts', 'uid']);
    expect(h.types).toEqual(['time', 'string']);
  });

  it('supports another separator, CRLF line ends, and defaults without a header', () => {
    const h = parseZeekHeader(['#separator \\x7c\r', '#set_separator|;\r', '#fields|a|b\r', '#types|set[string]|string\r']);
    expect(h.separator).toBe('|');
    expect(h.setSeparator).toBe(';');
    expect(h.fields).toEqual(['a', 'b']);
    expect(decodeZeekLine('x;y|z\r', h)).toEqual({ a: ['x', 'y'], b: 'z' });
    expect(parseZeekHeader([])).toEqual({ separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-', fields: [], types: [] });
  });

  it('names header keys', () => {
    expect(zeekHeaderKey('#fields\tts')).toBe('fields');
    expect(zeekHeaderKey('#close\t2024')).toBe('close');
    expect(zeekHeaderKey('1710115200.0\tC1')).toBeUndefined();
    expect(zeekHeaderKey('#fieldsX\tts')).toBe(undefined);
  });
});

describe('unescapeZeek', () => {
  it('decodes \\xNN bytes as UTF-8 and \\\\ as a backslash', () => {
    expect(unescapeZeek('caf\\xc3\\xa9')).toBe('café');
    expect(unescapeZeek('a\\x09b\\x2cc')).toBe('a\tb,c');
    expect(unescapeZeek('O=VMware\\\\, Inc')).toBe('O=VMware\\, Inc');
    expect(unescapeZeek('bad\\xff')).toBe('bad\uFFFD');
    expect(unescapeZeek('trailing\\x4')).toBe('trailing\\x4');
    expect(unescapeZeek('plain')).toBe('plain');
  });
});

describe('decodeZeekLine', () => {
  const h = parseZeekHeader(HEADER);

  it('types values by #types: numbers, bools, sets; unset is null, (empty) an empty set or string', () => {
    const line = ['1710115700.123456', 'C1', '443', 'Notice::ACTION_LOG,Notice::ACTION_EMAIL', '3600.000000', 'a\\x09tab', 'T', '300.000000,60.500000'].join(T);
    expect(decodeZeekLine(line, h)).toEqual({
      ts: 1710115700.123456,
      uid: 'C1',
      'id.orig_p': 443,
      actions: ['Notice::ACTION_LOG', 'Notice::ACTION_EMAIL'],
      suppress_for: 3600,
      msg: 'a\ttab',
      dropped: true,
      TTLs: [300, 60.5],
    });
    const sparse = ['1710115700.000000', '-', '-', '(empty)', '-', '(empty)', 'F', '-'].join(T);
    expect(decodeZeekLine(sparse, h)).toEqual({
      ts: 1710115700,
      uid: null,
      'id.orig_p': null,
      actions: [],
      suppress_for: null,
      msg: '',
      dropped: false,
      TTLs: null,
    });
  });

  it('splits sets before unescaping, so an escaped comma stays inside its element', () => {
    const line = ['1', 'C', '1', 'a\\x2cb,c', '1', '-', 'F', '(empty)'].join(T);
    expect(decodeZeekLine(line, h).actions).toEqual(['a,b', 'c']);
  });

  it('leaves values that do not fit their type as text (coercion reports them)', () => {
    const line = ['soon', 'C', 'eighty', '-', 'x', 'm', 'maybe', '1,two'].join(T);
    expect(decodeZeekLine(line, h)).toMatchObject({ ts: 'soon', 'id.orig_p': 'eighty', suppress_for: 'x', dropped: 'maybe', TTLs: [1, 'two'] });
    // count beyond 2^53 stays text instead of losing precision
    const big = parseZeekHeader(['#fields\tn', '#types\tcount']);
    expect(decodeZeekLine('18446744073709551615', big)).toEqual({ n: '18446744073709551615' });
  });

  it('rejects a line whose field count differs from #fields, and a missing #fields', () => {
    expect(() => decodeZeekLine(['1', 'C'].join(T), h)).toThrow(new ZeekFormatError('line has 2 fields, #fields declares 8'));
    expect(() => decodeZeekLine('1', parseZeekHeader([]))).toThrow('no #fields header line precedes this record');
    expect(() => decodeZeekLine('1\t2', parseZeekHeader(['#fields\ta\tb', '#types\tstring']))).toThrow('header declares 2 #fields but 1 #types');
  });

  it('keeps a __proto__ field as data', () => {
    const o = decodeZeekLine('x', parseZeekHeader(['#fields\t__proto__', '#types\tstring']));
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });
});
