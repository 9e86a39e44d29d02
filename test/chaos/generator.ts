// Chaos-suite traffic: N seeded records across Defender (files + HTTP), CrowdStrike, Zeek, DHCP and threat intel,
// each carrying a unique id `CHX<10 digits>` that survives into bronze `raw`, silver `_raw` and quarantine `raw`, so
// the verifier can count every record in every table. A known fraction is malformed (each must land in quarantine
// exactly once); the mixed day of test/fixtures/mixedDayGenerator.ts (scale 1) supplies one planted incident per
// detection, and the bulk traffic is built so that no rule fires on it (no logons, no watched listener ports, no
// indicator values, no Zeek notices, data-quality threshold set for one table only).
import { gzipSync } from 'node:zlib';
import { BUILDERS, iso7, makeDevices, ReportIds, type Ctx, type Device } from '../fixtures/defenderEvents.ts';
import { DAY_START_MS, generateMixedDay } from '../fixtures/mixedDayGenerator.ts';
import { Rng } from '../fixtures/seededRng.ts';

/** Silver tables the traffic lands in (index = code in `Expected.table`). */
export const SILVER_TABLES = [
  'defender_device_process_events',
  'defender_device_network_events',
  'defender_device_file_events',
  'defender_device_registry_events',
  'defender_device_logon_events',
  'crowdstrike_process',
  'crowdstrike_network_connect',
  'crowdstrike_network_listen',
  'zeek_conn',
  'zeek_notice',
  'dhcp',
  'iocs',
] as const;
export type SilverTable = (typeof SILVER_TABLES)[number];
const T = (t: SilverTable) => SILVER_TABLES.indexOf(t);
/** `Expected.table` code of a malformed record: quarantine, not silver. */
export const QUARANTINE = -1;

export const ID_RE = /CHX(\d{10})/;
export const idOf = (n: number) => `CHX${String(n).padStart(10, '0')}`;

/** One unit of input: a file dropped into a source's inbox, or an HTTP POST to /ingest/<source>. */
export type FeedItem =
  | { kind: 'file'; source: string; name: string; content: Buffer; records: number }
  | { kind: 'http'; source: string; body: string; records: number; key: string };

/** Per record id: where it must land. Grows as chunks are generated. */
export class Expected {
  table = new Int8Array(1024);
  count = 0;
  add(code: number): number {
    if (this.count === this.table.length) {
      const t = new Int8Array(this.table.length * 2);
      t.set(this.table);
      this.table = t;
    }
    this.table[this.count] = code;
    return this.count++;
  }
}

const TENANT = '11111111-2222-4333-8444-555555555555';
const HOUR = 3_600_000;

/** Tag a JSON record with a fresh id. */
function tagJson(exp: Expected, code: number, rec: Record<string, unknown>): string {
  return JSON.stringify({ chaos_id: idOf(exp.add(code)), ...rec });
}

/** The planted part (mixed day, scale 1) with ids added; the feed is what replay.test.ts proves gives 5 alerts. */
export function plantedItems(exp: Expected, seed: number): { iocFeed: FeedItem; items: FeedItem[]; rules: string[] } {
  const day = generateMixedDay(seed);
  const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
  const json = (content: string, code: (r: Record<string, unknown>) => number) =>
    lines(content)
      .map((l) => {
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(l) as Record<string, unknown>;
        } catch {
          return `${idOf(exp.add(QUARANTINE))} ${l}`; // malformed on purpose: keep it malformed
        }
        return tagJson(exp, code(r), r);
      })
      .join('\n') + '\n';
  const defenderCode = (r: Record<string, unknown>) => {
    const props = r.properties as Record<string, unknown>;
    if (r.category === 'AdvancedHunting-DeviceLogonEvents') return T('defender_device_logon_events');
    return props.DeviceId === '' ? QUARANTINE : T('defender_device_network_events');
  };
  const csCode = (r: Record<string, unknown>) =>
    r.event_simpleName === 'ProcessRollup2' ? T('crowdstrike_process') : r.event_simpleName === 'NetworkListenIP4' ? T('crowdstrike_network_listen') : T('crowdstrike_network_connect');
  const items: FeedItem[] = [];
  const file = (source: string, name: string, content: string): FeedItem => ({ kind: 'file', source, name, content: Buffer.from(content), records: lines(content).filter((l) => !l.startsWith('#')).length });
  for (const [name, content] of Object.entries(day.files.defender!)) items.push(file('defender', `planted-${name}`, json(content, defenderCode)));
  // CrowdStrike's malformed lines: one is a JSON prefix, one not JSON at all.
  const cs = lines(day.files.crowdstrike!['fdr.ndjson']!)
    .map((l) => {
      try {
        const r = JSON.parse(l) as Record<string, unknown>;
        return tagJson(exp, csCode(r), r);
      } catch {
        const id = idOf(exp.add(QUARANTINE));
        return l.startsWith('{') ? `{"chaos_id":"${id}",${l.slice(1)}` : `${l} ${id}`;
      }
    })
    .join('\n');
  items.push(file('crowdstrike', 'planted-fdr.ndjson', cs + '\n'));
  // Zeek: the id goes in a column nothing reads (conn tunnel_parents, notice sub); the malformed line gets one too.
  const zeek = (content: string, table: SilverTable, col: number) =>
    lines(content)
      // The #close trailer is not a header: it would land in bronze as a record without an id.
      .filter((l) => !l.startsWith('#close'))
      .map((l) => {
        if (l.startsWith('#')) return l;
        const f = l.split('\t');
        if (f.length < 10) return `${l} ${idOf(exp.add(QUARANTINE))}`;
        f[col] = idOf(exp.add(T(table)));
        return f.join('\t');
      })
      .join('\n') + '\n';
  items.push(file('zeek', 'planted-conn.log', zeek(day.files.zeek!['conn.log']!, 'zeek_conn', 20)));
  items.push(file('zeek', 'planted-notice.log', zeek(day.files.zeek!['notice.log']!, 'zeek_notice', 12)));
  // The threat-intel family re-serialises an indicator into silver `_raw`: the id rides in its description.
  const iocFeed = file(
    'threatintel',
    day.iocFeed.name,
    lines(day.iocFeed.content)
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as Record<string, unknown>), description: idOf(exp.add(T('iocs'))) }))
      .join('\n') + '\n',
  );
  return {
    iocFeed,
    items,
    rules: ['vulnerable_service_listening', 'login_from_new_network', 'ioc_match', 'zeek_notice_conn', 'data_quality_quarantine_rate'].sort(),
  };
}

export interface BulkOptions {
  seed: number;
  /** Records in all (planted part excluded). */
  total: number;
  /** Fraction of malformed records. */
  bad: number;
  /** Records per file / HTTP request. */
  chunk: number;
}

const DEFENDER_BULK = [
  ['DeviceProcessEvents', 'defender_device_process_events', 30],
  ['DeviceNetworkEvents', 'defender_device_network_events', 20],
  ['DeviceFileEvents', 'defender_device_file_events', 15],
  ['DeviceRegistryEvents', 'defender_device_registry_events', 10],
] as const;

/**
 * The bulk traffic, one chunk at a time (memory stays flat at 1 M records): per chunk a source is drawn
 * (Defender 62 %: NDJSON file, gzip NDJSON file, HTTP Event Hubs document, HTTP NDJSON; CrowdStrike 15 %, Zeek conn
 * 19 %, DHCP 4 %), then the chunk's records, each malformed with probability `bad`.
 */
export function* bulkItems(exp: Expected, o: BulkOptions): Generator<FeedItem> {
  const rng = new Rng(o.seed * 7919 + 1);
  const ctx: Ctx = { rng, ids: new ReportIds(), startMicros: (DAY_START_MS + HOUR) * 1000, spanMicros: 21 * HOUR * 1000 };
  const devices: Device[] = makeDevices(rng, 200);
  const at = () => DAY_START_MS + HOUR + Math.floor(rng.next() * 21 * HOUR);
  let left = o.total;
  let n = 0;
  while (left > 0) {
    const size = Math.min(left, o.chunk);
    left -= size;
    n++;
    const source = rng.weighted([
      ['defender', 62],
      ['crowdstrike', 15],
      ['zeek', 19],
      ['dhcp', 4],
    ] as const);
    const recs: string[] = [];
    if (source === 'defender') {
      const objs: Record<string, unknown>[] = [];
      for (let i = 0; i < size; i++) {
        const [cat, table] = rng.weighted(DEFENDER_BULK.map(([c, t, w]) => [[c, t] as const, w] as const));
        const dev = rng.pick(devices);
        const ev = BUILDERS[cat](ctx, dev);
        const rec = { time: iso7(ev.micros + 60_000_000, 0), tenantId: TENANT, operationName: 'Publish', category: `AdvancedHunting-${cat}`, properties: ev.props };
        if (rng.chance(o.bad)) {
          // Truncated JSON: the splitter cannot read its category → quarantine (stage splitter, rule parse).
          const id = idOf(exp.add(QUARANTINE));
          objs.push({ __broken: `{"chaos_id":"${id}","category":"AdvancedHunting-${cat}","properties":{"DeviceId":` });
        } else objs.push({ chaos_id: idOf(exp.add(T(table))), ...rec });
      }
      const way = rng.weighted([
        ['file', 40],
        ['gz', 20],
        ['eventhubs', 20],
        ['ndjson', 20],
      ] as const);
      const line = (x: Record<string, unknown>) => (typeof x.__broken === 'string' ? x.__broken : JSON.stringify(x));
      if (way === 'eventhubs' || way === 'ndjson') {
        // The HTTP source refuses a request with an invalid JSON line (400, nothing stored): broken records of an
        // HTTP chunk go in a file instead.
        const good = objs.filter((x) => x.__broken === undefined);
        const broken = objs.filter((x) => x.__broken !== undefined);
        if (good.length && way === 'eventhubs') yield { kind: 'http', source: 'defender', body: JSON.stringify({ records: good }), records: good.length, key: `chaos-${o.seed}-${n}-doc` };
        if (good.length && way === 'ndjson') yield { kind: 'http', source: 'defender', body: good.map(line).join('\n') + '\n', records: good.length, key: `chaos-${o.seed}-${n}-nd` };
        if (broken.length) yield { kind: 'file', source: 'defender', name: `bulk-${n}-broken.ndjson`, content: Buffer.from(broken.map(line).join('\n') + '\n'), records: broken.length };
      } else {
        const text = objs.map(line).join('\n') + '\n';
        yield way === 'gz'
          ? { kind: 'file', source: 'defender', name: `bulk-${n}.ndjson.gz`, content: gzipSync(text), records: objs.length }
          : { kind: 'file', source: 'defender', name: `bulk-${n}.ndjson`, content: Buffer.from(text), records: objs.length };
      }
      continue;
    }
    if (source === 'crowdstrike') {
      for (let i = 0; i < size; i++) {
        const ms = at();
        const h = n % 50;
        const base = { event_simpleName: '', timestamp: String(ms), aid: `a1b2c3d4e5f6071829${String(h).padStart(14, '0')}`, cid: 'c0ffee00c0ffee00c0ffee00c0ffee00', event_platform: 'Win', ComputerName: `CS-BULK-${h}`, ContextTimeStamp: (ms / 1000).toFixed(3) };
        if (rng.chance(o.bad)) {
          recs.push(`{"chaos_id":"${idOf(exp.add(QUARANTINE))}","event_simpleName":"ProcessRollup2","aid":`);
        } else if (rng.chance(0.4)) {
          const id = idOf(exp.add(T('crowdstrike_process')));
          recs.push(JSON.stringify({ chaos_id: id, ...base, event_simpleName: 'ProcessRollup2', name: 'ProcessRollup2V5', id: `p-${id}`, RawProcessId: String(rng.int(400, 9000)), ImageFileName: '\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe', CommandLine: 'cmd.exe /c dir', MD5HashData: rng.hex(32), SHA256HashData: rng.hex(64) }));
        } else {
          const id = idOf(exp.add(T('crowdstrike_network_connect')));
          recs.push(JSON.stringify({ chaos_id: id, ...base, event_simpleName: 'NetworkConnectIP4', name: 'NetworkConnectIP4V5', id: `n-${id}`, LocalAddressIP4: '10.30.1.5', LocalPort: String(rng.int(49152, 65535)), RemoteAddressIP4: `203.0.113.${rng.int(1, 250)}`, RemotePort: '443', Protocol: '6' }));
        }
      }
      yield { kind: 'file', source: 'crowdstrike', name: `bulk-${n}.ndjson`, content: Buffer.from(recs.join('\n') + '\n'), records: size };
      continue;
    }
    if (source === 'zeek') {
      const header = [
        '#separator \\x09',
        '#set_separator\t,',
        '#empty_field\t(empty)',
        '#unset_field\t-',
        '#path\tconn',
        '#open\t2026-03-02-00-00-00',
        '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
        '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]',
      ];
      for (let i = 0; i < size; i++) {
        if (rng.chance(o.bad)) {
          recs.push(`this line is not a conn record ${idOf(exp.add(QUARANTINE))}`);
          continue;
        }
        const ms = at();
        const port = rng.pick([443, 80, 53]);
        const id = idOf(exp.add(T('zeek_conn')));
        recs.push([(ms / 1000).toFixed(6), `C${rng.hex(16)}b`, `10.40.${rng.int(1, 9)}.${rng.int(2, 250)}`, String(rng.int(49152, 65535)), `203.0.113.${rng.int(1, 250)}`, String(port), 'tcp', port === 443 ? 'ssl' : '-', '0.250000', '517', '4312', 'SF', 'T', 'F', '0', 'ShADadFf', '12', '1029', '10', '4844', id].join('\t'));
      }
      yield { kind: 'file', source: 'zeek', name: `bulk-${n}-conn.log`, content: Buffer.from([...header, ...recs, ''].join('\n')), records: size };
      continue;
    }
    // DHCP (ISC dhcpd syslog): the id is the client host name.
    for (let i = 0; i < size; i++) {
      const ms = at();
      const d = new Date(ms);
      const stamp = `Mar  2 ${d.toISOString().slice(11, 19)}`;
      const mac = Array.from({ length: 6 }, () => rng.int(0, 255).toString(16).padStart(2, '0')).join(':');
      const ip = `10.${rng.int(100, 120)}.${rng.int(0, 255)}.${rng.int(2, 250)}`;
      if (rng.chance(o.bad)) {
        // Not syslog at all: quarantined (parse), with its id.
        recs.push(`garbage from a broken relay ${idOf(exp.add(QUARANTINE))}`);
        continue;
      }
      const id = idOf(exp.add(T('dhcp')));
      recs.push(rng.chance(0.5) ? `<30>${stamp} dhcp01 dhcpd[3761]: DHCPACK on ${ip} to ${mac} (${id}) via eth2` : `<30>${stamp} dhcp01 dhcpd[3761]: DHCPOFFER on ${ip} to ${mac} (${id}) via eth2`);
    }
    yield { kind: 'file', source: 'dhcp', name: `bulk-${n}.syslog`, content: Buffer.from(recs.join('\n') + '\n'), records: size };
  }
}
