// Parquet encoding of data files through parquet-wasm (arrow-rs): Arrow table → zstd Parquet bytes and back.
// Arrow crosses the JS/wasm boundary as an IPC stream; parquet-wasm consumes the wasm objects it is given.
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { Compression, EnabledStatistics, readParquet, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';

export interface EncodeOptions {
  /** Columns written without dictionary encoding (values that rarely repeat: a dictionary only costs there). */
  plainColumns?: readonly string[];
}

/**
 * Zstd-compressed Parquet bytes of `table`. Timestamp(µs, UTC) columns become INT64 TIMESTAMP(MICROS,
 * isAdjustedToUTC=true), Date32 → INT32 DATE, Utf8 → BYTE_ARRAY STRING: the mappings PROTOCOL.md lists.
 */
export function encodeParquet(table: Table, opts: EncodeOptions = {}): Uint8Array {
  return encodeParquetIpc(tableToIPC(table, 'stream'), opts);
}

/** encodeParquet of the table in Arrow IPC stream `ipc` (copied into wasm memory: the bytes may be reused after). */
export function encodeParquetIpc(ipc: Uint8Array, opts: EncodeOptions = {}): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(ipc);
  // parquet-wasm defaults to no compression; sinks write many small files, zstd keeps them small.
  let props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    // No Parquet min/max/null counts: Delta readers skip files by the add action's stats, which we write exactly,
    // and a file is one row group. Computing them cost ≈ 10 % of the encode.
    .setStatisticsEnabled(EnabledStatistics.None)
    .setCreatedBy('sluice delta writer')
    // Spark decides a file's calendar from this footer key; without it, Spark 3.x refuses timestamps before 1900
    // (e.g. .NET's DateTime.MinValue in Defender data). We write proleptic-Gregorian µs, which is what a Spark 3
    // writer without org.apache.spark.legacyDateTime means, so Spark reads the values as they are.
    .setKeyValueMetadata(new Map([['org.apache.spark.version', '3.5.0']]));
  for (const c of opts.plainColumns ?? []) props = props.setColumnDictionaryEnabled(c, false);
  return writeParquet(wasmTable, props.build());
}

/** Decodes a Parquet file (any codec arrow-rs supports: snappy, zstd, gzip...) into an Arrow JS table. */
export function decodeParquet(bytes: Uint8Array): Table {
  return tableFromIPC(readParquet(bytes).intoIPCStream());
}
