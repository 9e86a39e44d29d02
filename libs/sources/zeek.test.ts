// Zeek family over the hand-written fixtures in test/fixtures/zeek: a file is cut the way the collector does it
// (header runs become the preamble of the records after them), then route → decode → table validation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { compileValidator, type Validation } from '@sluice/tables';
import { zeekTables } from '@sluice/tables/zeek';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext } from './sourceFamily.ts';
import { zeekFamily, zeekLogTypeOfObject } from './zeek.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/zeek');
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Batch {
  ctx: RecordContext;
  records: Uint8Array[];
}

/** The collector's cut of a file: a new run of preamble lines starts a new batch carrying that run. */
function batchesOf(text: string, object: string): Batch[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const batches: Batch[] = [];
  let preamble: string[] = [];
  let inRun = false;
  let records: Uint8Array[] = [];
  const flush = (): void => {
    if (records.length > 0) batches.push({ ctx: { source: 'zeek-test', object, preamble }, records });
    records = [];
  };
  lines.forEach((line, i) => {
    if (zeekFamily.isPreamble!(line, i)) {
      if (!inRun) {
        flush();
        preamble = [];
        inRun = true;
      }
      preamble.push(line);
    } else {
      inRun = false;
      records.push(enc.encode(line));
    }
  });
  flush();
  return batches;
}

interface Outcome {
  category: string;
  raw: string;
  /** Set when decode threw. */
  error?: RecordError;
  result?: Validation;
}

const validators = new Map(Object.entries(zeekTables).map(([k, def]) => [k, compileValidator(def)]));

function run(text: string, object: string): { outcomes: Outcome[]; rejected: { rule: string; reason: string; raw: string }[]; skipped: number } {
  const outcomes: Outcome[] = [];
  const rejected: { rule: string; reason: string; raw: string }[] = [];
  let skipped = 0;
  for (const b of batchesOf(text, object)) {
    const r = zeekFamily.route(b.records, b.ctx);
    skipped += r.skipped ?? 0;
    rejected.push(...r.rejected.map((x) => ({ rule: x.rule, reason: x.reason, raw: dec.decode(x.raw) })));
    for (const { category, record } of r.routed) {
      const o: Outcome = { category, raw: dec.decode(record) };
      outcomes.push(o);
      if (category === UNKNOWN_CATEGORY) continue;
      try {
        o.result = validators.get(category)!(zeekFamily.decode!(record, category, b.ctx));
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        o.error = e;
      }
    }
  }
  return { outcomes, rejected, skipped };
}

function fixture(name: string, object = `zeek/2024-03-11/${name}`): ReturnType<typeof run> {
  return run(readFileSync(join(FIXTURES, name), 'utf8'), object);
}

/** Rows of a fixture that every record of must be kept. */
function keptRows(name: string): Record<string, unknown>[] {
  const { outcomes } = fixture(name);
  for (const o of outcomes) expect(o.result?.disposition, `${o.raw}: ${o.error?.message ?? o.result?.reasons.join('; ')}`).toBe('keep');
  return outcomes.map((o) => o.result!.row!);
}

const DAY_2024_03_11 = Date.UTC(2024, 2, 11) / 86_400_000;

describe('zeek family: TSV logs', () => {
  it('conn.log: typed columns, IPv6, unset and (empty) fields, #close skipped', () => {
    const { outcomes, skipped } = fixture('conn.log');
    expect(skipped).toBe(1);
    expect(outcomes.map((o) => o.category)).toEqual(['conn', 'conn', 'conn']);
    const [a, b, c] = keptRows('conn.log');
    expect(a).toMatchObject({
      ts: 1_710_115_200_123_456,
      eventDate: DAY_2024_03_11,
      uid: 'CAbc123def456ghi01',
      id_orig_h: '10.0.0.5',
      id_orig_p: 49152,
      id_resp_h: '93.184.216.34',
      id_resp_p: 443,
      proto: 'tcp',
      service: 'ssl',
      duration: 1.25,
      orig_bytes: 517,
      resp_bytes: 4312,
      conn_state: 'SF',
      local_orig: true,
      local_resp: false,
      history: 'ShADadFf',
      resp_ip_bytes: 4844,
      tunnel_parents: '[]',
      ip_proto: null,
      _rescued_data: null,
    });
    expect(b).toMatchObject({ ts: 1_710_115_201_000_001, id_orig_h: 'fe80::1ff:fe23:4567:890a', id_resp_h: 'ff02::fb', duration: null, orig_bytes: null });
    expect(c).toMatchObject({ service: null, local_orig: null, resp_bytes: null, tunnel_parents: '["CTun1aaaaaaaaaaaaa","CTun2bbbbbbbbbbbbb"]' });
  });

  it('a rotated file with two header blocks decodes each block with its own #fields', () => {
    const { outcomes, skipped } = fixture('conn-rotated.log');
    expect(skipped).toBe(2);
    const rows = outcomes.map((o) => o.result!.row!);
    expect(outcomes.map((o) => o.result!.disposition)).toEqual(['keep', 'keep']);
    expect(rows[0]).toMatchObject({ uid: 'CAbc123def456ghi01', ip_proto: null });
    expect(rows[1]).toMatchObject({ uid: 'CRot123def456ghi04', ts: 1_710_118_800_250_000, id_resp_p: 22, ip_proto: 6, local_resp: true });
  });

  it('dhcp.log: uids set and msg_types vector as JSON, escapes decoded', () => {
    const [a, b] = keptRows('dhcp.log');
    expect(a).toMatchObject({
      ts: 1_710_115_300_010_000,
      uids: '["CDh1aaaaaaaaaaaaaa","CDh2bbbbbbbbbbbbbb"]',
      mac: 'f0:5e:0c:b2:35:bf',
      host_name: 'laptop-23',
      assigned_addr: '10.0.0.23',
      lease_time: 86400,
      msg_types: '["DISCOVER","OFFER","REQUEST","ACK"]',
      duration: 0.512,
    });
    expect(b).toMatchObject({ client_addr: null, assigned_addr: null, server_message: 'wrong network', msg_types: '["REQUEST","NAK"]' });
  });

  it('dns.log: vectors, escaped tab and comma in a name and inside a vector element, bools', () => {
    const [a, b, c] = keptRows('dns.log');
    expect(a).toMatchObject({
      query: 'www.example.com',
      answers: '["www.example.com.cdn.example","93.184.216.34"]',
      TTLs: '[300,60]',
      AA: false,
      RD: true,
      rtt: 0.00087,
      rcode: 0,
      qtype_name: 'A',
    });
    expect(b).toMatchObject({ query: 'odd\tname,with.example', rtt: null, rcode: null, answers: null, id_orig_h: '2001:db8::10' });
    expect(c).toMatchObject({ answers: '["TXT 17 v=spf1,-all"]', TTLs: '[3600]', AA: true });
  });

  it('http.log: UTF-8 escapes, sets of enums, empty vectors', () => {
    const [a, b] = keptRows('http.log');
    expect(a).toMatchObject({ uri: '/café?q=1', referrer: null, tags: '[]', resp_fuids: '["FHt1aaaaaaaaaaaaaa"]', resp_mime_types: '["text/html"]', status_code: 200 });
    expect(b).toMatchObject({
      method: 'POST',
      user_agent: 'Mozilla/5.0 (X11)',
      tags: '["HTTP::URI_SQLI","HTTP::POST_SQLI"]',
      username: 'alice',
      proxied: '[]',
      orig_filenames: '["form.bin"]',
      resp_fuids: '[]',
      status_code: 401,
    });
  });

  it('notice.log: escaped backslash, record fields with dots, a notice without a connection', () => {
    const [a, b] = keptRows('notice.log');
    expect(a).toMatchObject({
      note: 'SSL::Invalid_Server_Cert',
      msg: 'SSL certificate validation failed',
      sub: 'CN=www.example.com,O=Example\\, Inc',
      p: 443,
      actions: '["Notice::ACTION_LOG"]',
      email_dest: '[]',
      suppress_for: 3600,
      remote_location_country_code: 'US',
      remote_location_city: 'Los Angeles',
      remote_location_longitude: -118.24,
    });
    expect(b).toMatchObject({ uid: null, id_orig_h: null, id_orig_p: null, src: '10.0.0.66', n: 15, email_dest: '["soc@example.com"]' });
  });

  it('ssl.log: certificate fingerprints vector, a failed handshake with unset fields', () => {
    const [a, b] = keptRows('ssl.log');
    expect(a).toMatchObject({ version: 'TLSv13', server_name: 'www.example.com', established: true, sni_matches_cert: true, validation_status: 'ok' });
    expect(JSON.parse(a!.cert_chain_fps as string)).toHaveLength(2);
    expect(b).toMatchObject({ version: null, established: false, last_alert: 'unexpected_message', cert_chain_fps: null, id_resp_p: 8443 });
  });
});

describe('zeek family: JSON logs', () => {
  it('conn.json (LogAscii::use_json, epoch seconds): same columns as TSV, undeclared fields rescued', () => {
    const [a, b] = keptRows('conn.json');
    expect(a).toMatchObject({
      ts: 1_710_115_200_123_456,
      eventDate: DAY_2024_03_11,
      id_orig_h: '10.0.0.5',
      id_resp_p: 443,
      local_orig: true,
      community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      tunnel_parents: null,
      _rescued_data: '{"orig_cc":"ZZ"}',
    });
    expect(b).toMatchObject({ id_orig_h: 'fe80::1ff:fe23:4567:890a', tunnel_parents: '["CTun1aaaaaaaaaaaaa"]', duration: null });
  });

  it('dns.json (json-streaming-logs: _path, _write_ts, ISO-8601 ts)', () => {
    const [a, b] = keptRows('dns.json');
    expect(a).toMatchObject({ ts: 1_710_115_500_100_000, write_ts: 1_710_115_500_100_900, TTLs: '[300,60]', _rescued_data: null });
    expect(b).toMatchObject({ query: 'münchen.example', answers: null });
  });

  it('http.json (Kafka plugin wrapper {"http":{...}}; nested id object flattened)', () => {
    const { outcomes } = fixture('http.json', 'topic:zeek:0');
    expect(outcomes.map((o) => o.category)).toEqual(['http', 'http']);
    const [a, b] = outcomes.map((o) => o.result!.row!);
    expect(a).toMatchObject({ uri: '/café?q=1', tags: '[]', resp_mime_types: '["text/html"]', ts: 1_710_115_600_000_000 });
    expect(b).toMatchObject({ id_orig_h: '2001:db8::10', id_orig_p: 50001, id_resp_p: 8080, tags: '["HTTP::URI_SQLI"]' });
  });

  it('ssl.json with JSON::TS_MILLIS integer timestamps', () => {
    const [a] = keptRows('ssl.json');
    expect(a).toMatchObject({ ts: 1_710_115_200_200_000, eventDate: DAY_2024_03_11, _rescued_data: '{"ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}' });
  });

  it('notice: the JSON and TSV forms of one notice give the same row (except lineage-free trailer columns)', () => {
    const tsv = keptRows('notice.log')[0]!;
    const json = keptRows('notice.json')[0]!;
    for (const k of ['ts', 'uid', 'id_orig_h', 'id_resp_p', 'note', 'msg', 'sub', 'src', 'p', 'actions', 'email_dest', 'suppress_for', 'remote_location_country_code', 'eventDate']) {
      expect(json[k], k).toEqual(tsv[k]);
    }
  });

  it('dhcp.json', () => {
    expect(keptRows('dhcp.json')[0]).toMatchObject({ uids: '["CDh1aaaaaaaaaaaaaa","CDh2bbbbbbbbbbbbbb"]', lease_time: 86400, msg_types: '["DISCOVER","OFFER","REQUEST","ACK"]' });
  });

  it('a mixed stream routes by _path; log types without a table go to _unknown', () => {
    const { outcomes } = fixture('mixed.json', 'zeek.json');
    expect(outcomes.map((o) => o.category)).toEqual(['conn', UNKNOWN_CATEGORY, 'ssl']);
  });

  it('TSV fields the table does not declare are rescued, typed by #types', () => {
    const header = '#separator \\x09\n#path\tdhcp\n#fields\tts\tmac\tmac_age\tseen\n#types\ttime\tstring\tstring\tcount\n';
    const { outcomes } = run(`${header}1710115300.0\tf0:5e:0c:b2:35:bf\t2019-01-01\t3\n`, 'x.log');
    expect(outcomes[0]!.result!.row).toMatchObject({ mac: 'f0:5e:0c:b2:35:bf', _rescued_data: '{"mac_age":"2019-01-01","seen":3}' });
  });

  it('unset fields written as null (json_include_unset_fields) are null columns', () => {
    const { outcomes } = run('{"ts":1710115200.5,"uid":"C1","id.orig_h":null,"id.orig_p":null,"service":null,"tunnel_parents":null}\n', 'conn.log');
    expect(outcomes[0]!.result!.row).toMatchObject({ id_orig_h: null, id_orig_p: null, service: null, tunnel_parents: null, _rescued_data: null });
  });
});

describe('zeek family: routing', () => {
  it('takes the log type from #path, else JSON _path, else the object name', () => {
    expect(zeekLogTypeOfObject('conn.log')).toBe('conn');
    expect(zeekLogTypeOfObject('/var/spool/zeek/2024-03-11/conn.00:00:00-01:00:00.log.gz')).toBe('conn');
    expect(zeekLogTypeOfObject('zeek/2024-03-11/dns.log')).toBe('dns');
    expect(zeekLogTypeOfObject('json_streaming_http.1.log')).toBe('http');
    expect(zeekLogTypeOfObject('C:\\logs\\ssl.log')).toBe('ssl');
    expect(zeekLogTypeOfObject('http:7f3c')).toBeUndefined();
    expect(zeekLogTypeOfObject('zeek-dc1:3')).toBeUndefined();

    const line = enc.encode('1710115200.0\tC1');
    const route = (object: string, preamble: string[]): string => zeekFamily.route([line], { source: 's', object, preamble }).routed[0]!.category;
    expect(route('dns.log', ['#path\tconn', '#fields\tts\tuid'])).toBe('conn');
    expect(route('dns.log', [])).toBe('dns');
    expect(route('weird.log', [])).toBe(UNKNOWN_CATEGORY);
    expect(route('http:abc', [])).toBe(UNKNOWN_CATEGORY);
    const json = enc.encode('{"_path":"ssl","ts":1}');
    expect(zeekFamily.route([json], { source: 's', object: 'conn.log', preamble: [] }).routed[0]!.category).toBe('ssl');
  });

  it('keeps record bytes as they arrived', () => {
    const raw = enc.encode('  {"_path":"conn", "ts": 1}  ');
    expect(zeekFamily.route([raw], { source: 's', object: 'x', preamble: [] }).routed[0]!.record).toBe(raw);
  });

  it('isPreamble: header lines yes; #close, data and JSON lines no', () => {
    const yes = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', '#open\t2024-03-11-00-00-00', '#fields\tts', '#types\ttime'];
    for (const l of yes) expect(zeekFamily.isPreamble!(l, 0), l).toBe(true);
    for (const l of ['#close\t2024-03-11-01-00-00', '#comment', '1710115200.0\tC1', '{"ts":1}', '']) expect(zeekFamily.isPreamble!(l, 5), l).toBe(false);
  });

  it('skips blank and # lines, and returns nothing for an empty envelope', () => {
    expect(zeekFamily.route([], { source: 's', object: 'conn.log', preamble: [] })).toEqual({ routed: [], rejected: [], skipped: 0 });
    const r = zeekFamily.route([enc.encode(''), enc.encode('   '), enc.encode('#close\t2024'), enc.encode('#fields\tts')], { source: 's', object: 'conn.log', preamble: [] });
    expect(r).toEqual({ routed: [], rejected: [], skipped: 4 });
  });
});

describe('zeek family: broken input', () => {
  it('broken.log: wrong field counts are RecordErrors, bad values quarantined, missing uid warned', () => {
    const { outcomes } = fixture('broken.log', 'conn.log');
    const summary = outcomes.map((o) => o.error ? `error ${o.error.rule}: ${o.error.message}` : `${o.result!.disposition}: ${[...o.result!.reasons, ...o.result!.warnings].join('; ')}`);
    expect(summary).toEqual([
      'keep: ',
      'error zeek_fields: line has 3 fields, #fields declares 7',
      'error zeek_fields: line has 8 fields, #fields declares 7',
      'quarantine: column ts: required but missing',
      'quarantine: expectation valid_id_orig_p (quarantine): id_orig_p is null or within 0..65535',
      'keep: expectation uid_present (warn): uid is a non-empty string (Zeek writes it on every record of this log; it joins the logs of a connection)',
    ]);
  });

  it('broken.json: bad JSON and arrays rejected by route; type and rule failures quarantined', () => {
    const { outcomes, rejected } = fixture('broken.json', 'conn.log');
    expect(rejected.map((r) => r.rule)).toEqual(['parse', 'parse']);
    expect(rejected[0]!.reason).toMatch(/^invalid JSON: /);
    expect(rejected[1]!.reason).toBe('expected a JSON object, got array');
    // `null` is no JSON object, so it is taken for a TSV line: without a header it cannot be decoded.
    expect(outcomes.at(-1)!.error).toMatchObject({ rule: 'zeek_header' });
    expect(outcomes.slice(0, -1).map((o) => `${o.result!.disposition}: ${[...o.result!.reasons, ...o.result!.warnings].join('; ')}`)).toEqual([
      'quarantine: column ts: required but missing',
      'quarantine: column ts: expected timestamp, got string "yesterday"',
      'quarantine: expectation valid_id_orig_p (quarantine): id_orig_p is null or within 0..65535',
      'quarantine: column id_orig_p: expected integer, got string "eighty"',
      'keep: expectation uid_present (warn): uid is a non-empty string (Zeek writes it on every record of this log; it joins the logs of a connection)',
    ]);
  });

  it('a TSV record without a #fields preamble is a RecordError', () => {
    const { outcomes } = run('1710115200.0\tC1\t10.0.0.1\n', 'conn.log');
    expect(outcomes[0]!.error).toMatchObject({ rule: 'zeek_header', message: 'TSV record without a #fields header line (no Zeek header preceded it in the file)' });
  });

  it('invalid UTF-8 and binary garbage: decode errors or quarantine, never other exceptions', () => {
    const header = '#separator \\x09\n#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n';
    const bad = Buffer.concat([Buffer.from(header), Buffer.from('1710115200.0\tC\xff\xfe1\n', 'latin1'), Buffer.from([0, 1, 2, 0xff, 0x0a])]);
    const { outcomes } = run(bad.toString('latin1'), 'conn.log');
    expect(outcomes[0]!.result!.disposition).toBe('keep');
    expect(outcomes[1]!.error!.rule).toBe('zeek_fields');
  });

  it('a huge field decodes whole', () => {
    const big = 'a'.repeat(1_000_000);
    const header = '#separator \\x09\n#path\thttp\n#fields\tts\tuid\turi\n#types\ttime\tstring\tstring\n';
    const { outcomes } = run(`${header}1710115200.0\tC1\t/${big}\n`, 'http.log');
    expect((outcomes[0]!.result!.row!.uri as string).length).toBe(1_000_001);
  });

  it('__proto__ keys stay data (rescued), no prototype pollution', () => {
    const { outcomes } = run('{"ts":1710115200.5,"uid":"C1","__proto__":{"polluted":1}}\n', 'conn.log');
    const row = outcomes[0]!.result!.row!;
    expect(row._rescued_data).toBe('{"__proto___polluted":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: random bytes and truncated lines never make route throw, nor decode throw anything but RecordError', () => {
    const rng = new Rng(20240311);
    const samples = ['conn.log', 'dns.log', 'http.log', 'notice.json', 'ssl.json', 'conn-rotated.log'].map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
    const preambles = [[], batchesOf(samples[0]!, 'conn.log')[0]!.ctx.preamble, ['#separator \\x', '#fields', '#types\t']];
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (rng.chance(0.5)) {
        const lines = rng.pick(samples).split('\n');
        const line = enc.encode(rng.pick(lines));
        bytes = line.slice(0, rng.int(0, line.length));
        if (rng.chance(0.3) && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      } else {
        bytes = Uint8Array.from({ length: rng.int(0, 64) }, () => (rng.chance(0.2) ? rng.pick([0x7b, 0x09, 0x23, 0x22, 0x2c]) : rng.int(0, 255)));
      }
      const ctx: RecordContext = { source: 's', object: rng.pick(['conn.log', 'dns.json', 'x', 'http:1']), preamble: rng.pick(preambles) };
      const r = zeekFamily.route([bytes], ctx);
      expect(r.routed.length + r.rejected.length + (r.skipped ?? 0)).toBe(1);
      for (const { category, record } of r.routed) {
        if (category === UNKNOWN_CATEGORY) continue;
        try {
          validators.get(category)!(zeekFamily.decode!(record, category, ctx));
        } catch (e) {
          expect(e).toBeInstanceOf(RecordError);
        }
      }
    }
  });
});
