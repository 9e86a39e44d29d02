// Service configuration: one YAML file (the pipeline's), environment overrides, ajv validation with defaults.
// Errors name the key and what was expected, so a bad deployment fails at start with a message a person can act on.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** How services reach NATS. Secrets come from the environment (SLUICE__NATS__PASS, …) or mounted files, never the YAML. */
export interface NatsConfig {
  url: string;
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** A user nkey seed (SU…) file: the server knows the public key. */
  nkeySeedFile?: string;
  /** A decentralised-auth credentials file (user JWT + seed, as `nsc generate creds` writes it). */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; handshakeFirst?: boolean };
}

/** Settings every service shares; each service adds its own section under its name. */
export interface CommonConfig {
  nats: NatsConfig;
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
      url: { type: 'string', default: 'nats://127.0.0.1:4222', description: 'server URL(s), comma-separated; tls://host:4222 requires TLS. Credentials in the URL are refused: use user/pass' },
      name: { type: 'string' },
      user: { type: 'string', minLength: 1 },
      pass: { type: 'string', minLength: 1, description: 'password for nats.user: set it through SLUICE__NATS__PASS (a Secret in the chart), not in the YAML file' },
      token: { type: 'string', minLength: 1, description: 'authorization token: set it through SLUICE__NATS__TOKEN, not in the YAML file' },
      nkeySeedFile: { type: 'string', minLength: 1, description: 'file holding a user nkey seed (SU…), e.g. a mounted Secret' },
      credsFile: { type: 'string', minLength: 1, description: 'credentials file (user JWT and nkey seed) as `nsc generate creds` writes it, e.g. a mounted Secret' },
      tls: {
        type: 'object',
        additionalProperties: false,
        properties: {
          caFile: { type: 'string', minLength: 1, description: 'PEM CA bundle that signed the server certificate' },
          certFile: { type: 'string', minLength: 1, description: 'PEM client certificate (mutual TLS); needs keyFile' },
          keyFile: { type: 'string', minLength: 1, description: 'PEM private key of certFile' },
          handshakeFirst: { type: 'boolean', description: 'TLS before the INFO line: the server must set tls { handshake_first: true } (nats-server 2.10.4+)' },
        },
      },
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
      // Not checked against the cluster size (a client cannot know it): the server refuses a stream with more replicas than servers.
      replicas: { type: 'integer', minimum: 1, maximum: 5, default: 1, description: 'JetStream replicas of every stream and KV bucket: 1 locally, 3 in production (a 3- or 5-node cluster)' },
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
  const schema = {
    type: 'object',
    additionalProperties: true, // other services' sections live in the same file
    properties: { ...commonSchema, [opts.section]: { default: {}, ...opts.sectionSchema } },
    required: [opts.section],
  };
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV_PREFIX) || v === undefined) continue;
    const path = k.slice(ENV_PREFIX.length).split('__').map(camel);
    // A string key (a password, token, URL) takes the value verbatim: as YAML, `p#ss` would lose its tail and
    // `123456` would become a number.
    setPath(doc, path, stringAt(schema, path) ? v : parseScalar(v));
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) setPath(doc, k.split('.'), v);
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(schema as unknown as JSONSchemaType<unknown>);
  if (!validate(doc)) throw new ConfigError(formatErrors(validate.errors ?? [], file));
  return doc as unknown as CommonConfig & T;
}

/** True when the schema declares `path` as a plain string (followed through nested `properties` only). */
function stringAt(schema: object, path: string[]): boolean {
  let cur: unknown = schema;
  for (const k of path) {
    const props = (cur as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!props || !(k in props)) return false;
    cur = props[k];
  }
  return (cur as { type?: unknown }).type === 'string';
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
