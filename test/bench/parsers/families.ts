// Benchmark inputs per source family: which hand-written fixtures are the templates, how the collector would
// deliver them (line files with a preamble, CloudTrail `{"Records":[…]}` objects, Event Hubs `{"records":[…]}`
// messages), and the generation of raw envelopes from varied copies of the templates.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { frameRecords } from '@sluice/formats';
import { H, encodePreamble, packLines, type InputMessage } from '@sluice/runtime';
import { UNKNOWN_CATEGORY, type RecordContext, type SourceFamily } from '@sluice/sources';
import { compileValidator, type Validator } from '@sluice/tables';
import { EMPTY_PREAMBLE, segmentByPreamble } from '../../../services/collector/preamble.ts';
import { Rng } from '../../fixtures/seededRng.ts';
import { Pools, Variation } from './vary.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const enc = new TextEncoder();
const dec = new TextDecoder();

/** How the collector delivers a family's records. */
type Layout =
  /** Line files (TSV, space-separated, syslog, NDJSON, CSV): preamble lines at the top, framed and segmented by the collector. */
  | 'lines'
  /** S3 objects holding one `{"Records":[…]}` document (CloudTrail): the collector explodes it into records. */
  | 'records-document'
  /** Event Hubs messages `{"records":[…]}`, one message = one raw record: the splitter explodes it. */
  | 'eventhub';

interface FixtureFile {
  file: string;
  /** Object name (file path / key / `udp:host:port`) the collector would give the file's records. */
  object: string;
  /** Relative frequency of this file's templates in the generated mix. Default 1. */
  weight?: number;
  /** Header lines to put above the fixture's lines (a fixture stored without the header a real file has). */
  header?: string[];
}

interface FamilySpec {
  fixtures: FixtureFile[];
  layout: Layout;
  /** Records per document / message for the container layouts. */
  perContainer?: number;
  /** Records per generated file (line layouts): a new file repeats the preamble. */
  perFile?: number;
  /** Lines that belong to one record (multi-part syslog messages): the key shared by consecutive lines. */
  groupKey?(line: string): string | undefined;
}

const VPC_V2_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const ZEEK_TSV = ['conn', 'dns', 'http', 'ssl', 'dhcp', 'notice'];
const ZEEK_WEIGHT: Record<string, number> = { conn: 8, dns: 4, http: 2, ssl: 2, dhcp: 1, notice: 0.5 };

export const SPECS: Record<string, FamilySpec> = {
  defender: { layout: 'eventhub', perContainer: 20, fixtures: [{ file: 'defender/eventhub-payload.json', object: 'defender-eh:0' }] },
  cloudtrail: {
    layout: 'records-document',
    perContainer: 250,
    fixtures: [
      { file: 'cloudtrail/records.json', object: 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/11/111122223333_CloudTrail_us-east-1_20240311T0000Z_bench.json.gz' },
      { file: 'cloudtrail/events.ndjson', object: 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/11/111122223333_CloudTrail_us-east-1_20240311T0005Z_bench.json.gz' },
    ],
  },
  vpcflow: {
    layout: 'lines',
    perFile: 10_000,
    fixtures: [
      { file: 'vpcflow/default-v2.log', object: 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/11/123456789012_vpcflowlogs_us-east-1_fl-0abc_20240311T0000Z_v2.log.gz', weight: 6, header: [VPC_V2_HEADER] },
      { file: 'vpcflow/custom-v5.log', object: 'AWSLogs/000123456789/vpcflowlogs/eu-west-1/2024/03/11/000123456789_vpcflowlogs_eu-west-1_fl-0def_20240311T0000Z_v5.log.gz', weight: 3 },
      { file: 'vpcflow/tgw-v6.log', object: 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/11/123456789012_vpcflowlogs_us-east-1_tgw_20240311T0000Z_v6.log.gz', weight: 1 },
    ],
  },
  zeek: {
    layout: 'lines',
    perFile: 10_000,
    fixtures: [
      ...ZEEK_TSV.map((t) => ({ file: `zeek/${t}.log`, object: `zeek/2024-03-11/${t}.00:00:00-01:00:00.log`, weight: ZEEK_WEIGHT[t]! * 2 })),
      ...ZEEK_TSV.map((t) => ({ file: `zeek/${t}.json`, object: `zeek-json/2024-03-11/${t}.log`, weight: ZEEK_WEIGHT[t]! })),
    ],
  },
  ise: {
    layout: 'lines',
    fixtures: [{ file: 'ise/ise.syslog', object: 'udp:10.9.9.9:514' }],
    // `CISE_<category> <message id> <total> <segment>`: segments of one message stay together.
    groupKey: (line) => /CISE_\w+ (\d+) \d+ \d+/.exec(line)?.[1],
  },
  dhcp: { layout: 'lines', fixtures: [{ file: 'dhcp/dhcpd.syslog', object: 'udp:10.2.2.2:514' }] },
  crowdstrike: { layout: 'lines', perFile: 20_000, fixtures: [{ file: 'crowdstrike/fdr-events.ndjson', object: 'data/7a5c1f00-0000-4000-8000-000000000001/part-00000.gz' }] },
  winlog: {
    layout: 'lines',
    fixtures: ['flat', 'winlogbeat6', 'winlogbeat7', 'winlogbeat8'].map((f) => ({ file: `winlog/${f}.ndjson`, object: 'winlogbeat:0', weight: f === 'winlogbeat8' ? 3 : 1 })),
  },
  threatintel: {
    layout: 'lines',
    fixtures: [
      { file: 'threatintel/urlhaus.csv', object: 'feeds/urlhaus/csv_recent.csv', weight: 4 },
      { file: 'threatintel/malwarebazaar.csv', object: 'feeds/malwarebazaar/recent.csv', weight: 2 },
      { file: 'threatintel/urlhaus.ndjson', object: 'feeds/urlhaus/api.ndjson' },
      { file: 'threatintel/malwarebazaar.ndjson', object: 'feeds/malwarebazaar/api.ndjson' },
      { file: 'threatintel/otx_indicators.ndjson', object: 'feeds/otx/indicators.ndjson', weight: 2 },
      { file: 'threatintel/otx_pulses.json', object: 'feeds/otx/pulses.json', weight: 0.2 },
      { file: 'threatintel/misp_event.json', object: 'feeds/misp/event.json', weight: 0.2 },
      { file: 'threatintel/stix_bundle.json', object: 'feeds/stix/bundle.json', weight: 0.2 },
    ],
  },
};

/** One good fixture record (or multi-part message) under its file's preamble, with the rows it yields. */
export interface Template {
  file: string;
  object: string;
  preamble: string[];
  /** The raw record lines as the collector publishes them (single-line). */
  lines: string[];
  /** Rows it yields in the family's tables (a feed container yields several). */
  rows: number;
  /** Planted bad elements of a container template: expected quarantine. */
  bad: number;
  weight: number;
}

export interface Excluded {
  file: string;
  line: string;
  reason: string;
}

const validators = new Map<object, Validator>();
function validatorOf(family: SourceFamily, category: string): Validator {
  const def = family.tables[category]!;
  let v = validators.get(def);
  if (!v) {
    v = compileValidator(def);
    validators.set(def, v);
  }
  return v;
}

/**
 * Rows one record group yields through route + decode + coercion, or why it is not a good record. A feed container
 * (one raw record holding many indicators) whose hand-written fixture plants a few bad elements is still used: its
 * good elements are the rows, its bad ones the expected quarantine.
 */
function rowsOf(family: SourceFamily, lines: string[], ctx: RecordContext): { rows: number; bad: number } | string {
  const res = family.route(
    lines.map((l) => enc.encode(l)),
    ctx,
  );
  const container = res.routed.length + res.rejected.length > lines.length;
  let firstProblem = res.rejected.length > 0 ? `route: ${res.rejected[0]!.rule}: ${res.rejected[0]!.reason}` : undefined;
  let rows = 0;
  let bad = res.rejected.length;
  for (const r of res.routed) {
    if (r.category === UNKNOWN_CATEGORY || !Object.hasOwn(family.tables, r.category)) continue;
    let obj: unknown;
    try {
      obj = family.decode ? family.decode(r.record, r.category, ctx) : JSON.parse(dec.decode(r.record));
    } catch (e) {
      firstProblem ??= `decode: ${(e as Error).message}`;
      bad++;
      continue;
    }
    const v = validatorOf(family, r.category)(obj);
    if (v.disposition === 'keep') rows++;
    else {
      firstProblem ??= `${v.disposition}: ${v.reasons.join('; ')}`;
      bad++;
    }
  }
  if (firstProblem && !(container && rows > 0)) return firstProblem;
  if (rows === 0) return res.routed.length === 0 && (res.skipped ?? 0) > 0 ? 'skipped' : 'no rows (unrouted: not an event of a supported type)';
  return { rows, bad };
}

/** The good records of a family's fixtures, each checked through the family's own route/decode/table. */
export function loadTemplates(family: SourceFamily, spec: FamilySpec): { templates: Template[]; excluded: Excluded[] } {
  const templates: Template[] = [];
  const excluded: Excluded[] = [];
  for (const f of spec.fixtures) {
    let text = readFileSync(join(FIXTURES, f.file), 'utf8');
    if (f.header) text = `${f.header.join('\n')}\n${text}`;
    const framed = frameRecords(enc.encode(text), 0, true);
    const segments = framed.framing === 'ndjson' ? segmentByPreamble(framed.records, EMPTY_PREAMBLE, family).segments : [{ preamble: [], records: framed.records }];
    for (const seg of segments) {
      const groups: string[][] = [];
      let lastKey: string | undefined;
      for (const r of seg.records) {
        const line = dec.decode(r);
        const key = spec.groupKey?.(line);
        if (key !== undefined && key === lastKey) groups[groups.length - 1]!.push(line);
        else groups.push([line]);
        lastKey = key;
      }
      for (const lines of groups) {
        const rows = rowsOf(family, lines, { source: family.name, object: f.object, preamble: seg.preamble, ingestTime: new Date().toISOString() });
        // Trailers and comments the family skips on purpose (`#close`) are no records at all.
        if (rows === 'skipped') continue;
        if (typeof rows === 'string') excluded.push({ file: f.file, line: lines[0]!.slice(0, 120), reason: rows });
        else templates.push({ file: f.file, object: f.object, preamble: seg.preamble, lines, rows: rows.rows, bad: rows.bad, weight: f.weight ?? 1 });
      }
    }
  }
  return { templates, excluded };
}

export interface Generated {
  envelopes: InputMessage[];
  /** Raw records the collector published (container messages count once). */
  rawRecords: number;
  /** Bytes of those records (without preamble lines and newlines). */
  rawBytes: number;
  /** Rows the good records should yield. */
  expectedRows: number;
  /** Records the templates' planted bad container elements send to quarantine. */
  expectedQuarantine: number;
  files: number;
}

/**
 * Varied copies of the templates until they yield at least `target` rows, delivered as the collector would: files
 * (or containers) → framed records → preamble segments → envelopes of ≤512 KiB with the collector's headers.
 */
export function generate(family: SourceFamily, spec: FamilySpec, templates: Template[], target: number, seed: number): Generated {
  const rng = new Rng(seed);
  const pools = new Pools(rng);
  const weighted = templates.map((t) => [t, t.weight] as const);
  // Instances grouped by the stream they belong to (same object and preamble = same file).
  const streams = new Map<string, { object: string; preamble: string[]; lines: string[]; records: number }[]>();
  let expectedRows = 0;
  let expectedQuarantine = 0;
  let id = 0;
  const limit = spec.perFile ?? (spec.layout === 'lines' ? 5_000 : (spec.perContainer ?? 1));
  while (expectedRows < target) {
    const t = rng.weighted(weighted);
    const v = new Variation(pools);
    const ports = portColumnsOf(t.preamble);
    const key = `${t.object}\u0000${t.preamble.join('\n')}`;
    let files = streams.get(key);
    if (!files) streams.set(key, (files = []));
    let cur = files[files.length - 1];
    if (!cur || cur.records >= limit) {
      // A new file in its own folder: the base name stays (Zeek reads the log type from it); a syslog sender stays.
      const slash = t.object.lastIndexOf('/');
      const object = slash === -1 ? t.object : `${t.object.slice(0, slash)}/${id++}/${basename(t.object)}`;
      cur = { object, preamble: t.preamble, lines: [], records: 0 };
      files.push(cur);
    }
    for (const l of t.lines) cur.lines.push(v.apply(l, ports));
    cur.records++;
    expectedRows += t.rows;
    expectedQuarantine += t.bad;
  }
  const envelopes: InputMessage[] = [];
  let rawRecords = 0;
  let rawBytes = 0;
  const ingestTime = new Date().toISOString();
  let seq = 0;
  const publish = (object: string, preamble: readonly string[], records: Uint8Array[]) => {
    rawRecords += records.length;
    for (const r of records) rawBytes += r.length;
    const { bodies, oversized } = packLines(records);
    if (oversized.length > 0) throw new Error(`${oversized.length} generated records exceed the envelope cap`);
    for (const b of bodies) {
      const headers: Record<string, string> = {
        [H.encoding]: 'ndjson',
        [H.count]: String(b.count),
        [H.source]: family.name,
        [H.object]: object,
        [H.ingestTime]: ingestTime,
        [H.family]: family.name,
      };
      if (preamble.length > 0) headers[H.preamble] = encodePreamble(preamble);
      envelopes.push({ subject: `raw.${family.name}`, data: b.body, headers, stream: 'RAW', seq: ++seq, deliveryCount: 1 });
    }
  };
  let files = 0;
  for (const list of streams.values()) {
    for (const f of list) {
      files++;
      if (spec.layout === 'lines') {
        // The file as written (header lines on top), then what the collector does with it.
        const framed = frameRecords(enc.encode([...f.preamble, ...f.lines].join('\n') + '\n'), 0, true);
        for (const seg of segmentByPreamble(framed.records, EMPTY_PREAMBLE, family).segments) publish(f.object, seg.preamble, seg.records);
      } else if (spec.layout === 'records-document') {
        const framed = frameRecords(enc.encode(`{"Records":[${f.lines.join(',')}]}`), 0, true);
        publish(f.object, [], framed.records);
      } else {
        // Each container file is one Event Hubs message: one raw record.
        publish(f.object, [], [enc.encode(`{"records":[${f.lines.join(',')}]}`)]);
      }
    }
  }
  // Event Hubs messages of a partition arrive interleaved in one envelope: re-pack the one-message publishes.
  if (spec.layout === 'eventhub') return { envelopes: repack(envelopes), rawRecords, rawBytes, expectedRows, expectedQuarantine, files };
  return { envelopes, rawRecords, rawBytes, expectedRows, expectedQuarantine, files };
}

/** Envelopes of one record each (Event Hubs messages) packed ≤512 KiB as the Kafka source cuts them. */
function repack(single: InputMessage[]): InputMessage[] {
  if (single.length === 0) return single;
  const { bodies } = packLines(single.map((m) => m.data));
  const headers = { ...single[0]!.headers };
  return bodies.map((b, i) => ({ subject: single[0]!.subject, data: b.body, headers: { ...headers, [H.count]: String(b.count) }, stream: 'RAW', seq: i + 1, deliveryCount: 1 }));
}

/** Positional port columns of a Zeek TSV (`#fields … id.orig_p …`) or VPC flow (`… srcport dstport …`) header. */
function portColumnsOf(preamble: readonly string[]): { sep: string; columns: number[] } | undefined {
  const zeek = preamble.find((l) => l.startsWith('#fields\t'));
  if (zeek) {
    const names = zeek.split('\t').slice(1);
    return { sep: '\t', columns: names.flatMap((n, i) => (/(_p|port)$/.test(n) ? [i] : [])) };
  }
  const vpc = preamble.find((l) => / srcport /.test(` ${l} `));
  if (vpc) {
    const names = vpc.trim().split(/\s+/);
    return { sep: ' ', columns: names.flatMap((n, i) => (n === 'srcport' || n === 'dstport' ? [i] : [])) };
  }
  return undefined;
}
