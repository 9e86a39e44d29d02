// Service configuration: one YAML file (the pipeline's), environment overrides, ajv validation with defaults.
// Errors name the key and what was expected, so a bad deployment fails at start with a message a person can act on.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Settings every service shares; each service adds its own section under its name. */
export interface CommonConfig {
  nats: { url: string; name?: string; user?: string; pass?: string; token?: string };
  http: { host: string; port: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
  streams: { replicas: number; maxAgeHours: number; duplicateWindowSeconds: number; storage: 'file' | 'memory'; maxBytes: number; eventPartitions: number; rawPartitions: number };
  consumer: { maxInFlight: number; fetchBatch: number; ackWaitSeconds: number; maxDeliver: number; backoffSeconds: number[] };
  shutdownGraceSeconds: number;
}

export const commonSchema = {
  nats: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      url: { type: 'string', default: 'nats://127.0.0.1:4222' },
      name: { type: 'string' },
      user: { type: 'string' },
      pass: { type: 'string' },
      token: { type: 'string' },
    },
    required: ['url'],
  },
  http: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 9100 },
    },
    required: ['host', 'port'],
  },
  log: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: { level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error'], default: 'info' } },
    required: ['level'],
  },
  streams: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      replicas: { type: 'integer', minimum: 1, maximum: 5, default: 1 },
      maxAgeHours: { type: 'number', exclusiveMinimum: 0, default: 168 },
      // Must exceed the longest redelivery delay so a replayed publish is recognised as a duplicate.
      duplicateWindowSeconds: { type: 'number', minimum: 1, default: 1200 },
      storage: { type: 'string', enum: ['file', 'memory'], default: 'file' },
      maxBytes: { type: 'integer', default: -1 },
      // The enricher spreads each table's events over events.<table>.<0…n-1>; silver sink replicas split the partitions.
      // Enricher and sink must read the same value (one pipeline YAML).
      eventPartitions: { type: 'integer', minimum: 1, maximum: 1024, default: 1 },
      rawPartitions: { type: 'integer', minimum: 1, maximum: 1024, default: 1, description: 'raw.<source>.<p> partitions: bronze sink replicas split them' },
    },
    required: ['replicas', 'maxAgeHours', 'duplicateWindowSeconds', 'storage', 'maxBytes', 'eventPartitions', 'rawPartitions'],
  },
  consumer: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      maxInFlight: { type: 'integer', minimum: 1, default: 8 },
      fetchBatch: { type: 'integer', minimum: 1, default: 32 },
      ackWaitSeconds: { type: 'number', minimum: 1, default: 30 },
      maxDeliver: { type: 'integer', minimum: 1, default: 8 },
      backoffSeconds: { type: 'array', items: { type: 'number', minimum: 0 }, default: [1, 2, 5, 10, 30] },
    },
    required: ['maxInFlight', 'fetchBatch', 'ackWaitSeconds', 'maxDeliver', 'backoffSeconds'],
  },
  shutdownGraceSeconds: { type: 'number', minimum: 0, default: 20 },
} as const;

export interface LoadOptions {
  /** The service's own section name (e.g. `parser`) and its JSON Schema. */
  section: string;
  sectionSchema: object;
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides applied last, e.g. from command-line flags: `{ 'parser.category': 'DeviceProcessEvents' }`. */
  overrides?: Record<string, unknown>;
}

export const ENV_PREFIX = 'SLUICE__';

/**
 * Loads `file` (or `$SLUICE_CONFIG`), applies `SLUICE__A__B=value` environment overrides (value parsed as YAML,
 * so numbers and booleans keep their types), validates and fills defaults. Throws ConfigError naming every bad key.
 */
export function loadConfig<T>(opts: LoadOptions): CommonConfig & T {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.SLUICE_CONFIG;
  let doc: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config: cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new Error('the document must be a mapping');
      doc = (parsed as Record<string, unknown>) ?? {};
    } catch (e) {
      throw new ConfigError(`config: ${file} is not valid YAML: ${(e as Error).message}`);
    }
  }
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV_PREFIX) || v === undefined) continue;
    const path = k.slice(ENV_PREFIX.length).split('__').map(camel);
    setPath(doc, path, parseScalar(v));
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) setPath(doc, k.split('.'), v);

  const schema = {
    type: 'object',
    additionalProperties: true, // other services' sections live in the same file
    properties: { ...commonSchema, [opts.section]: { default: {}, ...opts.sectionSchema } },
    required: [opts.section],
  };
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(schema as unknown as JSONSchemaType<unknown>);
  if (!validate(doc)) throw new ConfigError(formatErrors(validate.errors ?? [], file));
  return doc as unknown as CommonConfig & T;
}

/** `SLUICE__HTTP__PORT` → `http.port`; `MAX_IN_FLIGHT` → `maxInFlight`. Lower-case keys pass through. */
function camel(s: string): string {
  if (s !== s.toUpperCase()) return s;
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function parseScalar(v: string): unknown {
  try {
    return parseYaml(v) ?? v;
  } catch {
    return v;
  }
}

function setPath(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = cur[k];
    if (next == null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function formatErrors(errors: ErrorObject[], file: string | undefined): string {
  const lines = errors.map((e) => {
    const key = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const at = (p: string) => (key ? `${key}.${p}` : p);
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        return `${at(extra)}: unknown key`;
      }
      case 'required':
        return `${at((e.params as { missingProperty: string }).missingProperty)}: required`;
      case 'enum':
        return `${key}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      default:
        return `${key || '(root)'}: ${e.message ?? e.keyword}`;
    }
  });
  return `config${file ? ` (${file})` : ''}: ` + [...new Set(lines)].join('; ');
}
