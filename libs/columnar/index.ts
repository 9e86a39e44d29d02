export { ColumnBuilder, type CellValue } from './columnBuilder.ts';
export { arrowSchema, arrowType, mapRowToObject, stringMapType, tableToRows, type ColumnSpec } from './arrowTypes.ts';
export { decodeIpc, encodeIpc } from './ipc.ts';
export { readStrings } from './readColumn.ts';
export * as flatbuf from './flatbuf.ts';
