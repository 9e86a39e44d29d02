// Arrow IPC stream encoding: the wire format of record batches after the parser.
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';

export function encodeIpc(table: Table): Uint8Array {
  return tableToIPC(table, 'stream');
}

export function decodeIpc(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}
