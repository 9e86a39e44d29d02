// The streams and subjects every sluice service agrees on; provisioning and services read them from here.
// Names are stable API: dashboards, Helm values and the CLI refer to them.

export interface StreamSpec {
  name: string;
  subjects: string[];
  doc: string;
  /** Caps the configured `streams.maxAgeHours` for this stream (small, short-lived data such as quality stats). */
  maxAgeHours?: number;
}

export const STREAMS = {
  raw: { name: 'RAW', subjects: ['raw.>'], doc: 'raw batches from sources: raw.<source>.<partition>; the replay buffer; bronze sink and splitter read it' },
  categorized: { name: 'CATEGORIZED', subjects: ['cat.>'], doc: 'records split by category: cat.<source>.<category>; one parser deployment per category' },
  parsed: { name: 'PARSED', subjects: ['parsed.>'], doc: 'typed Arrow IPC batches per table: parsed.<table>; enricher reads it' },
  events: { name: 'EVENTS', subjects: ['events.>'], doc: 'enriched Arrow IPC batches per table and partition: events.<table>.<partition>; detector and silver sink read it' },
  // gold.> was added later: provisioning updates the subjects of an existing ALERTS stream in place.
  alerts: { name: 'ALERTS', subjects: ['alerts.>', 'gold.>'], doc: 'alert records: alerts.<rule>; notifiers and gold sink read it. Gold table rows emitted by detector rules: gold.<table> (NDJSON); the gold sink reads it' },
  quarantine: { name: 'QUARANTINE', subjects: ['quarantine.>'], doc: 'records that failed parsing or an expectation: quarantine.<stage>.<table>' },
  // Added later: provisioning creates it on an existing deployment like any missing stream.
  quality: { name: 'QUALITY', subjects: ['quality.>'], maxAgeHours: 168, doc: 'per-envelope data-quality stats from the parser (rows, kept, dropped, quarantined, failures per expectation): quality.<table>; the detector reads it' },
  dlq: { name: 'DLQ', subjects: ['dlq.>'], doc: 'messages a stage could not process after retries: dlq.<stage>' },
} as const satisfies Record<string, StreamSpec>;

export type StreamKey = keyof typeof STREAMS;

export const subjects = {
  /** One raw partition of a source (see rawPartitionOf); `raw.<source>.*` is all of them, `raw.*.<p>` one partition of all. */
  raw: (source: string, partition = 0) => `raw.${token(source)}.${partition}`,
  rawAllPartitions: (source: string) => `raw.${token(source)}.*`,
  rawPartition: (partition: number) => `raw.*.${partition}`,
  categorized: (source: string, category: string) => `cat.${token(source)}.${token(category)}`,
  parsed: (table: string) => `parsed.${token(table)}`,
  /** One partition of a table's enriched events (see eventPartitionOf); `events.<table>.>` is all of them. */
  events: (table: string, partition: number) => `events.${token(table)}.${partition}`,
  eventsAllPartitions: (table: string) => `events.${token(table)}.>`,
  alerts: (rule: string) => `alerts.${token(rule)}`,
  /** Rows of a gold table emitted by a detector rule (e.g. gold.ip_lookup), in the ALERTS stream. */
  gold: (table: string) => `gold.${token(table)}`,
  quarantine: (stage: string, table: string) => `quarantine.${token(stage)}.${token(table)}`,
  /** One stats message per parsed input envelope of a table (see services/parser/qualityStats.ts). */
  quality: (table: string) => `quality.${token(table)}`,
  dlq: (stage: string) => `dlq.${token(stage)}`,
};

/**
 * The raw partition of an object (file, object key, topic:partition, sender): all batches of one object share a
 * partition, so a replay repeats the same subjects and message ids. FNV-1a: stable across processes and versions.
 */
export function rawPartitionOf(object: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < object.length; i++) {
    h ^= object.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/**
 * The event partition of an enricher input with stream sequence `seq`: deterministic, so a redelivered input is
 * republished to the same subject with the same message id (and deduplicated).
 */
export function eventPartitionOf(seq: number, partitions: number): number {
  return seq % Math.max(1, partitions);
}

/** Event partitions (0…partitions-1) a sink replica owns: p % replicas == replica. */
export function ownedEventPartitions(partitions: number, replica: number, replicas: number): number[] {
  const owned: number[] = [];
  for (let p = 0; p < partitions; p++) if (p % replicas === replica) owned.push(p);
  return owned;
}

/** Subject tokens may not contain '.', '*', '>' or whitespace; anything else is replaced by '_'. */
export function token(s: string): string {
  const t = s.replace(/[.*>\s]/g, '_');
  return t.length === 0 ? '_' : t;
}

/** KV buckets: the collector's file positions, the notifier's delivered alerts, the detector's state snapshots. */
export const KV_BUCKETS = {
  collectorPositions: 'sluice_collector_positions',
  notifierDelivered: 'sluice_notifier_delivered',
  /** Detector state snapshots: `<rule>.P<partitions>.p<p>` manifest → gzip'd JSON chunks `….g<gen>.c<i>`. */
  detectorState: 'sluice_detector_state',
} as const;
