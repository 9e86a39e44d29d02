// A writer process for the Delta concurrency test: appends small batches to one table until time is up, then prints
// {"writer", "rows", "commits"} as JSON. Usage: node --import tsx deltaWriterProcess.ts <table> <writer> <seconds>
// <table> is a local path or a store URL (s3://, az://). Store options not covered by the SDKs' own environment
// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AZURE_STORAGE_CONNECTION_STRING, ...) come as
// JSON in SLUICE_TEST_STORE_OPTIONS (an OpenStoreOptions, e.g. {"s3":{"endpoint":"http://127.0.0.1:9000"}}).
import { ColumnBuilder } from '@sluice/columnar';
import { DeltaTable } from '@sluice/delta';
import type { OpenStoreOptions } from '@sluice/storage';

const [root, writer, seconds] = process.argv.slice(2);
if (!root || !writer || !seconds) {
  console.error('usage: deltaWriterProcess.ts <table> <writer> <seconds>');
  process.exit(2);
}
const storeOptions = JSON.parse(process.env.SLUICE_TEST_STORE_OPTIONS ?? '{}') as OpenStoreOptions;
const columns = [
  { name: 'writer', type: 'string' as const, nullable: false },
  { name: 'seq', type: 'long' as const, nullable: false },
  { name: 'ts', type: 'timestamp' as const, nullable: false },
  { name: 'day', type: 'date' as const, nullable: false },
];
const table = await DeltaTable.openOrCreate(root, { columns, partitionBy: ['day'], storeOptions });
const end = Date.now() + Number(seconds) * 1000;
let seq = 0;
let commits = 0;
while (Date.now() < end) {
  const b = new ColumnBuilder(columns);
  const n = 1 + Math.floor(Math.random() * 300);
  for (let i = 0; i < n; i++) {
    const ts = Date.now() * 1000 + i;
    b.append({ writer, seq: seq++, ts, day: 19_000 + (seq % 3) });
  }
  await table.append(b.build());
  commits++;
}
console.log(JSON.stringify({ writer, rows: seq, commits }));
