// The detector's config section: schema (defaults, types; ajv names the key on error) and the checks a schema
// cannot express (replica < replicas, source tables and columns that exist), also naming the key.
import { ConfigError } from '@sluice/runtime';
import { allTables, fullColumnNames } from '@sluice/tables';
import {
  DEFAULT_DATA_QUALITY_CONFIG,
  DEFAULT_EXPECTATION_RATE_CONFIG,
  DEFAULT_IP_ATTRIBUTION_CONFIG,
  DEFAULT_IOC_MAPPING,
  DEFAULT_IOC_RULE_CONFIG,
  DEFAULT_ZEEK_JOIN_CONFIG,
  IOC_TYPES,
  DEFAULT_LISTENING_PORTS,
  DEFAULT_LISTENING_SOURCES,
  DEFAULT_LOGIN_SOURCES,
  DEFAULT_NEW_NETWORK_CONFIG,
  type DataQualityRuleConfig,
  type ExpectationRateRuleConfig,
  type IpAttributionRuleConfig,
  type IocMappingEntry,
  type ZeekJoinRuleConfig,
  type ListeningRuleConfig,
  type NewNetworkRuleConfig,
} from '@sluice/detect';

interface StateSettings {
  enabled: boolean;
  /** Keys (devices, users, tables) untouched this long in event time are dropped. */
  stateTtlDays: number;
  /** Most keys in memory across this replica's partitions of the rule. */
  maxKeys: number;
}

export interface DetectorSection {
  partitions: number;
  replicas: number;
  replica: number;
  snapshot: { intervalSeconds: number; everyBatches: number };
  listening: ListeningRuleConfig & StateSettings;
  newNetwork: NewNetworkRuleConfig & StateSettings;
  dataQuality: DataQualityRuleConfig & StateSettings;
  expectationRate: ExpectationRateRuleConfig & StateSettings;
  ioc: IocSection & StateSettings;
  zeekJoin: ZeekJoinRuleConfig & StateSettings;
  ipAttribution: IpAttributionRuleConfig & StateSettings;
}

export interface IocSection {
  /** Lake root the sink writes (`sink.lakePath`); the indicators are loaded from `<lakePath>/silver/<table>` at start. */
  lakePath: string;
  table: string;
  /** Stream overlap read after the table load, before the newest row's ingest time. */
  replayMarginMinutes: number;
  /** The default mapping (replace it whole), and entries appended to it (adding a table is one line). */
  mapping: IocMappingEntry[];
  addMapping: IocMappingEntry[];
  /** Match `domain` indicators on parent domains down to the registered domain (tldts, via @sluice/domains). */
  registeredDomain: boolean;
  severity: { high: number; medium: number; unknown: 'low' | 'medium' | 'high' | 'critical' };
  latenessMinutes: number;
}

export interface DetectorConfig {
  detector: DetectorSection;
}

const strings = { type: 'array', items: { type: 'string', minLength: 1 } };
const severityEnum = { type: 'string', enum: ['low', 'medium', 'high', 'critical'] };
const ratio = { type: 'number', minimum: 0, maximum: 1 };
const mappingEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['table', 'column', 'type'],
  properties: {
    table: { type: 'string', minLength: 1 },
    column: { type: 'string', minLength: 1 },
    type: { type: 'string', enum: [...IOC_TYPES] },
    device: { oneOf: [{ type: 'string', minLength: 1 }, { ...strings, minItems: 1 }] },
    time: { type: 'string', minLength: 1 },
    alsoRegisteredDomain: { const: true },
    template: { type: 'string', minLength: 1 },
  },
};
const state = (ttlDays: number, maxKeys: number) => ({
  enabled: { type: 'boolean', default: true },
  stateTtlDays: { type: 'number', exclusiveMinimum: 0, default: ttlDays },
  maxKeys: { type: 'integer', minimum: 1, default: maxKeys },
});

export const detectorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    partitions: { type: 'integer', minimum: 1, maximum: 4096, default: 16, description: 'key partitions of each rule state (hash(key) % partitions)' },
    replicas: { type: 'integer', minimum: 1, default: 1 },
    replica: { type: 'integer', minimum: 0, default: 0, description: 'this process: owns partitions p with p % replicas == replica' },
    snapshot: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        intervalSeconds: { type: 'number', exclusiveMinimum: 0, default: 60 },
        everyBatches: { type: 'integer', minimum: 1, default: 1000 },
      },
    },
    listening: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...state(3, 1_000_000),
        ports: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 }, minItems: 1, default: DEFAULT_LISTENING_PORTS },
        knownServers: {
          type: 'array',
          default: [],
          items: {
            oneOf: [
              { type: 'string', minLength: 1 },
              {
                type: 'object',
                additionalProperties: false,
                required: ['name'],
                properties: { name: { type: 'string', minLength: 1 }, ports: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 } } },
              },
            ],
          },
        },
        sources: {
          type: 'array',
          minItems: 1,
          default: DEFAULT_LISTENING_SOURCES,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['table', 'time', 'actionColumn', 'actions', 'deviceId', 'deviceName', 'localIp', 'port'],
            properties: {
              table: { type: 'string', minLength: 1 },
              time: { type: 'string' },
              actionColumn: { type: 'string' },
              actions: { ...strings, minItems: 1 },
              deviceId: { type: 'string' },
              deviceName: { type: 'string' },
              localIp: strings,
              port: { type: 'string' },
              queryKey: { type: 'string' },
            },
          },
        },
      },
    },
    newNetwork: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...state(180, 2_000_000),
        learningDays: { type: 'number', minimum: 0, default: DEFAULT_NEW_NETWORK_CONFIG.learningDays },
        networkTtlDays: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_NEW_NETWORK_CONFIG.networkTtlDays },
        maxNetworksPerUser: { type: 'integer', minimum: 1, default: DEFAULT_NEW_NETWORK_CONFIG.maxNetworksPerUser },
        asOrgSuffix: { type: 'string', default: DEFAULT_NEW_NETWORK_CONFIG.asOrgSuffix },
        asNumberSuffix: { type: 'string', default: DEFAULT_NEW_NETWORK_CONFIG.asNumberSuffix },
        geoCountrySuffix: { type: 'string', default: DEFAULT_NEW_NETWORK_CONFIG.geoCountrySuffix },
        geoCitySuffix: { type: 'string', default: DEFAULT_NEW_NETWORK_CONFIG.geoCitySuffix },
        skipPrivate: { type: 'boolean', default: DEFAULT_NEW_NETWORK_CONFIG.skipPrivate },
        identity: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'one user key across sources (libs/detect/identity.ts)',
          properties: {
            domains: { type: 'object', additionalProperties: { type: 'string', pattern: '^[^\\s@\\\\]+\\.[^\\s@\\\\]+$' }, default: {}, description: 'NetBIOS domain → DNS domain, e.g. CORP: corp.com' },
            awsAccounts: { type: 'object', additionalProperties: { type: 'string', pattern: '^[^\\s@\\\\]+\\.[^\\s@\\\\]+$' }, default: {}, description: 'AWS account id → DNS domain of its IAM users and role sessions' },
            aliases: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: {}, description: 'an identity in any form → the user key it is' },
          },
        },
        skipMachineAccounts: { type: 'boolean', default: true },
        skipServiceAccounts: { type: 'boolean', default: true },
        sources: {
          type: 'array',
          minItems: 1,
          default: DEFAULT_LOGIN_SOURCES,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['table', 'time', 'user', 'ip', 'where'],
            properties: {
              table: { type: 'string', minLength: 1 },
              time: { type: 'string' },
              user: { ...strings, minItems: 1 },
              domain: { type: 'string' },
              ip: { ...strings, minItems: 1 },
              where: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['column'],
                  properties: { column: { type: 'string' }, equals: strings, contains: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    dataQuality: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...state(2, 100_000),
        windowMinutes: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_DATA_QUALITY_CONFIG.windowMinutes },
        maxPerWindow: { type: 'integer', minimum: 0, default: DEFAULT_DATA_QUALITY_CONFIG.maxPerWindow },
        tables: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, default: {} },
        ignoreRules: { ...strings, default: [] },
        stages: { ...strings, default: [] },
      },
    },
    expectationRate: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'data quality as a rate: the parser\'s per-envelope stats (QUALITY stream) → failure ratio per table and expectation per ingest-time window',
      properties: {
        // A table's state is its current and previous window: two days untouched and it is gone.
        ...state(2, 100_000),
        windowMinutes: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_EXPECTATION_RATE_CONFIG.windowMinutes },
        maxRatio: { ...ratio, default: DEFAULT_EXPECTATION_RATE_CONFIG.maxRatio },
        minRows: { type: 'integer', minimum: 1, default: DEFAULT_EXPECTATION_RATE_CONFIG.minRows },
        tables: {
          type: 'object',
          default: {},
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { maxRatio: ratio, minRows: { type: 'integer', minimum: 1 }, expectations: { type: 'object', additionalProperties: ratio } },
          },
        },
        expectations: { type: 'object', additionalProperties: ratio, default: {} },
        ignore: { ...strings, default: [] },
        severity: { ...severityEnum, default: DEFAULT_EXPECTATION_RATE_CONFIG.severity },
      },
    },
    ioc: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Suppression windows live 24 h (+ lateness): two days of state per device is plenty.
        ...state(2, 1_000_000),
        lakePath: { type: 'string', default: '', description: 'lake root (sink.lakePath): indicators load from <lakePath>/silver/<table> at start' },
        table: { type: 'string', minLength: 1, default: DEFAULT_IOC_RULE_CONFIG.iocTable },
        replayMarginMinutes: { type: 'number', minimum: 0, default: 60 },
        mapping: { type: 'array', items: mappingEntry, default: DEFAULT_IOC_MAPPING },
        addMapping: { type: 'array', items: mappingEntry, default: [] },
        registeredDomain: { type: 'boolean', default: true },
        severity: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            high: { type: 'number', minimum: 0, maximum: 100, default: DEFAULT_IOC_RULE_CONFIG.severity.high },
            medium: { type: 'number', minimum: 0, maximum: 100, default: DEFAULT_IOC_RULE_CONFIG.severity.medium },
            unknown: { ...severityEnum, default: DEFAULT_IOC_RULE_CONFIG.severity.unknown },
          },
        },
        latenessMinutes: { type: 'number', minimum: 0, default: DEFAULT_IOC_RULE_CONFIG.latenessMinutes },
      },
    },
    zeekJoin: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // No per-key state (the partition's join holds it, bounded by its watermark); kept for uniformity.
        ...state(1, 1_000_000),
        noticeTable: { type: 'string', minLength: 1, default: DEFAULT_ZEEK_JOIN_CONFIG.noticeTable },
        connTable: { type: 'string', minLength: 1, default: DEFAULT_ZEEK_JOIN_CONFIG.connTable },
        windowSeconds: { type: 'number', minimum: 0, default: DEFAULT_ZEEK_JOIN_CONFIG.windowSeconds },
        latenessSeconds: { type: 'number', minimum: 0, default: DEFAULT_ZEEK_JOIN_CONFIG.latenessSeconds },
        unjoined: { type: 'string', enum: ['emit', 'drop'], default: DEFAULT_ZEEK_JOIN_CONFIG.unjoined },
        late: { type: 'string', enum: ['emit', 'drop'], default: DEFAULT_ZEEK_JOIN_CONFIG.late },
        severity: { ...severityEnum, default: DEFAULT_ZEEK_JOIN_CONFIG.severity },
        noteSeverity: { type: 'object', additionalProperties: severityEnum, default: {} },
      },
    },
    ipAttribution: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'IP attribution: open holding interval per IP from DHCP, ISE and RADIUS accounting → gold ip_lookup rows (gold.ip_lookup)',
      properties: {
        // An IP's open interval lives until it closes; an address unseen for 30 days is forgotten (no close row).
        ...state(30, 1_000_000),
        dhcpTable: { type: 'string', minLength: 1, default: DEFAULT_IP_ATTRIBUTION_CONFIG.dhcpTable },
        iseTables: { ...strings, default: DEFAULT_IP_ATTRIBUTION_CONFIG.iseTables },
        maxSilenceHours: { type: 'number', minimum: 0, default: DEFAULT_IP_ATTRIBUTION_CONFIG.maxSilenceHours, description: 'an interval without a known lease end closes this long after its last event (0: never); see docs/IP_ATTRIBUTION.md' },
      },
    },
  },
};

/** Checks beyond the schema; throws ConfigError naming the key. */
export function validateDetectorConfig(d: DetectorSection, tables: Map<string, Set<string>> = knownTables()): void {
  if (d.replica >= d.replicas) throw new ConfigError(`detector.replica: ${d.replica} must be below detector.replicas (${d.replicas})`);
  const col = (key: string, table: string, column: string | undefined) => {
    if (column === undefined) return;
    if (!tables.get(table)?.has(column)) throw new ConfigError(`${key}: table ${table} has no column "${column}"`);
  };
  const tableOf = (key: string, table: string) => {
    if (!tables.has(table)) throw new ConfigError(`${key}: unknown table "${table}"`);
  };
  if (d.listening.enabled) {
    d.listening.sources.forEach((s, i) => {
      const k = `detector.listening.sources[${i}]`;
      tableOf(`${k}.table`, s.table);
      for (const f of ['time', 'actionColumn', 'deviceId', 'deviceName', 'port', 'queryKey'] as const) col(`${k}.${f}`, s.table, s[f]);
      s.localIp.forEach((c, j) => col(`${k}.localIp[${j}]`, s.table, c));
    });
  }
  if (d.newNetwork.enabled) {
    d.newNetwork.sources.forEach((s, i) => {
      const k = `detector.newNetwork.sources[${i}]`;
      tableOf(`${k}.table`, s.table);
      col(`${k}.time`, s.table, s.time);
      col(`${k}.domain`, s.table, s.domain);
      s.user.forEach((c, j) => col(`${k}.user[${j}]`, s.table, c));
      s.ip.forEach((c, j) => col(`${k}.ip[${j}]`, s.table, c));
      s.where.forEach((w, j) => col(`${k}.where[${j}].column`, s.table, w.column));
    });
    for (const id of Object.keys(d.newNetwork.identity?.awsAccounts ?? {})) {
      if (!/^[0-9]{12}$/.test(id)) throw new ConfigError(`detector.newNetwork.identity.awsAccounts.${id}: not an AWS account id (12 digits)`);
    }
  }
  if (d.dataQuality.enabled) for (const t of Object.keys(d.dataQuality.tables)) tableOf(`detector.dataQuality.tables.${t}`, t);
  if (d.expectationRate.enabled) validateExpectationRate(d.expectationRate, tables);
  if (d.ioc.enabled) {
    tableOf('detector.ioc.table', d.ioc.table);
    const check = (list: string, entries: IocMappingEntry[]) =>
      entries.forEach((e, i) => {
        const k = `detector.ioc.${list}[${i}]`;
        tableOf(`${k}.table`, e.table);
        col(`${k}.column`, e.table, e.column);
        col(`${k}.time`, e.table, e.time);
        const devices = e.device === undefined ? [] : typeof e.device === 'string' ? [e.device] : e.device;
        devices.forEach((c, j) => col(`${k}.device[${j}]`, e.table, c));
        for (const m of (e.template ?? '').matchAll(/\{([^}]+)\}/g)) col(`${k}.template`, e.table, m[1]);
      });
    check('mapping', d.ioc.mapping);
    check('addMapping', d.ioc.addMapping);
    if (d.ioc.severity.medium > d.ioc.severity.high) throw new ConfigError(`detector.ioc.severity.medium: ${d.ioc.severity.medium} must not exceed detector.ioc.severity.high (${d.ioc.severity.high})`);
  }
  if (d.zeekJoin.enabled) {
    tableOf('detector.zeekJoin.noticeTable', d.zeekJoin.noticeTable);
    tableOf('detector.zeekJoin.connTable', d.zeekJoin.connTable);
    for (const t of [d.zeekJoin.noticeTable, d.zeekJoin.connTable]) for (const c of ['uid', 'ts']) col(`detector.zeekJoin (${t})`, t, c);
  }
  if (d.ipAttribution.enabled) {
    tableOf('detector.ipAttribution.dhcpTable', d.ipAttribution.dhcpTable);
    for (const c of ['timestamp', 'event_type', 'ip', 'mac']) col('detector.ipAttribution.dhcpTable', d.ipAttribution.dhcpTable, c);
    d.ipAttribution.iseTables.forEach((t, i) => {
      tableOf(`detector.ipAttribution.iseTables[${i}]`, t);
      for (const c of ['timestamp', 'endpoint_ip', 'endpoint_mac', 'user_name']) col(`detector.ipAttribution.iseTables[${i}]`, t, c);
    });
  }
  if (!d.listening.enabled && !d.newNetwork.enabled && !d.dataQuality.enabled && !d.expectationRate.enabled && !d.ioc.enabled && !d.zeekJoin.enabled && !d.ipAttribution.enabled) {
    throw new ConfigError('detector: every rule is disabled (detector.<rule>.enabled)');
  }
}

/**
 * Checks a family decoder reports instead of an expectation (RecordError rules of libs/sources, and `parse`):
 * they appear in the quality stats like expectations, so thresholds and the ignore list may name them.
 */
export const DECODER_CHECKS = ['parse', 'category', 'container', 'decode', 'encoding', 'header', 'layout', 'no_flow_fields', 'not_object', 'zeek_fields', 'zeek_header'];

/** Table names exist; expectation names are the table's (any table's for the global map) or decoder checks. */
function validateExpectationRate(c: ExpectationRateRuleConfig, tables: Map<string, Set<string>>, expectations: Map<string, Set<string>> = knownExpectations()): void {
  const k = 'detector.expectationRate';
  const anyTable = new Set([...expectations.values()].flatMap((s) => [...s]));
  const known = (names: Set<string>) => [...names, ...DECODER_CHECKS].sort().join(', ');
  const checkOf = (key: string, name: string, table?: string) => {
    const names = table === undefined ? anyTable : (expectations.get(table) ?? new Set<string>());
    if (!names.has(name) && !DECODER_CHECKS.includes(name)) throw new ConfigError(`${key}: unknown expectation "${name}"${table ? ` of table ${table}` : ''}; known: ${known(names)}`);
  };
  const tableOf = (key: string, table: string) => {
    if (!tables.has(table)) throw new ConfigError(`${key}: unknown table "${table}"`);
  };
  for (const [t, o] of Object.entries(c.tables)) {
    tableOf(`${k}.tables.${t}`, t);
    for (const e of Object.keys(o.expectations ?? {})) checkOf(`${k}.tables.${t}.expectations.${e}`, e, t);
  }
  for (const e of Object.keys(c.expectations)) checkOf(`${k}.expectations.${e}`, e);
  c.ignore.forEach((entry, i) => {
    const key = `${k}.ignore[${i}]`;
    const dot = entry.indexOf('.');
    if (dot < 0) return checkOf(key, entry);
    const [t, e] = [entry.slice(0, dot), entry.slice(dot + 1)];
    tableOf(key, t);
    if (e !== '*') checkOf(key, e, t);
  });
}

function knownExpectations(): Map<string, Set<string>> {
  return new Map(allTables().map((t) => [t.name, new Set(t.expectations.map((e) => e.name))]));
}

function knownTables(): Map<string, Set<string>> {
  return new Map(allTables().map((t) => [t.name, new Set(fullColumnNames(t))]));
}
