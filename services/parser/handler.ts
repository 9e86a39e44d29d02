// Parses one category's NDJSON batch into typed columns: coercion by the table definition, expectations with their
// actions, lineage columns and the raw record; good rows leave as Arrow IPC, bad ones as quarantine records.
import { ColumnBuilder, type CellValue, type ColumnSpec } from '@sluice/columnar';
import {
  decodePreamble,
  FatalStageError,
  H,
  NonRetryableError,
  quarantineOutputs,
  subjects,
  type InputMessage,
  type OutputMessage,
  type QuarantineRecord,
} from '@sluice/runtime';
import { RecordError, type RecordContext, type SourceFamily } from '@sluice/sources';
import { compileValidator, EVENT_DATE, eventDateOf, fullColumnsOf, parseTimestampMicros, type ExpectationAction, type TableDefinition, type Validator } from '@sluice/tables';
import { qualityOutputs, QualityTally } from './qualityStats.ts';

export interface ExpectationCounter {
  inc(labels: { table: string; rule: string; action: string }, n?: number): void;
}

export interface ParserContext {
  def: TableDefinition;
  /** The category token this table is routed under, and the family that decodes its records (JSON when absent). */
  category: string;
  family?: SourceFamily;
  validate: Validator;
  version: string;
  actions: Map<string, ExpectationAction>;
  failures?: ExpectationCounter;
  /** Arrow envelopes are cut at this many raw bytes so typed columns + raw stay under max_payload. */
  maxRawBytesPerBatch: number;
  /** Publish one stats message per envelope on quality.<table> (qualityStats.ts); the service turns it on. */
  qualityStats?: boolean;
}

export function parserContext(def: TableDefinition, version: string, failures?: ExpectationCounter, family?: SourceFamily, category = def.name): ParserContext {
  return {
    def,
    category,
    family,
    validate: compileValidator(def),
    version,
    actions: new Map(def.expectations.map((e) => [e.name, e.action])),
    failures,
    maxRawBytesPerBatch: 192 * 1024,
  };
}

const dec = new TextDecoder();
const NL = 0x0a;
const CR = 0x0d;

/** Full column list per table definition, built once (fullColumnsOf returns a new array per call). */
const columnsByDef = new WeakMap<TableDefinition, ColumnSpec[]>();
/** One builder per parser context, reset per Arrow batch: its column arrays are reused instead of regrown. */
const builders = new WeakMap<ParserContext, ColumnBuilder>();

function builderFor(ctx: ParserContext): ColumnBuilder {
  let columns = columnsByDef.get(ctx.def);
  if (!columns) columnsByDef.set(ctx.def, (columns = fullColumnsOf(ctx.def)));
  let b = builders.get(ctx);
  if (!b || b.specs !== columns) builders.set(ctx, (b = new ColumnBuilder(columns)));
  b.reset();
  return b;
}

export function parseBatch(msg: InputMessage, ctx: ParserContext): OutputMessage[] {
  if (msg.headers[H.encoding] && msg.headers[H.encoding] !== 'ndjson') throw new NonRetryableError(`parser expects ndjson envelopes, got ${msg.headers[H.encoding]}`);
  const { def } = ctx;
  const source = msg.headers[H.source] ?? '';
  const object = msg.headers[H.object] ?? '';
  const rawSeq = Number(msg.headers[H.rawSeq] ?? -1);
  const ingestIso = msg.headers[H.ingestTime] ?? '';
  const ingestTime = (ingestIso && parseTimestampMicros(ingestIso)) || Date.now() * 1000;
  const lineage = { [H.source]: source, [H.object]: object, [H.rawSeq]: String(rawSeq), [H.ingestTime]: ingestIso, [H.table]: def.name };
  const outputs: OutputMessage[] = [];
  const bad: QuarantineRecord[] = [];
  const tally = ctx.qualityStats ? new QualityTally(ctx.actions) : undefined;
  // Lineage is the same for every row of an envelope: set once per envelope, not per row.
  const builder = builderFor(ctx);
  builder.setConstant('_source', source);
  builder.setConstant('_object', object);
  builder.setConstant('_raw_seq', rawSeq);
  builder.setConstant('_input_seq', msg.seq);
  builder.setConstant('_ingest_time', ingestTime);
  builder.setConstant('_parser_version', ctx.version);
  const ingestDay = eventDateOf(ingestTime);
  let rawBytes = 0;
  const emit = () => {
    if (builder.length === 0) return;
    outputs.push({
      subject: subjects.parsed(def.name),
      data: builder.toIpc(),
      records: builder.length,
      headers: { ...lineage, [H.encoding]: 'arrow-ipc', [H.count]: String(builder.length) },
    });
    builder.reset();
    rawBytes = 0;
  };
  const quarantine = (raw: string, rule: string, reason: string) =>
    bad.push({ stage: 'parser', table: def.name, rule, reason, raw, source, object, raw_seq: rawSeq, input_seq: msg.seq, ingest_time: ingestIso || null });

  const decode = ctx.family?.decode;
  const recordCtx: RecordContext = { source, object, preamble: decodePreamble(msg.headers[H.preamble]), ingestTime: ingestIso || undefined };
  // Lines cut as splitLines does (LF or CRLF, blank lines skipped), found with Buffer's memchr-based indexOf:
  // Uint8Array.prototype.indexOf scans byte by byte and was 5 % of the parser.
  const data = msg.data;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let start = 0, nl = 0; start < data.length; start = nl + 1) {
    nl = bytes.indexOf(NL, start);
    if (nl === -1) nl = data.length;
    let end = nl;
    if (end > start && data[end - 1] === CR) end--;
    if (end === start) continue;
    const line = data.subarray(start, end);
    // One TextDecoder call per line: cheaper than decoding the envelope once and slicing it (measured: decoding
    // the large string and JSON.parse of sliced strings both cost more).
    const raw = dec.decode(line);
    let record: unknown;
    try {
      record = decode ? decode(line, ctx.category, recordCtx) : JSON.parse(raw);
    } catch (e) {
      // A family's decoder says which rule failed; anything else it throws is still this record's problem, not the stage's.
      if (e instanceof RecordError) quarantine(raw, e.rule, e.message);
      else if (!decode) quarantine(raw, 'parse', `invalid JSON: ${(e as Error).message}`);
      else quarantine(raw, 'parse', `decoder failed: ${(e as Error).message}`);
      tally?.undecoded(bad[bad.length - 1]!.rule);
      continue;
    }
    const v = ctx.validate(record);
    for (const rule of v.failed) ctx.failures?.inc({ table: def.name, rule, action: ctx.actions.get(rule) ?? 'quarantine' });
    if (tally && v.failed.length) tally.verdict(v.failed, v.disposition);
    switch (v.disposition) {
      case 'fail':
        throw new FatalStageError(`table ${def.name}: ${v.reasons.join('; ')} (input seq ${msg.seq})`);
      case 'drop':
        continue;
      case 'quarantine':
        quarantine(raw, v.failed[0] === 'coercion' ? 'parse' : (v.failed.find((r) => ctx.actions.get(r) === 'quarantine') ?? v.failed[0] ?? 'parse'), v.reasons.join('; '));
        continue;
      case 'keep':
        break;
    }
    const row: Record<string, CellValue> = v.row!;
    // The raw record goes into Arrow as the bytes that arrived: no re-encoding of the largest column.
    row._raw = line;
    if (row[EVENT_DATE] === undefined) row[EVENT_DATE] = ingestDay;
    builder.append(row);
    rawBytes += line.length;
    if (rawBytes >= ctx.maxRawBytesPerBatch) emit();
  }
  emit();
  if (tally) outputs.push(...qualityOutputs(msg, { table: def.name, category: ctx.category, version: ctx.version }, tally, outputs, bad));
  outputs.push(...quarantineOutputs('parser', def.name, bad, lineage));
  return outputs;
}
