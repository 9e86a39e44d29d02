// Converts each input envelope into an Arrow table in its Delta table's column layout.
import { isUtf8 } from 'node:buffer';
import { makeData, RecordBatch, Struct, Table, type Data, type Field } from 'apache-arrow';
import { ColumnBuilder, decodeIpc } from '@sluice/columnar';
import { H, NonRetryableError, splitLines, type InputMessage, type QuarantineRecord } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import { eventDateOf, fullColumnsOf, parseTimestampMicros, type TableDefinition } from '@sluice/tables';

const dec = new TextDecoder();

function builderFor(def: TableDefinition): ColumnBuilder {
  return new ColumnBuilder(fullColumnsOf(def));
}

function ingestMicros(msg: InputMessage): number {
  const t = msg.headers[H.ingestTime];
  const us = t ? parseTimestampMicros(t) : null;
  return us ?? Date.now() * 1000;
}

/**
 * Bronze rows of a raw envelope. Every column but `line` and `raw` is the same on all rows, and `raw` is the
 * envelope's own bytes: the columns are laid out directly (one copy of the lines, no string per line) when the
 * envelope is valid UTF-8 without a BOM on any line; otherwise each line is decoded as before (invalid sequences
 * become U+FFFD, a BOM is dropped).
 */
export function bronzeRows(msg: InputMessage, def: TableDefinition): Table {
  const lines = splitLines(msg.data);
  const ingest = ingestMicros(msg);
  const source = msg.headers[H.source] ?? msg.subject.split('.')[1] ?? 'unknown';
  const object = msg.headers[H.object] ?? '';
  const constants = { ingest_date: eventDateOf(ingest), source, object, raw_seq: msg.seq, ingest_time: ingest };
  if (lines.length > 0 && isUtf8(msg.data) && !lines.some(hasBom)) return bronzeDirect(def, lines, constants);
  const b = builderFor(def);
  let line = 0;
  for (const l of lines) b.append({ ...constants, line: line++, raw: dec.decode(l) });
  return b.build();
}

const hasBom = (l: Uint8Array): boolean => l.length >= 3 && l[0] === 0xef && l[1] === 0xbb && l[2] === 0xbf;

/** One row built by ColumnBuilder gives the exact types and the constant values; they are repeated n times. */
function bronzeDirect(def: TableDefinition, lines: Uint8Array[], constants: Record<string, string | number>): Table {
  const n = lines.length;
  const b = builderFor(def);
  b.append({ ...constants, line: 0, raw: '' });
  const one = b.build();
  const fields = one.schema.fields;
  const children = fields.map((f, i) => {
    const d = one.batches[0]!.data.children[i]!;
    if (f.name === 'raw') return rawData(f, lines);
    if (f.name === 'line') return makeData({ type: f.type, length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, k) => k) } as never) as Data;
    return repeated(f, d, n);
  });
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(one.schema, struct)]);
}

function rawData(f: Field, lines: Uint8Array[]): Data {
  const n = lines.length;
  let total = 0;
  for (const l of lines) total += l.length;
  const bytes = new Uint8Array(total);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = pos;
    bytes.set(lines[i]!, pos);
    pos += lines[i]!.length;
  }
  offsets[n] = pos;
  return makeData({ type: f.type, length: n, nullCount: 0, valueOffsets: offsets, data: bytes } as never) as Data;
}

/** Row 0 of `d` (no nulls) n times: fixed-width values filled, a string's bytes repeated. */
function repeated(f: Field, d: Data, n: number): Data {
  if (d.valueOffsets) {
    const vo = d.valueOffsets as Int32Array;
    const v = (d.values as Uint8Array).subarray(vo[0], vo[1]);
    const bytes = new Uint8Array(v.length * n);
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      bytes.set(v, i * v.length);
      offsets[i + 1] = (i + 1) * v.length;
    }
    return makeData({ type: f.type, length: n, nullCount: 0, valueOffsets: offsets, data: bytes } as never) as Data;
  }
  const src = d.values as Int32Array | BigInt64Array;
  const values = new (src.constructor as Int32ArrayConstructor)(n) as unknown as Int32Array | BigInt64Array;
  (values as Int32Array).fill(src[0] as number);
  return makeData({ type: f.type, length: n, nullCount: 0, data: values } as never) as Data;
}

export function unroutedRows(msg: InputMessage, def: TableDefinition): Table {
  const b = builderFor(def);
  const ingest = ingestMicros(msg);
  for (const l of splitLines(msg.data)) {
    const raw = dec.decode(l);
    let category: string | null = null;
    try {
      const c = (JSON.parse(raw) as { category?: unknown }).category;
      category = typeof c === 'string' ? c : null;
    } catch {
      // The splitter only routes parsed JSON here; keep the row whatever happens.
    }
    b.append({
      ingest_date: eventDateOf(ingest),
      source: msg.headers[H.source] ?? '',
      category,
      object: msg.headers[H.object] ?? '',
      raw_seq: Number(msg.headers[H.rawSeq] ?? msg.seq),
      ingest_time: ingest,
      raw,
    });
  }
  return b.build();
}

export function quarantineRows(msg: InputMessage, def: TableDefinition): Table {
  const b = builderFor(def);
  const now = Date.now() * 1000;
  for (const l of splitLines(msg.data)) {
    let r: QuarantineRecord;
    try {
      r = JSON.parse(dec.decode(l)) as QuarantineRecord;
    } catch (e) {
      throw new NonRetryableError(`quarantine record is not JSON: ${(e as Error).message}`);
    }
    b.append({
      quarantine_date: eventDateOf(now),
      stage: r.stage,
      table_name: r.table,
      rule: r.rule,
      reason: r.reason,
      raw: r.raw,
      source: r.source,
      object: r.object,
      raw_seq: r.raw_seq,
      input_seq: r.input_seq,
      ingest_time: r.ingest_time ? parseTimestampMicros(r.ingest_time) : null,
      quarantine_time: now,
    });
  }
  return b.build();
}

export function alertRows(msg: InputMessage, def: TableDefinition): Table {
  const b = builderFor(def);
  for (const l of splitLines(msg.data)) {
    const a = JSON.parse(dec.decode(l)) as Alert;
    const ev = parseTimestampMicros(a.event_time) ?? Date.now() * 1000;
    b.append({
      alert_id: a.alert_id,
      rule: a.rule,
      severity: a.severity,
      title: a.title,
      entity: a.entity,
      event_time: ev,
      created_time: parseTimestampMicros(a.created_time) ?? Date.now() * 1000,
      detail: JSON.stringify(a.detail),
      evidence: JSON.stringify(a.evidence),
      next_query: a.next_query ?? null,
      eventDate: eventDateOf(ev),
    });
  }
  return b.build();
}

/**
 * Gold rows a detector rule emitted as NDJSON on gold.<table> (ip_lookup): timestamp columns arrive as ISO strings,
 * the date partition column is the UTC date of the table's eventTime column.
 */
export function goldRows(msg: InputMessage, def: TableDefinition): Table {
  const b = builderFor(def);
  const cols = fullColumnsOf(def);
  const datePart = def.partitionBy.find((p) => cols.find((c) => c.name === p)?.type === 'date');
  for (const l of splitLines(msg.data)) {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(dec.decode(l)) as Record<string, unknown>;
    } catch (e) {
      throw new NonRetryableError(`${def.name} row is not JSON: ${(e as Error).message}`);
    }
    const row: Record<string, unknown> = {};
    for (const c of cols) {
      const v = rec[c.name];
      if (c.type === 'timestamp') row[c.name] = typeof v === 'string' ? parseTimestampMicros(v) : typeof v === 'number' ? v : null;
      else if (c.type === 'json') row[c.name] = v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
      else row[c.name] = v ?? null;
    }
    const t = def.eventTime ? row[def.eventTime] : null;
    if (typeof t !== 'number') throw new NonRetryableError(`${def.name} row without a valid ${def.eventTime ?? 'event time'}`);
    if (datePart) row[datePart] = eventDateOf(t);
    b.append(row as Parameters<ColumnBuilder['append']>[0]);
  }
  return b.build();
}

export function silverTable(msg: InputMessage): Table {
  if (msg.headers[H.encoding] !== 'arrow-ipc') throw new NonRetryableError(`silver sink expects arrow-ipc envelopes, got ${msg.headers[H.encoding] ?? 'none'}`);
  return decodeIpc(msg.data);
}
