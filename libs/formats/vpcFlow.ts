// AWS VPC (and Transit Gateway) flow log records: the known field names, the header line that announces a custom
// field order, and one record (a space-separated text line, or an object from a Parquet row) → an object keyed by
// column name (`account-id` → `account_id`), with `-` (no value) as null. Pure: no I/O, no table knowledge.

/** The default format (version 2), in order: what a line without a header line carries. */
export const VPC_FLOW_V2_FIELDS: readonly string[] = Object.freeze([
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
]);

/** Every VPC flow log field, in the order of the AWS "available fields" table (versions 2, 3, 4, 5, 7, 8, newer). */
export const VPC_FLOW_FIELDS: readonly string[] = Object.freeze([
  ...VPC_FLOW_V2_FIELDS,
  // version 3
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  // version 4
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  // version 5
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
  // version 7 (ECS)
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
  // version 8
  'reject-reason',
  // newer
  'encryption-status',
]);

/** Transit Gateway flow logs: their default format (version 6), which is also every TGW field in order. */
export const TGW_FLOW_FIELDS: readonly string[] = Object.freeze([
  'version',
  'resource-type',
  'account-id',
  'tgw-id',
  'tgw-attachment-id',
  'tgw-src-vpc-account-id',
  'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id',
  'tgw-dst-vpc-id',
  'tgw-src-subnet-id',
  'tgw-dst-subnet-id',
  'tgw-src-eni',
  'tgw-dst-eni',
  'tgw-src-az-id',
  'tgw-dst-az-id',
  'tgw-pair-attachment-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'log-status',
  'type',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
  'tcp-flags',
  'region',
  'flow-direction',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([...VPC_FLOW_FIELDS, ...TGW_FLOW_FIELDS]);

/** Field counts of "all fields up to version N" lines written without a header (2, 3, 4, 5, 7, 8). */
const CUMULATIVE_LAYOUTS: ReadonlyMap<number, readonly string[]> = new Map(
  [14, 21, 25, 29, 39, 40].map((n) => [n, VPC_FLOW_FIELDS.slice(0, n)] as const),
);

const FIELD_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function isKnownVpcFlowField(name: string): boolean {
  return KNOWN_FIELDS.has(name);
}

/** Column name of a field: `account-id` → `account_id` (the names AWS uses in its Parquet schema). */
export function vpcFlowColumnName(field: string): string {
  return field.replaceAll('-', '_');
}

/** Field name of a column or Parquet key: `account_id` / `Account-ID` → `account-id`. */
export function vpcFlowFieldName(key: string): string {
  return key.trim().toLowerCase().replaceAll('_', '-');
}

/** Splits a text record on runs of blanks (AWS writes single spaces; tabs and doubled spaces are tolerated). */
export function splitVpcFlowLine(line: string): string[] {
  const t = line.trim();
  return t === '' ? [] : t.split(/[ \t]+/);
}

/**
 * Is this line a header announcing the field order? Every token must look like a field name (lower-case words
 * joined by hyphens) and at least half of them must be known fields — so a header naming a field AWS added after
 * this list is still a header, while a data line (numbers, addresses, `vpc-0abc…` ids) never is.
 */
export function isVpcFlowHeader(line: string): boolean {
  // Cheap exit for data lines (they start with a digit, `-` or `{`): this runs on every line of every file.
  const c = line.trimStart().charCodeAt(0);
  if (!(c >= 0x61 && c <= 0x7a)) return false;
  const tokens = splitVpcFlowLine(line);
  if (tokens.length === 0) return false;
  let known = 0;
  for (const t of tokens) {
    if (!FIELD_NAME.test(t)) return false;
    if (KNOWN_FIELDS.has(t)) known++;
  }
  return known * 2 >= tokens.length;
}

/** The field order announced by the last header line of a preamble, or undefined when it has none. */
export function fieldsFromPreamble(preamble: readonly string[]): string[] | undefined {
  for (let i = preamble.length - 1; i >= 0; i--) {
    const line = preamble[i]!;
    if (isVpcFlowHeader(line)) return splitVpcFlowLine(line);
  }
  return undefined;
}

/**
 * Field order for a line that arrived without a header: the default v2 format (14 fields), Transit Gateway's default
 * (36 fields, `tgw-…` id in 4th place), or "every field up to version N" in the documented order (21, 25, 29, 39, 40
 * fields), which is what a custom format selecting all fields writes. Undefined when none fits.
 */
export function inferVpcFlowFields(tokens: readonly string[]): readonly string[] | undefined {
  if (tokens.length === TGW_FLOW_FIELDS.length && (tokens[3]?.startsWith('tgw-') || tokens[1] === 'TransitGateway')) {
    return TGW_FLOW_FIELDS;
  }
  return CUMULATIVE_LAYOUTS.get(tokens.length);
}

/** A decoded flow record: column name → text value (or the Parquet value), null for `-`. */
export type VpcFlowValue = string | number | boolean | null;
export interface VpcFlowRecord {
  [column: string]: VpcFlowValue | Record<string, unknown> | undefined;
  /** Fields this parser does not know (a newer format), by field name: kept rather than lost. */
  _rescued_data?: Record<string, unknown>;
}

/** Why a line does not decode; the caller turns it into its own error type. */
export class VpcFlowFormatError extends Error {
  constructor(
    readonly rule: string,
    reason: string,
  ) {
    // A record-level error is data, not a bug: no stack trace (capturing one made bad records ~10x slower to reject).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason);
    Error.stackTraceLimit = limit;
    this.name = 'VpcFlowFormatError';
  }
}

function rescue(out: VpcFlowRecord, key: string, value: unknown): void {
  out._rescued_data ??= {};
  // "__proto__" from JSON.parse is an own key: define it rather than set the prototype.
  Object.defineProperty(out._rescued_data, key, { value, enumerable: true, writable: true, configurable: true });
}

function put(out: VpcFlowRecord, field: string, value: unknown): void {
  const v = value === '-' || value === undefined ? null : value;
  if (KNOWN_FIELDS.has(field)) out[vpcFlowColumnName(field)] = v as VpcFlowValue;
  else if (v !== null) rescue(out, field, v);
}

/**
 * One text line → record. `fields` is the order from the file's header line; without one the order is inferred
 * (inferVpcFlowFields). Throws VpcFlowFormatError when the token count does not match.
 */
export function parseVpcFlowLine(line: string, fields?: readonly string[]): VpcFlowRecord {
  const tokens = splitVpcFlowLine(line);
  if (tokens.length === 0) throw new VpcFlowFormatError('empty', 'empty flow log line');
  const order = fields ?? inferVpcFlowFields(tokens);
  if (!order) {
    throw new VpcFlowFormatError(
      'field_count',
      `${tokens.length} fields and no header line: expected the default version 2 format (14 fields) or a header announcing the custom format`,
    );
  }
  if (tokens.length !== order.length) {
    throw new VpcFlowFormatError(
      'field_count',
      `${tokens.length} fields but the ${fields ? 'header line' : 'inferred format'} announces ${order.length} (${order.slice(0, 4).join(' ')} …)`,
    );
  }
  const out: VpcFlowRecord = {};
  for (let i = 0; i < order.length; i++) put(out, order[i]!, tokens[i]);
  return out;
}

/**
 * A flow record delivered as an object (a Parquet row turned into JSON by the collector): keys hyphenated
 * (`account-id`) or underscored (`account_id`, AWS's Parquet schema), values as they come; `-` and null are absent.
 */
export function normalizeVpcFlowObject(obj: Readonly<Record<string, unknown>>): VpcFlowRecord {
  const out: VpcFlowRecord = {};
  for (const key of Object.keys(obj)) {
    const field = vpcFlowFieldName(key);
    const value = obj[key];
    if (KNOWN_FIELDS.has(field)) put(out, field, value);
    else if (value !== null && value !== undefined && value !== '-') rescue(out, key, value);
  }
  return out;
}

/** Does an object carry at least one known flow field (by hyphenated or underscored name)? */
export function hasVpcFlowFields(obj: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(obj).some((k) => KNOWN_FIELDS.has(vpcFlowFieldName(k)));
}
