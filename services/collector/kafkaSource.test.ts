// The Kafka source's pure parts: message values → records, envelope cuts and their ids, the config schema.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { cutEnvelopes, kafkaSourceSchema, messageRecords, positionedRecords } from './kafkaSource.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const texts = (rs: Uint8Array[]) => rs.map((r) => dec.decode(r));

describe('messageRecords', () => {
  it('keeps a one-line value byte for byte, Defender {"records":[…]} included', () => {
    const v = b('{"records":[{"time":"2024-01-01T00:00:00Z","category":"AdvancedHunting-DeviceEvents","n":1.50}]}');
    const out = messageRecords(v);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(v);
  });

  it('turns a pretty-printed JSON document into one record with the line breaks as spaces', () => {
    const out = texts(messageRecords(b('{\r\n  "a": "x y",\n  "b": [1,\n 2]\n}\n')));
    expect(out).toEqual(['{    "a": "x y",   "b": [1,  2] }']);
    expect(JSON.parse(out[0]!)).toEqual({ a: 'x y', b: [1, 2] });
  });

  it('splits NDJSON and other line-oriented text into its non-blank lines', () => {
    expect(texts(messageRecords(b('{"a":1}\n{"a":2}\r\n\n  \n{"a":3}')))).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(texts(messageRecords(b('<13>Jan 1 host app: one\n<13>Jan 1 host app: two\n')))).toEqual(['<13>Jan 1 host app: one', '<13>Jan 1 host app: two']);
  });

  it('trims surrounding whitespace and yields nothing for null, empty or blank values', () => {
    expect(texts(messageRecords(b('  {"a":1}\n')))).toEqual(['{"a":1}']);
    expect(messageRecords(null)).toEqual([]);
    expect(messageRecords(b(''))).toEqual([]);
    expect(messageRecords(b(' \r\n\t'))).toEqual([]);
  });

  it('passes invalid UTF-8 and non-JSON through unchanged (the splitter judges them)', () => {
    const v = new Uint8Array([0xff, 0xfe, 0x41]);
    expect(messageRecords(v)[0]).toEqual(v);
    expect(texts(messageRecords(b('not json')))).toEqual(['not json']);
  });
});

describe('cutEnvelopes', () => {
  const msgs = [
    { offset: '10', value: Buffer.from('{"a":1}') },
    { offset: '11', value: null },
    { offset: '12', value: Buffer.from('{"a":2}\n{"a":3}\n{"a":4}') },
    { offset: '13', value: Buffer.from('{"a":5}') },
  ];

  it('names each envelope by the exact positions it holds, lines of a multi-record message included', () => {
    const recs = positionedRecords(msgs);
    expect(recs.map((r) => `${r.offset}/${r.line}/${r.lines}`)).toEqual(['10/0/1', '12/0/3', '12/1/3', '12/2/3', '13/0/1']);
    const envs = cutEnvelopes(recs, 16); // two 8-byte records per envelope
    expect(envs.map((e) => e.range)).toEqual(['10-12.0', '12.1-12.2', '13-13']);
    expect(envs.map((e) => texts(e.records.map((r) => r.bytes)))).toEqual([['{"a":1}', '{"a":2}'], ['{"a":3}', '{"a":4}'], ['{"a":5}']]);
  });

  it('cuts the same unit the same way every time and isolates a record over the cap', () => {
    const recs = positionedRecords([...msgs, { offset: '14', value: Buffer.from('x'.repeat(40)) }, { offset: '15', value: Buffer.from('{"a":6}') }]);
    const a = cutEnvelopes(recs, 16).map((e) => e.range);
    expect(cutEnvelopes(recs, 16).map((e) => e.range)).toEqual(a);
    expect(a.slice(-3)).toEqual(['13-13', '14-14', '15-15']);
    expect(cutEnvelopes(recs, 1024).map((e) => e.range)).toEqual(['10-15']);
  });
});

describe('kafkaSourceSchema', () => {
  const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(kafkaSourceSchema);

  it('accepts an Event Hubs entry and fills the defaults', () => {
    const entry: Record<string, unknown> = {
      source: 'defender',
      brokers: ['ns.servicebus.windows.net:9093'],
      topics: ['insights-logs-advancedhunting'],
      groupId: '$Default',
      sasl: { mechanism: 'plain', username: '$ConnectionString', passwordFile: '/run/secrets/eventhubs' },
      ssl: true,
    };
    expect(validate(entry)).toBe(true);
    expect(entry.fromBeginning).toBe(true);
    expect(entry.maxBatchBytes).toBe(512 * 1024);
  });

  it('refuses a missing password, both password forms, another mechanism, a broker without port', () => {
    const base = { source: 's', brokers: ['h:9092'], topics: ['t'], groupId: 'g' };
    expect(validate({ ...base, sasl: { mechanism: 'plain', username: 'u' } })).toBe(false);
    expect(validate({ ...base, sasl: { mechanism: 'plain', username: 'u', password: 'p', passwordFile: '/f' } })).toBe(false);
    expect(validate({ ...base, sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } })).toBe(false);
    expect(validate({ ...base, brokers: ['h'] })).toBe(false);
    expect(validate({ ...base, topics: [] })).toBe(false);
    expect(validate({ ...base, source: 'a.b' })).toBe(false);
  });
});
