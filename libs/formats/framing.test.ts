import { describe, expect, it } from 'vitest';
import { frameRecords } from './framing.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const texts = (r: Uint8Array[]) => r.map((b) => new TextDecoder().decode(b));

describe('frameRecords', () => {
  it('splits NDJSON and keeps an incomplete last line for later', () => {
    const buf = enc('{"a":1}\r\n\n{"a":2}\n{"a":');
    const r = frameRecords(buf, 0, false);
    expect(r.framing).toBe('ndjson');
    expect(texts(r.records)).toEqual(['{"a":1}', '{"a":2}']);
    expect(r.consumed).toBe(buf.length - 5);
    const more = enc('{"a":1}\r\n\n{"a":2}\n{"a":3}');
    expect(texts(frameRecords(more, r.consumed, true).records)).toEqual(['{"a":3}']);
  });

  it('explodes a records document, pretty-printed or not', () => {
    const doc = enc(JSON.stringify({ records: [{ category: 'x' }, { category: 'y' }] }, null, 2));
    const r = frameRecords(doc, 0, true);
    expect(r.framing).toBe('document');
    expect(texts(r.records)).toEqual(['{"category":"x"}', '{"category":"y"}']);
    expect(texts(frameRecords(enc('{"Records":[{"eventName":"A"}]}'), 0, true).records)).toEqual(['{"eventName":"A"}']);
    expect(texts(frameRecords(enc('[1,{"b":2}]'), 0, true).records)).toEqual(['1', '{"b":2}']);
  });

  it('treats a single line object without records as one record and bad JSON as lines', () => {
    expect(texts(frameRecords(enc('{"x":1}'), 0, true).records)).toEqual(['{"x":1}']);
    // Original bytes kept: big integers and spacing survive.
    expect(texts(frameRecords(enc(' {"id": 12345678901234567890, "y":1.50}\n'), 0, true).records)).toEqual(['{"id": 12345678901234567890, "y":1.50}']);
    expect(texts(frameRecords(enc('{"x":\n1'), 0, true).records)).toEqual(['{"x":', '1']);
  });

  it('frames a document nested too deeply to re-serialise as lines instead of throwing', () => {
    const deep = '{"records":[' + '['.repeat(100_000) + ']'.repeat(100_000) + ']}';
    const r = frameRecords(enc(deep), 0, true);
    expect(r.framing).toBe('ndjson');
    expect(r.records.map((x) => x.length)).toEqual([deep.length]);
  });

  it('counts a line of only CR (and blanks) as blank: it would vanish from the envelope after being published', () => {
    expect(texts(frameRecords(enc('\r\r\n{"a":1}\r\n \r\t\r\n'), 0, true).records)).toEqual(['{"a":1}']);
  });
});
