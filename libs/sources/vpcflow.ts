// AWS VPC flow logs (and Transit Gateway flow logs): space-separated text lines whose field order comes from the
// file's header line (default version 2 order without one), Parquet rows the collector turns into JSON objects
// (hyphenated or underscored keys), and lines wrapped as `{"message": "<line>"}` or CloudWatch Logs subscription
// batches. Every record goes to the one `flow` table.
import {
  fieldsFromPreamble,
  hasVpcFlowFields,
  isVpcFlowHeader,
  normalizeVpcFlowObject,
  parseVpcFlowLine,
  splitVpcFlowLine,
  VpcFlowFormatError,
  type VpcFlowRecord,
} from '@sluice/formats';
import { encodeJson, routeGuarded } from './jsonRecords.ts';
import { RecordError, type Rejected, type RouteResult, type Routed, type SourceFamily } from './sourceFamily.ts';
import { VPC_FLOW_CATEGORY, vpcflowTables } from '@sluice/tables/vpcflow';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** First byte that is not a blank (or a UTF-8 BOM byte), or -1. */
function firstByte(raw: Uint8Array): number {
  for (const c of raw) if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a && c !== 0xef && c !== 0xbb && c !== 0xbf) return c;
  return -1;
}

/**
 * CloudWatch Logs subscription payload (`{"messageType":"DATA_MESSAGE","logEvents":[{"message":…}]}`) → its messages,
 * and the log events that carry no string message (each must still be accounted for: the caller rejects them).
 */
export function cloudWatchMessages(value: unknown): { messages: string[]; invalid: unknown[] } | 'control' | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (o.messageType === 'CONTROL_MESSAGE') return 'control';
  if (o.messageType !== 'DATA_MESSAGE' || !Array.isArray(o.logEvents)) return undefined;
  const messages: string[] = [];
  const invalid: unknown[] = [];
  for (const e of o.logEvents as unknown[]) {
    const m = e && typeof e === 'object' ? (e as Record<string, unknown>).message : undefined;
    if (typeof m === 'string') messages.push(m);
    else invalid.push(e);
  }
  return { messages, invalid };
}

/** Rejections for CloudWatch Logs events without a message; an empty DATA_MESSAGE counts as skipped. */
export function rejectCloudWatchEvents(cw: { messages: string[]; invalid: unknown[] }, out: { rejected: Rejected[]; skipped: number }): void {
  for (const e of cw.invalid) out.rejected.push({ raw: encodeJson(e), rule: 'parse', reason: 'CloudWatch Logs event without a string "message"' });
  if (cw.messages.length === 0 && cw.invalid.length === 0) out.skipped++;
}

function routeOne(raw: Uint8Array, state: { header?: string[] }, out: RouteResult & { skipped: number }): void {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    out.rejected.push({ raw, rule: 'encoding', reason: 'flow log record is not valid UTF-8' });
    return;
  }
  if (firstByte(raw) === 0x7b /* { */) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (e) {
      out.rejected.push({ raw, rule: 'parse', reason: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const messages = cloudWatchMessages(value);
    if (messages === 'control') out.skipped++;
    else if (messages) {
      for (const m of messages.messages) out.routed.push({ category: VPC_FLOW_CATEGORY, record: enc.encode(m) });
      rejectCloudWatchEvents(messages, out);
    }
    else out.routed.push({ category: VPC_FLOW_CATEGORY, record: raw });
    return;
  }
  if (isVpcFlowHeader(text)) {
    // A header the collector did not strip (e.g. a file POSTed whole): it applies to the lines after it here.
    state.header = splitVpcFlowLine(text);
    out.skipped++;
    return;
  }
  if (!state.header) {
    out.routed.push({ category: VPC_FLOW_CATEGORY, record: raw });
    return;
  }
  // The parser only sees the collector's preamble, so a line under an in-envelope header travels as an object.
  const tokens = splitVpcFlowLine(text);
  if (tokens.length !== state.header.length) {
    out.rejected.push({
      raw,
      rule: 'field_count',
      reason: `${tokens.length} fields but the header line announces ${state.header.length}`,
    });
    return;
  }
  const obj: Record<string, string> = {};
  state.header.forEach((f, i) => Object.defineProperty(obj, f, { value: tokens[i], enumerable: true }));
  out.routed.push({ category: VPC_FLOW_CATEGORY, record: encodeJson(obj) });
}

/** Header field order per preamble array (the same array serves every record of an envelope). */
const headerCache = new WeakMap<readonly string[], string[] | null>();

function headerOf(preamble: readonly string[]): string[] | undefined {
  let fields = headerCache.get(preamble);
  if (fields === undefined) {
    fields = fieldsFromPreamble(preamble) ?? null;
    headerCache.set(preamble, fields);
  }
  return fields ?? undefined;
}

function parseText(text: string, preamble: readonly string[]): VpcFlowRecord {
  const c = text.trimStart().charCodeAt(0);
  if (c >= 0x61 && c <= 0x7a && isVpcFlowHeader(text)) throw new RecordError('header', 'a header line, not a flow record');
  try {
    return parseVpcFlowLine(text, headerOf(preamble));
  } catch (e) {
    if (e instanceof VpcFlowFormatError) throw new RecordError(e.rule, e.message);
    throw e;
  }
}

/**
 * One routed flow record → the object the `vpc_flow` columns read: a text line (field order from the preamble's
 * header line, else inferred), a JSON object (Parquet row; `{"message": "<line>"}` wraps a text line). Throws
 * RecordError for bytes that are not UTF-8, bad JSON, non-objects and lines whose field count fits no format.
 */
export function decodeVpcFlowRecord(record: Uint8Array, preamble: readonly string[]): VpcFlowRecord {
  let text: string;
  try {
    text = utf8.decode(record);
  } catch {
    throw new RecordError('encoding', 'flow log record is not valid UTF-8');
  }
  if (firstByte(record) !== 0x7b /* { */) return parseText(text, preamble);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new RecordError('parse', `invalid JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new RecordError('not_object', 'flow log JSON record is not an object');
  const obj = value as Record<string, unknown>;
  if (typeof obj.message === 'string' && !hasVpcFlowFields(obj)) return parseText(obj.message, preamble);
  if (!hasVpcFlowFields(obj)) throw new RecordError('no_flow_fields', 'JSON object has none of the flow log fields');
  return normalizeVpcFlowObject(obj);
}

export const vpcflowFamily: SourceFamily = {
  name: 'vpcflow',
  title: 'AWS VPC and Transit Gateway flow logs (text with header line, default v2, or Parquet rows as JSON)',
  tables: vpcflowTables,
  isPreamble: (line) => isVpcFlowHeader(line),
  route(records): RouteResult {
    const out = { routed: [] as Routed[], rejected: [] as Rejected[], skipped: 0 };
    const state: { header?: string[] } = {};
    for (const raw of records) routeGuarded(raw, out, () => routeOne(raw, state, out));
    return out;
  },
  decode(record, _category, ctx) {
    try {
      return decodeVpcFlowRecord(record, ctx.preamble);
    } catch (e) {
      if (e instanceof RecordError) throw e;
      throw new RecordError('decode', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
};
