// Bronze rows laid out from the envelope's bytes must equal the rows the per-line decode builds.
import { describe, expect, it } from 'vitest';
import { tableToIPC } from 'apache-arrow';
import { ColumnBuilder } from '@sluice/columnar';
import { H, splitLines, type InputMessage } from '@sluice/runtime';
import { bronzeTable, eventDateOf, fullColumnsOf, parseTimestampMicros } from '@sluice/tables';
import { bronzeRows } from './batchToTable.ts';

const enc = new TextEncoder();
const msg = (data: Uint8Array): InputMessage => ({
  subject: 'raw.defender.0',
  data,
  headers: { [H.source]: 'defender', [H.object]: 'inbox/ä.ndjson', [H.ingestTime]: '2026-11-23T10:00:00.123456Z' },
  stream: 'RAW',
  seq: 4_294_967_301,
  deliveryCount: 1,
});

/** The per-line path as it was: every line decoded (U+FFFD for bad bytes, BOM dropped) and appended. */
function reference(m: InputMessage) {
  const b = new ColumnBuilder(fullColumnsOf(bronzeTable));
  const ingest = parseTimestampMicros(m.headers[H.ingestTime]!)!;
  let line = 0;
  for (const l of splitLines(m.data)) {
    b.append({ ingest_date: eventDateOf(ingest), source: 'defender', object: 'inbox/ä.ndjson', raw_seq: m.seq, line: line++, ingest_time: ingest, raw: new TextDecoder().decode(l) });
  }
  return b.build();
}

describe('bronzeRows', () => {
  const cases: [string, Uint8Array][] = [
    ['plain NDJSON with CRLF and empty lines', enc.encode('{"a":1}\r\n\n{"b":"é ✓ 😀"}\n{"c":3}')],
    ['one line without a newline', enc.encode('{"only":true}')],
    ['invalid UTF-8 (decoded path)', Uint8Array.from([...enc.encode('{"x":"'), 0xff, 0xfe, ...enc.encode('"}\n{"y":1}\n')])],
    ['a BOM on a line (decoded path)', Uint8Array.from([0xef, 0xbb, 0xbf, ...enc.encode('{"bom":1}\n{"z":2}')])],
    ['a multibyte character split by a newline (decoded path)', Uint8Array.from([...enc.encode('{"s":"'), 0xe2, 0x9c, 0x0a, 0x93, ...enc.encode('"}')])],
    ['no lines', enc.encode('\n\n')],
  ];
  for (const [name, data] of cases) {
    it(`gives the same table as the per-line decode: ${name}`, () => {
      const m = msg(data);
      const got = bronzeRows(m, bronzeTable);
      const want = reference(m);
      expect(got.numRows).toBe(want.numRows);
      expect(got.toArray().map((r) => r.toJSON())).toEqual(want.toArray().map((r) => r.toJSON()));
      expect(String(got.schema)).toBe(String(want.schema));
      expect(tableToIPC(got, 'stream')).toEqual(tableToIPC(want, 'stream'));
    });
  }
});
