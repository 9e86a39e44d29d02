// The sink's TableWriter on an s3:// lake (MinIO): the table root comes from tableLocation(lakePath, layer, table),
// the endpoint from the sink's `storage.s3` config, and the credentials only from the SDK's env chain
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Two batches with txn, a reopen resumes after the last one.
// Skipped with a printed reason when minio is not installed, unless SLUICE_REQUIRE_OBJECT_STORES=1.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnBuilder } from '@sluice/columnar';
import { DeltaTable, readTable, type DeltaColumn } from '@sluice/delta';
import { summarise } from '../../cli/lakeTables.ts';
import { createLogger } from '@sluice/runtime';
import { openStore } from '@sluice/storage';
import { storeOptionsOf, tableLocation } from '../../services/sink/main.ts';
import { TableWriter } from '../../services/sink/tableWriter.ts';
import { findMinio, startS3Server, type S3ServerHandle } from '../support/s3Server.ts';

const required = process.env.SLUICE_REQUIRE_OBJECT_STORES === '1';
const hasMinio = findMinio() !== null;
if (!hasMinio && !required) console.warn('skipping sink-on-S3 test: minio is not installed (run scripts/install-s3-server.sh, or set SLUICE_MINIO_BIN)');

const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;

describe.skipIf(!hasMinio && !required)('sink TableWriter on S3 (MinIO)', () => {
  let server: S3ServerHandle;
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};
  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket('lake');
    for (const k of ENV_KEYS) saved[k] = process.env[k];
    process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
    process.env.AWS_REGION = server.region;
  }, 90_000);
  afterAll(async () => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await server?.stop();
  });

  it('writes two batches with txn; a reopen resumes after them', async () => {
    const lakePath = `s3://lake/sink-${randomUUID()}/`;
    const root = tableLocation(lakePath, 'silver', 'x');
    expect(root).toBe(`${lakePath}silver/x`);
    const storeOptions = storeOptionsOf({ s3: { endpoint: server.endpoint } }); // what `sink.storage` in the YAML gives
    expect(storeOptions).toEqual({ s3: { endpoint: server.endpoint } });
    const columns: DeltaColumn[] = [
      { name: 'id', type: 'long', nullable: false },
      { name: 'day', type: 'date', nullable: false },
    ];
    const log = createLogger('test', 'silent');
    const policy = { maxRows: 1, maxBytes: 1 << 30, maxLatencySeconds: 60 };
    const open = () => TableWriter.open({ name: 'x', root, columns, partitionBy: ['day'], description: 'test', appId: 'sluice-sink-silver-x', policy, log, storeOptions, onFatal: (e) => { throw e; } });
    const batch = (ids: number[]) => {
      const b = new ColumnBuilder(columns);
      for (const id of ids) b.append({ id, day: 19_000 + (id % 2) });
      return b.build();
    };

    const w1 = await open();
    expect(w1.committedSeq).toBe(-1);
    await w1.write(10, batch([1, 2, 3]), 30);
    await w1.write(11, batch([4, 5]), 20);
    expect(w1.committedSeq).toBe(11);
    await w1.close();

    const w2 = await open();
    expect(w2.committedSeq).toBe(11);
    await w2.write(11, batch([99]), 10); // already committed: not written again
    await w2.write(12, batch([6]), 10);
    expect(w2.committedSeq).toBe(12);
    await w2.close();

    const read = await readTable(root, { storeOptions });
    expect(read.version).toBe(3);
    expect(read.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const log0 = (await openStore(root, storeOptions).list('_delta_log/')).map((o) => o.key);
    expect(log0).toEqual(['_delta_log/00000000000000000000.json', '_delta_log/00000000000000000001.json', '_delta_log/00000000000000000002.json', '_delta_log/00000000000000000003.json']);
  }, 120_000);

  it('`sluice tables` summarises the tables of an s3:// lake at the locations the sink writes', async () => {
    const lakePath = `s3://lake/cli-${randomUUID()}`;
    const storeOptions = { s3: { endpoint: server.endpoint } };
    const columns: DeltaColumn[] = [{ name: 'id', type: 'long', nullable: false }];
    for (const [layer, name, n] of [['bronze', 'bronze', 3], ['gold', 'alerts', 2]] as const) {
      const t = await DeltaTable.openOrCreate(tableLocation(lakePath, layer, name), { columns, partitionBy: [], storeOptions });
      const b = new ColumnBuilder(columns);
      for (let i = 0; i < n; i++) b.append({ id: i });
      await t.append(b.build());
    }
    const tables = await summarise(lakePath, storeOptions);
    expect(tables.map((t) => [t.name, t.rows, t.files, t.version])).toEqual([
      ['bronze/bronze', 3, 1, 1],
      ['gold/alerts', 2, 1, 1],
    ]);
    expect(tables[0]!.path).toBe(`${lakePath}/bronze/bronze`);
  }, 60_000);
});
