// The sink's per-input handler: envelope → Arrow table → buffered in its TableWriter, acked after the commit.
// With `checkSchema` (silver), an envelope incompatible with the table is not written: its rows leave as
// quarantine records (stage 'sink', rule 'schema'), published by the runtime with derived msg ids before the ack.
import type { Table } from 'apache-arrow';
import { FatalStageError, H, NonRetryableError, quarantineOutputs, type InputMessage, type OutputMessage, type QuarantineRecord } from '@sluice/runtime';
import { checkEnvelopeSchema } from './schemaCheck.ts';
import type { TableWriter } from './tableWriter.ts';

export interface HandlerState {
  /** Set once a writer gave up: every handler then fails the stage. */
  fatal: Error | undefined;
}

export function tableHandler(w: TableWriter, toTable: (m: InputMessage) => Table, state: HandlerState, opts: { checkSchema?: boolean } = {}) {
  return async (msg: InputMessage): Promise<OutputMessage[]> => {
    if (state.fatal) throw new FatalStageError(`delta writes failing: ${state.fatal.message}`);
    let t: Table;
    try {
      t = toTable(msg);
    } catch (e) {
      // Conversion is deterministic: a failure is bad data. It must not be nak'ed, because a later redelivery
      // would arrive behind newer commits and be skipped as already committed.
      throw e instanceof NonRetryableError ? e : new NonRetryableError(`cannot convert envelope for ${w.name}: ${(e as Error).message}`);
    }
    // Already committed (by an earlier run, or a redelivery of a committed input): nothing to check or write.
    if (opts.checkSchema && !(await w.isCommitted(msg.seq))) {
      const check = checkEnvelopeSchema(t, w.columns);
      if (!check.ok) return schemaQuarantine(msg, w.name, t, check.reason);
      w.addColumns(check.added);
    }
    await w.write(msg.seq, t, msg.data.length);
    if (state.fatal) throw new FatalStageError(`delta writes failing: ${(state.fatal as Error).message}`);
    return [];
  };
}

const LINEAGE_HEADERS = [H.source, H.object, H.rawSeq, H.ingestTime, H.table];

/** Every row of an incompatible envelope as a quarantine record on quarantine.sink.<table>. */
export function schemaQuarantine(msg: InputMessage, table: string, t: Table, reason: string): OutputMessage[] {
  const col = (name: string) => t.getChild(name);
  const raw = col('_raw');
  const source = col('_source');
  const object = col('_object');
  const rawSeq = col('_raw_seq');
  const inputSeq = col('_input_seq');
  const records: QuarantineRecord[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const r = raw?.get(i) as unknown;
    records.push({
      stage: 'sink',
      table,
      rule: 'schema',
      reason,
      raw: typeof r === 'string' ? r : rowJson(t, i),
      source: text(source?.get(i)) ?? msg.headers[H.source] ?? '',
      object: text(object?.get(i)) ?? msg.headers[H.object] ?? '',
      raw_seq: seqOf(rawSeq?.get(i)) ?? seqOf(msg.headers[H.rawSeq]),
      input_seq: seqOf(inputSeq?.get(i)),
      ingest_time: msg.headers[H.ingestTime] ?? null,
    });
  }
  const lineage: Record<string, string> = {};
  for (const h of LINEAGE_HEADERS) if (msg.headers[h] !== undefined) lineage[h] = msg.headers[h];
  return quarantineOutputs('sink', table, records, lineage);
}

function rowJson(t: Table, i: number): string {
  const row = t.get(i)?.toJSON() ?? {};
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
}

function text(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

function seqOf(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}
