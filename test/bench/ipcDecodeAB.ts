// In-process A/B of decodeIpc (libs/columnar/ipcDecode.ts) against apache-arrow's tableFromIPC on the sink's real
// envelopes: NDJSON files → parseBatch (DeviceNetworkEvents) → Arrow IPC envelopes, each decoded by both, in
// alternating rounds; CPU ms per 1 000 envelopes (process.cpuUsage). Not a test: numbers only.
//   npx tsx test/bench/ipcDecodeAB.ts [--rounds 9] FILE.ndjson...
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import { decodeIpc } from '@sluice/columnar';
import { H, packLines, splitLines, type InputMessage } from '@sluice/runtime';
import { defenderFamily } from '@sluice/sources';
import { parseBatch, parserContext } from '../../services/parser/handler.ts';
import { ipcDecodeFallbacks } from '../../libs/columnar/ipcDecode.ts';
import { TABLE } from './compare/input.ts';

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '9' } }, allowPositionals: true });
const ctx = parserContext(TABLE, 'bench', undefined, defenderFamily, 'DeviceNetworkEvents');
const envelopes: Uint8Array[] = [];
let seq = 0;
for (const file of positionals) {
  for (const { body } of packLines(splitLines(readFileSync(file))).bodies) {
    const headers = { [H.encoding]: 'ndjson', [H.source]: 'defender', [H.object]: 'f', [H.rawSeq]: String(++seq), [H.ingestTime]: new Date().toISOString() };
    const msg: InputMessage = { subject: 'b', data: body, headers, stream: 'b', seq, deliveryCount: 1 };
    for (const o of parseBatch(msg, ctx)) {
      // As NATS hands them: a Buffer at an arbitrary offset of a larger allocation.
      const pad = seq % 8;
      const buf = Buffer.alloc(o.data.length + pad);
      buf.set(o.data, pad);
      envelopes.push(buf.subarray(pad));
    }
  }
}
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const run = (f: (b: Uint8Array) => { numRows: number }): number => {
  const t0 = cpu();
  let rows = 0;
  for (const e of envelopes) rows += f(e).numRows;
  if (rows <= 0) throw new Error('no rows');
  return ((cpu() - t0) / envelopes.length) * 1000;
};
const old: number[] = [];
const now: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  old.push(run(tableFromIPC));
  now.push(run(decodeIpc));
}
const stats = (x: number[]) => {
  const s = [...x].sort((a, b) => a - b);
  return `best ${s[0]!.toFixed(0)} ms, median ${s[s.length >> 1]!.toFixed(0)} ms`;
};
console.log(`${envelopes.length} envelopes, fallbacks ${ipcDecodeFallbacks.count}; CPU per 1000 envelopes: tableFromIPC ${stats(old)}; decodeIpc ${stats(now)}`);
