// A batch of rows as detection rules see it: column arrays by name, whatever the wire encoding was
// (Arrow IPC events, NDJSON quarantine records). Columns are materialised once per batch, on first use.
import type { Table } from 'apache-arrow';
import { readStrings } from '@sluice/columnar';

export type Cell = string | number | boolean | null;

export interface EventBatch {
  /** Input name: the table for events, `quarantine` for quarantine records. */
  readonly input: string;
  readonly numRows: number;
  /** Every value of a column (null where null); undefined when the batch has no such column. */
  column(name: string): readonly Cell[] | undefined;
}

/** Arrow batch: strings via the fast reader, timestamps as epoch ms (apache-arrow's view), Int64 as numbers. */
export function arrowBatch(input: string, table: Table): EventBatch {
  const cache = new Map<string, readonly Cell[] | undefined>();
  return {
    input,
    numRows: table.numRows,
    column(name) {
      if (cache.has(name)) return cache.get(name);
      const vec = table.getChild(name);
      let out: Cell[] | undefined;
      if (vec) {
        const typeId = String(vec.type);
        if (typeId === 'Utf8') out = readStrings(table, name);
        else {
          out = new Array<Cell>(table.numRows);
          for (let r = 0; r < table.numRows; r++) out[r] = toCell(vec.get(r));
        }
      }
      cache.set(name, out);
      return out;
    },
  };
}

/** Plain objects (decoded NDJSON records), one per row. */
export function objectBatch(input: string, rows: readonly Record<string, unknown>[]): EventBatch {
  const cache = new Map<string, readonly Cell[] | undefined>();
  return {
    input,
    numRows: rows.length,
    column(name) {
      if (cache.has(name)) return cache.get(name);
      const present = rows.some((r) => name in r);
      const out = present ? rows.map((r) => toCell(r[name])) : undefined;
      cache.set(name, out);
      return out;
    },
  };
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.getTime();
  return JSON.stringify(v);
}

/** String value of a cell ('' for null), trimmed. */
export function str(v: Cell | undefined): string {
  return v === null || v === undefined ? '' : String(v).trim();
}

/** First non-empty value among columns (row r). */
export function firstOf(cols: readonly (readonly Cell[] | undefined)[], r: number): string {
  for (const c of cols) {
    const v = str(c?.[r]);
    if (v && v !== '-') return v;
  }
  return '';
}
