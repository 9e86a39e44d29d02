// A source family is everything sluice knows about one log format: how the splitter routes its raw records to
// categories, how the parser turns one routed record into an object for its table's coercion, and its tables.
// Adding a family is data plus two small functions; the splitter, parser, sink and docs stay generic.
import type { TableDefinition } from '@sluice/tables';

/** Where a record came from, shared by all records of one envelope. */
export interface RecordContext {
  /** Configured source name (the `raw.<source>` subject token), e.g. `zeek-dc1`. */
  source: string;
  /** Object the records came from: file path / object key, `topic:partition`, `udp:10.0.0.1:514`, HTTP request id. */
  object: string;
  /**
   * Header lines that describe the lines after them in the same file (Zeek `#separator`/`#fields`/`#types`/`#path`,
   * the VPC flow log header line). The collector strips them from the records (see `isPreamble`) and carries the
   * latest set on every envelope of that file, so any batch can be decoded alone.
   */
  preamble: readonly string[];
  /** When the collector ingested the envelope (ISO-8601), for records that carry no time of their own. */
  ingestTime?: string;
}

/** One routed record: the category token (subject-safe: [A-Za-z0-9_-]) and the bytes the parser will decode. */
export interface Routed {
  category: string;
  record: Uint8Array;
}

/** A record that cannot be routed or decoded: goes to quarantine with the rule and reason, raw bytes kept. */
export interface Rejected {
  raw: Uint8Array;
  rule: string;
  reason: string;
}

export interface RouteResult {
  routed: Routed[];
  rejected: Rejected[];
  /** Records that carry no data and are skipped on purpose (e.g. Zeek `#close`), counted but not quarantined. */
  skipped?: number;
}

/** Thrown by `decode` for a record that cannot be decoded; the parser quarantines it with this rule and reason. */
export class RecordError extends Error {
  constructor(
    readonly rule: string,
    reason: string,
  ) {
    // A record-level error is data, not a bug: no stack trace (capturing one made bad records ~10x slower to reject).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason);
    Error.stackTraceLimit = limit;
    this.name = 'RecordError';
  }
}

/** Category for records of a family that has no table for them: they land in the `unrouted` table. */
export const UNKNOWN_CATEGORY = '_unknown';

export interface SourceFamily {
  /** Family id used in configuration (`family: zeek`), e.g. `defender`, `zeek`, `cloudtrail`. */
  name: string;
  /** One line for docs and `--help`. */
  title: string;
  /** Category token → silver (or gold) table. Category tokens appear in subjects: `cat.<source>.<category>`. */
  tables: Readonly<Record<string, TableDefinition>>;
  /**
   * Collector: is this line (of a line-framed file) a header describing the following lines? Such lines are not
   * published as records; the collector keeps the latest run of them and sends it with every later envelope.
   * `index` is the line's position in the file (0 = first line).
   */
  isPreamble?(line: string, index: number): boolean;
  /**
   * Splitter: the raw records of one envelope (in order) → routed records. Explodes containers (`{"records":[...]}`),
   * reassembles multi-part messages within the envelope, names the category. Must not throw for bad input: bad
   * records go to `rejected`; unknown categories go to UNKNOWN_CATEGORY.
   */
  route(records: Uint8Array[], ctx: RecordContext): RouteResult;
  /**
   * Parser: one routed record of `category` → the object the table's columns are read from (ColumnDef.from paths).
   * Throws RecordError for input it cannot decode. Default when omitted: JSON.parse of the bytes.
   */
  decode?(record: Uint8Array, category: string, ctx: RecordContext): unknown;
}
