// sink: writes Delta tables at every layer — bronze (RAW), silver (EVENTS), gold alerts and ip_lookup (ALERTS), quarantine,
// unrouted (catch-all categories). Exactly-once via txn(appId, stream sequence) in each commit; ack after commit.
// Several replicas may run: each writes the silver event partitions it owns (p % sink.replicas == sink.replica);
// replica 0 alone writes the other layers. A silver envelope whose schema the table cannot take is quarantined.
import { join } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import { wasmMemory } from 'parquet-wasm';
import type { Table } from 'apache-arrow';
import type { DeltaColumn } from '@sluice/delta';
import { createLakeMetrics, InFlightBytes, isMain, runService, STREAMS, subjects, type InputMessage, type InputSpec, type ServiceDefinition } from '@sluice/runtime';
import type { OpenStoreOptions } from '@sluice/storage';
import { alertsTable, allTables, bronzeTable, fullColumnsOf, ipLookupTable, quarantineTable, unroutedTable, type TableDefinition } from '@sluice/tables';
import { alertRows, bronzeRows, goldRows, quarantineRows, silverTable, unroutedRows } from './batchToTable.ts';
import { tableHandler, type HandlerState } from './handler.ts';
import { lakeStats } from './lakeMetrics.ts';
import { bronzePartitionIds, silverPartitionIds, sinkPlacement } from './replicas.ts';
import { BufferBudget, TableWriter, type FlushPolicy } from './tableWriter.ts';

export interface SinkConfig {
  sink: {
    lakePath: string;
    flush: FlushPolicy & { maxBufferedBytes: number; maxInFlightBytes: number };
    layers: { bronze: boolean; silver: boolean; gold: boolean; quarantine: boolean; unrouted: boolean };
    /** This replica (0-based) of `replicas`; it writes silver partitions p with p % replicas == replica. */
    replica: number;
    replicas: number;
    /** How to reach an object-store lakePath. Secrets never come from here: the SDKs' env chains supply them. */
    storage?: SinkStorageConfig;
  };
}

export interface SinkStorageConfig {
  /** For s3:// lakes on S3-compatible servers (MinIO...): endpoint, region, path-style addressing. */
  s3?: { endpoint?: string; region?: string; forcePathStyle?: boolean };
}

/** The sink's storage section → options for openStore (no credentials: those come from the environment). */
export function storeOptionsOf(storage: SinkStorageConfig | undefined): OpenStoreOptions {
  const s3 = storage?.s3;
  if (!s3) return {};
  const opts: NonNullable<OpenStoreOptions['s3']> = {};
  if (s3.endpoint !== undefined) opts.endpoint = s3.endpoint;
  if (s3.region !== undefined) opts.region = s3.region;
  if (s3.forcePathStyle !== undefined) opts.forcePathStyle = s3.forcePathStyle;
  return { s3: opts };
}

/** `<lake>/<layer>/<table>` for a local path or an object-store URL (s3://, az://, file://). */
export function tableLocation(lakePath: string, ...parts: string[]): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(lakePath)) return [lakePath.replace(/\/+$/, ''), ...parts].join('/');
  return join(lakePath, ...parts);
}

export function deltaColumns(def: TableDefinition): DeltaColumn[] {
  return fullColumnsOf(def).map((c) => ({ name: c.name, type: c.type === 'json' ? 'string' : c.type, nullable: c.nullable ?? true }));
}

export const sink: ServiceDefinition<SinkConfig> = {
  name: 'sink',
  description: 'writes bronze, silver, gold and quarantine Delta tables, exactly once',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      replica: { type: 'integer', minimum: 0, default: 0, description: 'this replica (0-based); writes the silver event partitions p with p % replicas == replica; replica 0 also writes bronze, gold, quarantine, unrouted' },
      replicas: { type: 'integer', minimum: 1, default: 1, description: 'sink replicas sharing the silver event partitions (streams.eventPartitions)' },
      lakePath: { type: 'string', default: './lake', description: 'local folder or object-store URL: s3://bucket/prefix, az://container/prefix' },
      flush: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          maxRows: { type: 'integer', minimum: 1, default: 200_000 },
          // 32 MiB of Arrow IPC (≈ 23 000 Defender rows) per flush and 8 MiB per data file keep the sink's memory near
          // its budget: the buffered envelopes plus one file's copy and parquet-wasm's heap (≈ 2× the largest file, kept).
          maxBytes: { type: 'integer', minimum: 1, default: 32 * 1024 * 1024 },
          maxLatencySeconds: { type: 'number', exclusiveMinimum: 0, default: 10 },
          maxFileBytes: { type: 'integer', minimum: 1, default: 8 * 1024 * 1024, description: 'input bytes per data file at most: a partition above it gets several files in one commit' },
          maxBufferedBytes: {
            type: 'integer',
            minimum: 1,
            default: 96 * 1024 * 1024,
            description: 'input bytes buffered across all tables and partitions of this process at most: above it the table holding the most flushes early',
          },
          maxInFlightBytes: {
            type: 'integer',
            minimum: 1,
            default: 64 * 1024 * 1024,
            description: 'input message bytes this process holds until their commit (buffered and flushing) at most: above it every input stops pulling until a commit frees room',
          },
        },
      },
      storage: {
        type: 'object',
        additionalProperties: false,
        description: 'how to reach an object-store lakePath; credentials come only from the environment (AWS_*, AZURE_STORAGE_*)',
        properties: {
          s3: {
            type: 'object',
            additionalProperties: false,
            properties: {
              endpoint: { type: 'string', description: 'S3-compatible server, e.g. http://minio:9000 (default: AWS, or env AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)' },
              region: { type: 'string', description: 'default: env AWS_REGION / AWS_DEFAULT_REGION, else us-east-1' },
              forcePathStyle: { type: 'boolean', description: 'path-style addressing; default true when endpoint is set' },
            },
          },
        },
      },
      layers: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: Object.fromEntries(['bronze', 'silver', 'gold', 'quarantine', 'unrouted'].map((k) => [k, { type: 'boolean', default: true }])),
      },
    },
  },
  async setup({ config, log, metrics }) {
    const { lakePath, flush } = config.sink;
    const placement = sinkPlacement(config.streams.eventPartitions, config.sink.replica, config.sink.replicas, config.streams.rawPartitions);
    // The unpartitioned low-volume inputs (ALERTS, QUARANTINE, unrouted CATEGORIZED) have one writer: replica 0.
    const only0 = placement.writesUnpartitionedLayers;
    const layers = { ...config.sink.layers, gold: config.sink.layers.gold && only0, quarantine: config.sink.layers.quarantine && only0, unrouted: config.sink.layers.unrouted && only0 };
    log.info({ replica: placement.replica, replicas: placement.replicas, eventPartitions: config.streams.eventPartitions, silverPartitions: placement.partitions, rawPartitions: placement.rawPartitions }, 'sink placement');
    if (config.sink.layers.silver && placement.partitions.length === 0) log.warn({ replica: placement.replica }, 'this replica owns no event partition (sink.replicas > streams.eventPartitions): no silver writes');
    const storeOptions = storeOptionsOf(config.sink.storage);
    const commits = new Counter({ name: 'sluice_delta_commits_total', help: 'Delta commits by table', labelNames: ['table'], registers: [metrics.registry] });
    const rows = new Counter({ name: 'sluice_delta_rows_total', help: 'Rows committed by table', labelNames: ['table'], registers: [metrics.registry] });
    const files = new Counter({ name: 'sluice_delta_files_total', help: 'Data files added by table', labelNames: ['table'], registers: [metrics.registry] });
    const commitSeconds = new Histogram({ name: 'sluice_delta_commit_seconds', help: 'Time to write and commit a flush', labelNames: ['table'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: [metrics.registry] });
    const lake = lakeStats(createLakeMetrics(metrics.registry), new Map(allTables().map((d) => [d.name, d])));
    const state: HandlerState = { fatal: undefined };
    const writers: TableWriter[] = [];
    const budget = new BufferBudget(flush.maxBufferedBytes);
    // Messages stay in flight until their commit; the budget bounds only what is buffered, not what is being flushed
    // nor what the inputs pulled meanwhile (each held message is its NATS buffer plus its decoded Arrow table).
    const inFlightBytes = new InFlightBytes(flush.maxInFlightBytes, () => budget.flushLargest());
    const open = async (def: TableDefinition, appId: string) => {
      const w = await TableWriter.open({
        name: def.name,
        root: tableLocation(lakePath, def.layer, def.name),
        columns: deltaColumns(def),
        partitionBy: def.partitionBy,
        description: def.doc,
        appId,
        policy: flush,
        log,
        stats: {
          onCommit: (t, n, f, s) => {
            commits.inc({ table: t });
            rows.inc({ table: t }, n);
            files.inc({ table: t }, f);
            commitSeconds.observe({ table: t }, s);
          },
          ...lake,
        },
        onFatal: (e) => (state.fatal = e),
        storeOptions,
        budget,
      });
      writers.push(w);
      return w;
    };
    // Where the sink's memory goes (RSS alone does not say): input bytes held until their commit, the part of them
    // buffered under the budget, and parquet-wasm's linear memory (grows to the largest file, never shrinks).
    new Gauge({ name: 'sluice_sink_in_flight_bytes', help: 'Input message bytes held until their commit (flush.maxInFlightBytes bounds it)', registers: [metrics.registry], collect() { this.set(inFlightBytes.bytes); } });
    new Gauge({ name: 'sluice_sink_buffered_bytes', help: 'Input bytes buffered across tables, not yet flushing (flush.maxBufferedBytes bounds it)', registers: [metrics.registry], collect() { this.set(budget.bytes); } });
    new Gauge({ name: 'sluice_sink_wasm_memory_bytes', help: "parquet-wasm's linear memory", registers: [metrics.registry], collect() { this.set(wasmMemory().buffer.byteLength); } });
    const guarded = (w: TableWriter, toTable: (m: InputMessage) => Table, opts: { checkSchema?: boolean } = {}) => tableHandler(w, toTable, state, opts);
    // A buffering stage must hold a whole flush worth of messages in flight.
    const maxInFlight = 4096;
    const inputs: InputSpec[] = [];
    if (layers.bronze) {
      // Like silver: one consumer and one txn appId per owned raw partition, so replicas append to bronze together.
      for (const p of placement.rawPartitions) {
        const ids = bronzePartitionIds(p);
        const w = await open(bronzeTable, ids.appId);
        inputs.push({ stream: STREAMS.raw.name, durable: ids.durable, filterSubject: subjects.rawPartition(p), maxInFlight, inFlightBytes, resumeAfterSeq: w.committedSeq, handler: guarded(w, (m) => bronzeRows(m, bronzeTable)) });
      }
    }
    if (layers.silver) {
      // One consumer and one TableWriter (own txn appId, so own position) per owned partition of each table:
      // their appends to the same Delta table commute (optimistic concurrency; appends never conflict).
      for (const def of allTables().filter((t) => t.layer === 'silver')) {
        for (const p of placement.partitions) {
          const ids = silverPartitionIds(def.name, p);
          const w = await open(def, ids.appId);
          inputs.push({ stream: STREAMS.events.name, durable: ids.durable, filterSubject: subjects.events(def.name, p), maxInFlight, inFlightBytes, resumeAfterSeq: w.committedSeq, handler: guarded(w, silverTable, { checkSchema: true }) });
        }
      }
    }
    if (layers.gold) {
      const w = await open(alertsTable, 'sluice-sink-gold-alerts');
      inputs.push({ stream: STREAMS.alerts.name, durable: 'sink-gold-alerts', filterSubject: 'alerts.>', maxInFlight, inFlightBytes, resumeAfterSeq: w.committedSeq, handler: guarded(w, (m) => alertRows(m, alertsTable)) });
      // Gold rows a detector rule emits (ip_attribution → gold.ip_lookup): same stream, own durable and txn appId.
      const ip = await open(ipLookupTable, 'sluice-sink-gold-ip_lookup');
      inputs.push({ stream: STREAMS.alerts.name, durable: 'sink-gold-ip_lookup', filterSubject: subjects.gold(ipLookupTable.name), maxInFlight, inFlightBytes, resumeAfterSeq: ip.committedSeq, handler: guarded(ip, (m) => goldRows(m, ipLookupTable)) });
    }
    if (layers.quarantine) {
      const w = await open(quarantineTable, 'sluice-sink-quarantine');
      inputs.push({ stream: STREAMS.quarantine.name, durable: 'sink-quarantine', filterSubject: 'quarantine.>', maxInFlight, inFlightBytes, resumeAfterSeq: w.committedSeq, handler: guarded(w, (m) => quarantineRows(m, quarantineTable)) });
    }
    if (layers.unrouted) {
      const w = await open(unroutedTable, 'sluice-sink-unrouted');
      inputs.push({ stream: STREAMS.categorized.name, durable: 'sink-unrouted', filterSubject: 'cat.*._unknown', maxInFlight, inFlightBytes, resumeAfterSeq: w.committedSeq, handler: guarded(w, (m) => unroutedRows(m, unroutedTable)) });
    }
    return { inputs, stop: async () => void (await Promise.all(writers.map((w) => w.close()))) };
  },
};

if (isMain(import.meta.url)) await runService(sink);
