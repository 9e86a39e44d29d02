// The silver handler on a local table: an envelope the table cannot take yields quarantine outputs on
// quarantine.sink.<table> and writes nothing; a compatible one (with a new nullable column) is committed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ColumnBuilder, encodeIpc } from '@sluice/columnar';
import { readTable, type DeltaColumn } from '@sluice/delta';
import { createLogger, H, type InputMessage, type QuarantineRecord } from '@sluice/runtime';
import { silverTable } from './batchToTable.ts';
import { tableHandler, type HandlerState } from './handler.ts';
import { TableWriter } from './tableWriter.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const log = createLogger('test', 'silent');
const policy = { maxRows: 1, maxBytes: 1 << 30, maxLatencySeconds: 60 };
const columns: DeltaColumn[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: '_source', type: 'string', nullable: false },
  { name: '_object', type: 'string', nullable: false },
  { name: '_raw_seq', type: 'long', nullable: false },
  { name: '_input_seq', type: 'long', nullable: false },
  { name: '_raw', type: 'string', nullable: false },
];

function envelope(seq: number, cols: DeltaColumn[], rows: Record<string, string | number | null>[]): InputMessage {
  const b = new ColumnBuilder(cols);
  for (const r of rows) b.append(r);
  return {
    subject: 'events.t.0',
    data: encodeIpc(b.build()),
    headers: { [H.encoding]: 'arrow-ipc', [H.source]: 'src', [H.object]: 'file.json', [H.rawSeq]: '7', [H.table]: 't' },
    stream: 'EVENTS',
    seq,
    deliveryCount: 1,
  };
}

describe('sink silver handler', () => {
  it('quarantines an incompatible envelope and writes nothing; keeps writing compatible ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-h-'));
    dirs.push(dir);
    const root = join(dir, 't');
    const state: HandlerState = { fatal: undefined };
    const w = await TableWriter.open({ name: 't', root, columns, partitionBy: [], description: 'test', appId: 'sink-t', policy, log, onFatal: (e) => (state.fatal = e) });
    const handle = tableHandler(w, silverTable, state, { checkSchema: true });
    const row = (id: number | string) => ({ id, _source: 'src', _object: 'file.json', _raw_seq: 7, _input_seq: 3, _raw: `{"id":${JSON.stringify(id)}}` });

    // id as a string: the table has long.
    const badCols = columns.map((c) => (c.name === 'id' ? { ...c, type: 'string' as const } : c));
    const outputs = await handle(envelope(1, badCols, [row('a'), row('b')]));
    expect(outputs).toHaveLength(1);
    const out = outputs[0]!;
    expect(out.subject).toBe('quarantine.sink.t');
    expect(out.records).toBe(2);
    expect(out.headers?.[H.source]).toBe('src');
    const records = new TextDecoder().decode(out.data).trim().split('\n').map((l) => JSON.parse(l) as QuarantineRecord);
    expect(records[0]).toMatchObject({ stage: 'sink', table: 't', rule: 'schema', raw: '{"id":"a"}', source: 'src', object: 'file.json', raw_seq: 7, input_seq: 3 });
    expect(records[0]!.reason).toMatch(/"id".*Utf8.*long/);
    expect(w.committedSeq).toBe(-1);
    await expect(readTable(root)).rejects.toThrow(/is not a Delta table/); // nothing written: the table appears with its first rows

    // A compatible envelope with a new nullable column is committed and evolves the table.
    const evolved = [...columns, { name: 'country', type: 'string' as const, nullable: true }];
    await expect(handle(envelope(2, evolved, [{ ...row(1), country: 'FR' }]))).resolves.toEqual([]);
    expect(w.committedSeq).toBe(2);
    const { rows } = await readTable(root);
    expect(rows).toEqual([{ ...row(1), country: 'FR' }]);
    expect(w.columns.map((c) => c.name)).toContain('country');

    // Missing non-nullable _raw: the row goes to quarantine as JSON.
    const noRaw = await handle(envelope(3, columns.filter((c) => c.name !== '_raw'), [{ ...row(5) }]));
    const rec = JSON.parse(new TextDecoder().decode(noRaw[0]!.data).trim()) as QuarantineRecord;
    expect(rec.reason).toMatch(/"_raw"/);
    expect(JSON.parse(rec.raw)).toMatchObject({ id: 5, _source: 'src' });
    expect(state.fatal).toBeUndefined();
    await w.close();
  });
});
