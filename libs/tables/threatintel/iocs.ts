// The `iocs` table: one row per indicator of compromise from the threat-intelligence feeds (OTX, URLhaus,
// MalwareBazaar, MISP, STIX 2.1), the gold indicator table the detector's IoC matching reads.
import type { ColumnDef, Expectation, TableDefinition } from '../tableDefinition.ts';
import { IOC_TYPES, isIocType, isWellFormedHash, isWellFormedIp } from './iocTypes.ts';

/** Feed names in the `dataset` column. */
export const IOC_DATASETS = ['otx', 'urlhaus', 'malwarebazaar', 'misp', 'stix'] as const;

const columns: ColumnDef[] = [
  { name: 'indicator', type: 'string', nullable: false, doc: 'The indicator value, normalised (see docs/sources/threatintel.md).' },
  { name: 'type', type: 'string', nullable: false, doc: `Indicator type: ${IOC_TYPES.join(', ')}.` },
  { name: 'dataset', type: 'string', nullable: false, doc: `Feed the indicator came from: ${IOC_DATASETS.join(', ')}.` },
  { name: 'feed_type', type: 'string', doc: 'Type name as the feed wrote it (MISP `ip-dst`, STIX object path, OTX type).' },
  {
    name: 'first_seen',
    type: 'timestamp',
    nullable: false,
    doc: 'Start of validity: the feed first_seen / valid_from, else the record created / added time.',
  },
  { name: 'last_seen', type: 'timestamp', doc: 'End of validity (OTX expiration, STIX valid_until, MISP last_seen, URLhaus last_online of offline URLs); null = still valid.' },
  { name: 'confidence', type: 'integer', doc: 'Confidence 0–100 (STIX confidence, MISP osint:certainty tag); null when the feed gives none.' },
  { name: 'tags', type: 'json', doc: 'Tags as a JSON array of strings (pulse/event tags and indicator tags, STIX labels).' },
  { name: 'threat', type: 'string', doc: 'Threat or malware family (URLhaus threat, MalwareBazaar signature, OTX malware families).' },
  { name: 'event_name', type: 'string', doc: 'Name of the container: OTX pulse name, MISP event info, STIX indicator name.' },
  { name: 'event_id', type: 'string', doc: 'Id of the container: OTX pulse id, MISP event uuid, STIX bundle id.' },
  { name: 'indicator_id', type: 'string', doc: 'Feed id of the indicator: OTX indicator id, MISP attribute uuid, STIX indicator id, URLhaus id, MalwareBazaar sha256.' },
  { name: 'description', type: 'string', doc: 'Indicator description or comment.' },
  { name: 'reference', type: 'string', doc: 'Link to the record at the feed (URLhaus / MalwareBazaar / OTX page, STIX external reference).' },
  { name: 'to_ids', type: 'boolean', doc: 'Whether the feed marks the indicator for detection (MISP to_ids, OTX is_active); null when it has no such flag.' },
  { name: 'attributes', type: 'map', doc: 'Feed-specific details kept as text (URLhaus url_status, MalwareBazaar file_name, MISP category, STIX pattern, …).' },
];

const present: Expectation = {
  name: 'indicator_present',
  action: 'quarantine',
  description: 'indicator is a non-empty string',
  check: (row) => typeof row.indicator === 'string' && row.indicator.trim() !== '',
};

const typeKnown: Expectation = {
  name: 'type_supported',
  action: 'quarantine',
  description: `type is one of ${IOC_TYPES.join(', ')}`,
  check: (row) => isIocType(row.type),
};

const hashFormat: Expectation = {
  name: 'valid_hash',
  action: 'quarantine',
  description: 'FileHash-MD5/SHA1/SHA256 indicators are 32/40/64 lower-case hex digits',
  check: (row) => typeof row.indicator === 'string' && isWellFormedHash(String(row.type), row.indicator),
};

const ipFormat: Expectation = {
  name: 'valid_ip',
  action: 'quarantine',
  description: 'IPv4/IPv6 indicators are addresses of that family',
  check: (row) => typeof row.indicator === 'string' && isWellFormedIp(String(row.type), row.indicator),
};

const confidenceRange: Expectation = {
  name: 'confidence_range',
  action: 'quarantine',
  description: 'confidence is null or within 0..100',
  check: (row) => row.confidence === null || (typeof row.confidence === 'number' && row.confidence >= 0 && row.confidence <= 100),
};

const validityWindow: Expectation = {
  name: 'validity_window',
  action: 'warn',
  description: 'last_seen is null or not before first_seen',
  check: (row) => row.last_seen === null || (typeof row.last_seen === 'number' && typeof row.first_seen === 'number' && row.last_seen >= row.first_seen),
};

export const iocs: TableDefinition = {
  name: 'iocs',
  layer: 'silver',
  doc:
    'Indicators of compromise from threat-intelligence feeds (AlienVault OTX, abuse.ch URLhaus and MalwareBazaar, MISP, STIX 2.1), ' +
    'one row per indicator: the gold indicator table the detector’s IoC matching reads (valid while first_seen ≤ event time ≤ last_seen or now).',
  partitionBy: ['eventDate'],
  eventTime: 'first_seen',
  columns,
  expectations: [present, typeKnown, hashFormat, ipFormat, confidenceRange, validityWindow],
};
