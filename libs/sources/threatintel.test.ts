// Threat-intel family over the hand-written fixtures in test/fixtures/threatintel: each file is framed the way the
// collector does it (a JSON document's elements, or lines with the `#` lines as preamble), then route → decode →
// `iocs` validation; broken input and random bytes never make route or decode throw anything but RecordError.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { frameRecords } from '@sluice/formats';
import { compileValidator, type Validation } from '@sluice/tables';
import type { Row } from '@sluice/tables';
import { IOC_CATEGORY, threatintelTables } from '@sluice/tables/threatintel';
import { RecordError, UNKNOWN_CATEGORY, type RecordContext, type RouteResult } from './sourceFamily.ts';
import { threatintelFamily as family } from './threatintel.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/threatintel');
const enc = new TextEncoder();
const dec = new TextDecoder();
const validate = compileValidator(threatintelTables[IOC_CATEGORY]!);

/** Epoch microseconds of an ISO instant with whole milliseconds. */
const us = (iso: string): number => Date.parse(iso) * 1000;
/** Epoch days of an ISO date. */
const day = (iso: string): number => Date.parse(iso) / 86_400_000;

interface Outcome {
  category: string;
  record: Record<string, unknown>;
  result: Validation;
}

interface Run {
  route: RouteResult;
  outcomes: Outcome[];
  /** Rows kept by the table (validation disposition keep). */
  rows: Row[];
  unrouted: Record<string, unknown>[];
  quarantined: { record: Record<string, unknown>; reasons: string[] }[];
}

/** The collector's cut of a file: a JSON document's elements, or lines whose `#` run is the preamble. */
function cut(bytes: Uint8Array, object: string): { records: Uint8Array[]; ctx: RecordContext } {
  const framed = frameRecords(bytes, 0, true);
  const preamble: string[] = [];
  const records: Uint8Array[] = [];
  framed.records.forEach((r, i) => {
    const line = dec.decode(r);
    if (framed.framing === 'ndjson' && family.isPreamble!(line, i)) preamble.push(line);
    else records.push(r);
  });
  return { records, ctx: { source: 'ti-test', object, preamble } };
}

function runRecords(records: Uint8Array[], ctx: RecordContext): Run {
  const route = family.route(records, ctx);
  const outcomes: Outcome[] = [];
  for (const r of route.routed) {
    const record = family.decode!(r.record, r.category, ctx) as Record<string, unknown>;
    outcomes.push({ category: r.category, record, result: validate(record) });
  }
  const routedIoc = outcomes.filter((o) => o.category === IOC_CATEGORY);
  return {
    route,
    outcomes,
    rows: routedIoc.filter((o) => o.result.disposition === 'keep').map((o) => o.result.row!),
    unrouted: outcomes.filter((o) => o.category === UNKNOWN_CATEGORY).map((o) => o.record),
    quarantined: routedIoc.filter((o) => o.result.disposition === 'quarantine').map((o) => ({ record: o.record, reasons: o.result.reasons })),
  };
}

function runFile(name: string): Run {
  const { records, ctx } = cut(readFileSync(join(FIXTURES, name)), name);
  return runRecords(records, ctx);
}

function runText(lines: string[], preamble: string[] = []): Run {
  return runRecords(
    lines.map((l) => enc.encode(l)),
    { source: 'ti-test', object: 'inline', preamble },
  );
}

function rowOf(run: Run, indicator: string): Row {
  const row = run.rows.find((r) => r.indicator === indicator);
  if (!row) throw new Error(`no kept row for ${indicator}; kept: ${run.rows.map((r) => String(r.indicator)).join(', ')}`);
  return row;
}

describe('threatintel family: AlienVault OTX', () => {
  it('explodes an export page of pulses into one row per indicator with the pulse fields', () => {
    const run = runFile('otx_pulses.json');
    expect(run.route.rejected).toEqual([]);
    expect(run.route.skipped).toBe(1); // the pulse without indicators
    expect(run.rows).toHaveLength(6);
    expect(rowOf(run, '203.0.113.7')).toEqual({
      indicator: '203.0.113.7',
      type: 'IPv4',
      dataset: 'otx',
      feed_type: 'IPv4',
      first_seen: us('2024-03-18T09:15:01Z'),
      last_seen: us('2024-04-17T00:00:00Z'),
      confidence: null,
      tags: '["loader","phishing"]',
      threat: 'Smoke Loader',
      event_name: 'Sluice test pulse: loader campaign',
      event_id: '65f1a2b3c4d5e6f708192a3b',
      indicator_id: '4100001',
      description: 'C2 server',
      reference: 'https://otx.alienvault.com/pulse/65f1a2b3c4d5e6f708192a3b',
      to_ids: true,
      attributes: { author: 'sluice-tests', tlp: 'white', role: 'command_and_control' },
      eventDate: day('2024-03-18'),
    });
    expect(rowOf(run, '203.0.113.7').first_seen).toBe(1_710_753_301_000_000);
  });

  it('normalises values: IPv6 and hashes lower case, host names without the root dot; is_active 0 → to_ids false', () => {
    const run = runFile('otx_pulses.json');
    expect(rowOf(run, '2001:db8::7')).toMatchObject({ type: 'IPv6', last_seen: null, description: null });
    expect(rowOf(run, '30ea7fa0ad35556eb69f597d842b85ec03019087da4c96709c87a6b372cbd420')).toMatchObject({
      type: 'FileHash-SHA256',
      description: 'Loader',
    });
    expect(rowOf(run, 'mail.loader.example')).toMatchObject({ type: 'hostname', to_ids: false });
    expect(rowOf(run, 'http://dl.loader.example/payload.bin')).toMatchObject({ type: 'URL' });
    expect(rowOf(run, 'billing@loader.example')).toMatchObject({ type: 'email', first_seen: us('2024-03-18T09:15:05Z') });
  });

  it('sends OTX types the table does not hold (CVE) to _unknown and quarantines a short MD5', () => {
    const run = runFile('otx_pulses.json');
    expect(run.unrouted).toHaveLength(1);
    expect(run.unrouted[0]).toMatchObject({ indicator: 'CVE-2023-38831', type: 'CVE', dataset: 'otx', event_id: '65f1a2b3c4d5e6f708192a3b' });
    expect(run.quarantined).toHaveLength(1);
    expect(run.quarantined[0]!.record.indicator).toBe('a4d50eb7472cb1bb40246ffbbff6335');
    expect(run.quarantined[0]!.reasons).toEqual([
      'expectation valid_hash (quarantine): FileHash-MD5/SHA1/SHA256 indicators are 32/40/64 lower-case hex digits',
    ]);
  });

  it('reads indicator-level lines with the pulse as an object or as JSON text; without an ingest time a line without any date is quarantined', () => {
    const run = runFile('otx_indicators.ndjson');
    expect(rowOf(run, 'loader.example')).toMatchObject({
      type: 'domain',
      event_name: 'Indicator-level export',
      event_id: '65f1a2b3c4d5e6f708192a3d',
      tags: '["export"]',
      first_seen: us('2024-03-20T08:00:00Z'),
      attributes: { tlp: 'green' },
    });
    // No indicator `created`: the pulse's creation time stands in.
    expect(rowOf(run, '0318dd21779bf22b30dbbc46c127e7bf3d4fab05')).toMatchObject({
      type: 'FileHash-SHA1',
      first_seen: us('2024-03-20T07:59:59Z'),
      description: 'Win64:Loader',
    });
    expect(run.quarantined).toEqual([{ record: expect.objectContaining({ indicator: '198.51.100.23' }), reasons: ['column first_seen: required but missing'] }]);
  });

  it('dates an indicator that carries no date at all by its ingest time', () => {
    const { records, ctx } = cut(readFileSync(join(FIXTURES, 'otx_indicators.ndjson')), 'otx_indicators.ndjson');
    const run = runRecords(records, { ...ctx, ingestTime: '2024-03-21T12:00:00.000Z' });
    expect(run.quarantined).toEqual([]);
    expect(rowOf(run, '198.51.100.23')).toMatchObject({ type: 'IPv4', first_seen: us('2024-03-21T12:00:00Z') });
  });
});

describe('threatintel family: abuse.ch URLhaus', () => {
  it('reads the CSV export with its `#` header as preamble; quoted commas and quotes survive', () => {
    const run = runFile('urlhaus.csv');
    expect(run.rows).toHaveLength(3);
    expect(rowOf(run, 'http://192.0.2.44:41619/Mozi.m')).toEqual({
      indicator: 'http://192.0.2.44:41619/Mozi.m',
      type: 'URL',
      dataset: 'urlhaus',
      feed_type: 'url',
      first_seen: us('2024-03-19T11:34:09Z'),
      last_seen: null, // still online: last_online is only the latest check
      confidence: null,
      tags: '["elf","Mozi"]',
      threat: 'malware_download',
      event_name: null,
      event_id: null,
      indicator_id: '2786904',
      description: null,
      reference: 'https://urlhaus.abuse.ch/url/2786904/',
      to_ids: null,
      attributes: { url_status: 'online', reporter: 'reporter_a' },
      eventDate: day('2024-03-19'),
    });
    expect(rowOf(run, 'https://files.loader.example/get.php?id=1,2&x="q"')).toMatchObject({
      last_seen: us('2024-03-19T10:30:00Z'),
      tags: null,
      attributes: { url_status: 'offline', reporter: 'reporter_b' },
    });
    expect(rowOf(run, 'http://198.51.100.9/i')).toMatchObject({ last_seen: null, tags: '["32-bit","elf","mips"]' });
  });

  it('rejects a truncated CSV line with the reason', () => {
    const run = runFile('urlhaus.csv');
    expect(run.route.rejected).toHaveLength(1);
    expect(run.route.rejected[0]).toMatchObject({ rule: 'csv', reason: 'CSV: unterminated quoted field in column 3' });
    expect(dec.decode(run.route.rejected[0]!.raw)).toBe('"2786868","2024-03-19 10:00:00","http://198.51.100.10/broken');
  });

  it('recognises a headerless row of the documented layout and rejects rows of another width or feed', () => {
    const row = '"1","2024-03-19 11:34:09","http://192.0.2.1/a","online","","malware_download","","https://urlhaus.abuse.ch/url/1/","r"';
    expect(runText([row]).rows.map((r) => r.indicator)).toEqual(['http://192.0.2.1/a']);
    const header = ['# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter'];
    const short = runText(['"1","2024-03-19 11:34:09","http://192.0.2.1/a"'], header);
    expect(short.route.rejected.map((r) => r.reason)).toEqual(['urlhaus CSV row has 3 fields, the header names 9']);
    const other = runText(['a,b,c']);
    expect(other.route.rejected[0]!.reason).toMatch(/^CSV row of an unknown feed: no URLhaus/);
  });

  it('reads the JSON dump (times with " UTC") and the older API shape (date_added, urlhaus_reference)', () => {
    const run = runFile('urlhaus.ndjson');
    expect(run.rows).toHaveLength(2);
    expect(rowOf(run, 'http://192.0.2.44:41619/Mozi.m')).toMatchObject({ first_seen: us('2024-03-19T11:34:09Z'), tags: '["elf","Mozi"]' });
    expect(rowOf(run, 'http://203.0.113.103:34613/Mozi.m')).toMatchObject({
      first_seen: us('2021-01-14T21:19:13Z'),
      last_seen: null, // offline but no last_online
      tags: null,
      indicator_id: '961548',
      reference: 'https://urlhaus.abuse.ch/url/961548/',
      attributes: { url_status: 'offline', reporter: 'reporter_c', host: '203.0.113.103', larted: 'false' },
    });
  });

  it('reads the keyed JSON dump {"<id>":[{…}]} and the API answer {"query_status","urls":[…]}', () => {
    const dump = runText([JSON.stringify({ '77': [{ dateadded: '2024-01-02 03:04:05 UTC', url: 'http://192.0.2.77/x', url_status: 'online' }] })]);
    expect(dump.rows).toEqual([expect.objectContaining({ indicator: 'http://192.0.2.77/x', indicator_id: '77', first_seen: us('2024-01-02T03:04:05Z') })]);
    const api = runText([JSON.stringify({ query_status: 'ok', urls: [{ id: '9', url: 'http://192.0.2.9/', url_status: 'online', date_added: '2024-01-02 03:04:05 UTC' }] })]);
    expect(api.rows.map((r) => r.indicator_id)).toEqual(['9']);
    const none = runText([JSON.stringify({ query_status: 'no_results' })]);
    expect([none.route.routed.length, none.route.rejected.length, none.route.skipped]).toEqual([0, 0, 1]);
    const bad = runText([JSON.stringify({ query_status: 'illegal_hash' })]);
    expect(bad.route.rejected.map((r) => r.reason)).toEqual(['abuse.ch API answered query_status "illegal_hash"']);
  });
});

describe('threatintel family: abuse.ch MalwareBazaar', () => {
  it('reads the CSV export ("a", "b" separators, n/a for missing): one row per hash', () => {
    const run = runFile('malwarebazaar.csv');
    expect(run.route.rejected).toEqual([]);
    const sha256 = '14b6c6b23529784da9aa426c283c0c36f69131c20a1df09a70b04ce6ee6a6819';
    expect(run.rows.filter((r) => r.indicator_id === sha256).map((r) => [r.type, r.indicator])).toEqual([
      ['FileHash-MD5', '2e51c8185e7464d2d96a7728e0490875'],
      ['FileHash-SHA1', 'e0636782cf910b4a4e267fa276b22e6f2102272a'],
      ['FileHash-SHA256', sha256],
    ]);
    expect(rowOf(run, sha256)).toEqual({
      indicator: sha256,
      type: 'FileHash-SHA256',
      dataset: 'malwarebazaar',
      feed_type: 'sha256_hash',
      first_seen: us('2024-03-19T11:31:27Z'),
      last_seen: null,
      confidence: null,
      tags: null,
      threat: 'AgentTesla',
      event_name: null,
      event_id: null,
      indicator_id: sha256,
      description: null,
      reference: `https://bazaar.abuse.ch/sample/${sha256}/`,
      to_ids: null,
      attributes: {
        file_name: 'invoice.exe',
        file_type: 'exe',
        mime_type: 'application/x-dosexec',
        reporter: 'reporter_d',
        imphash: 'f34d5f2d4577ed6d9ceec516c1f5a744',
      },
      eventDate: day('2024-03-19'),
    });
    // md5 "n/a" gives no row; the file name keeps its quotes.
    const docm = run.rows.filter((r) => r.indicator_id === '07dd7b82ba2a89ba44cc56a5cf47bc2ebd43e8ec51b8c79a07da0a997e2070a2');
    expect(docm.map((r) => r.type)).toEqual(['FileHash-SHA1', 'FileHash-SHA256']);
    expect(docm[0]!.threat).toBeNull();
    expect((docm[0]!.attributes as Record<string, string>).file_name).toBe('doc "quoted".docm');
  });

  it('quarantines a SHA-256 one digit short', () => {
    const run = runFile('malwarebazaar.csv');
    expect(run.quarantined.map((q) => [q.record.type, q.record.indicator, q.reasons[0]])).toEqual([
      [
        'FileHash-SHA256',
        'a57ab36f76a0e07e829e7921a34b80dc855b633a79fd561ada523389e139c9e',
        'expectation valid_hash (quarantine): FileHash-MD5/SHA1/SHA256 indicators are 32/40/64 lower-case hex digits',
      ],
    ]);
  });

  it('reads API records, alone or in {"query_status","data":[…]}', () => {
    const run = runFile('malwarebazaar.ndjson');
    expect(run.rows.map((r) => [r.type, r.indicator])).toEqual([
      ['FileHash-MD5', '95e5ed1721b982a456c50438abb27535'],
      ['FileHash-SHA1', 'e861951fc7ad2f7bfab224f54a320c8c4d0952dc'],
      ['FileHash-SHA256', '0006487cc4d4a330e4b081732a4e6b7ce752c3eb7713f49dc195829071523396'],
      ['FileHash-SHA256', '30ea7fa0ad35556eb69f597d842b85ec03019087da4c96709c87a6b372cbd420'],
    ]);
    expect(run.rows[0]).toMatchObject({
      first_seen: us('2022-08-30T22:36:54Z'),
      tags: '["Dridex","dll"]',
      threat: 'Dridex',
      attributes: { file_name: 'sample.dll', file_type: 'dll', file_size: '246816', origin_country: 'NL', reporter: 'reporter_f' },
    });
    expect(run.rows[3]).toMatchObject({ first_seen: us('2024-03-21T06:00:00Z'), last_seen: us('2024-03-22T06:00:00Z') });
    expect(runText(['{"sha256_hash":null,"md5_hash":"n/a"}']).route.rejected.map((r) => r.reason)).toEqual([
      'MalwareBazaar record without md5_hash, sha1_hash or sha256_hash',
    ]);
  });
});

describe('threatintel family: MISP', () => {
  it('reads an {"Event":…} with attributes and object attributes; descriptive and deleted attributes are skipped', () => {
    const run = runFile('misp_event.json');
    expect(run.route.rejected).toEqual([]);
    expect(run.route.skipped).toBe(4); // text, link, deleted domain, object filename
    expect(run.rows.map((r) => [r.type, r.indicator])).toEqual([
      ['FileHash-MD5', 'a4d50eb7472cb1bb40246ffbbff63355'],
      ['IPv4', '192.0.2.80'],
      ['domain', 'phish.example'],
      ['IPv6', '2001:db8::80'],
      ['URL', 'https://phish.example/Login.php'],
      ['email', 'sender@phish.example'],
      ['FileHash-SHA256', 'a57ab36f76a0e07e829e7921a34b80dc855b633a79fd561ada523389e139c9e5'],
      ['FileHash-SHA1', '488acd2bfe25ef0990156ebf836df9b1f5a14507'],
    ]);
    expect(rowOf(run, 'a4d50eb7472cb1bb40246ffbbff63355')).toEqual({
      indicator: 'a4d50eb7472cb1bb40246ffbbff63355',
      type: 'FileHash-MD5',
      dataset: 'misp',
      feed_type: 'md5',
      first_seen: 1_710_064_801_000_000, // attribute timestamp, epoch seconds as text
      last_seen: null,
      confidence: 75, // osint:certainty="75" on the event
      tags: '["tlp:green","osint:certainty=\\"75\\""]',
      threat: null,
      event_name: 'Sluice test event: phishing wave',
      event_id: '7f2b1c3d-0a4e-4b5f-9c6d-1e2f3a4b5c6d',
      indicator_id: 'a0000001-0000-4000-8000-000000000001',
      description: 'dropper',
      reference: null,
      to_ids: true,
      attributes: { org: 'Sluice CERT', threat_level_id: '2', category: 'Payload delivery' },
      eventDate: day('2024-03-10'),
    });
  });

  it('splits composite values, prefers first_seen/last_seen and attribute tags, names the object', () => {
    const run = runFile('misp_event.json');
    expect(rowOf(run, '192.0.2.80')).toMatchObject({
      feed_type: 'ip-dst|port',
      first_seen: us('2024-03-09T22:00:00Z'),
      last_seen: us('2024-03-12T00:00:00Z'),
      eventDate: day('2024-03-09'),
    });
    expect(rowOf(run, '2001:db8::80')).toMatchObject({ feed_type: 'domain|ip', confidence: 90, indicator_id: 'a0000001-0000-4000-8000-000000000003' });
    expect(rowOf(run, 'https://phish.example/Login.php')).toMatchObject({ to_ids: false });
    expect(rowOf(run, '488acd2bfe25ef0990156ebf836df9b1f5a14507')).toMatchObject({
      feed_type: 'filename|sha1',
      description: 'attachment of the phishing mail',
      attributes: { org: 'Sluice CERT', threat_level_id: '2', category: 'Payload delivery', object: 'file', object_relation: 'malware-sample', file_name: 'invoice.xlsm' },
    });
  });

  it('sends unsupported types (regkey, a CIDR network) to _unknown and quarantines an impossible IPv4', () => {
    const run = runFile('misp_event.json');
    expect(run.unrouted.map((u) => [u.type, u.feed_type, u.indicator])).toEqual([
      ['regkey', 'regkey', 'HKCU\\Software\\Run\\updater'],
      ['CIDR', 'ip-src', '198.51.100.0/24'],
    ]);
    expect(run.quarantined.map((q) => [q.record.indicator, q.reasons])).toEqual([
      ['192.0.2.300', ['expectation valid_ip (quarantine): IPv4/IPv6 indicators are addresses of that family']],
    ]);
  });

  it('reads a bare event (no wrapper, to_ids as "1"); a header-only event is skipped and {} rejected', () => {
    const bare = runFile('misp_event_bare.json');
    expect(bare.rows).toEqual([
      expect.objectContaining({
        indicator: 'cdn.phish.example',
        type: 'hostname',
        to_ids: true,
        event_name: 'Sluice test event without wrapper',
        first_seen: us('2024-03-11T00:00:00Z'), // no attribute time: the event date
      }),
    ]);
    const header = runText([JSON.stringify({ analysis: '1', date: '2017-12-31', info: 'This is a test', threat_level_id: '1' })]);
    expect([header.route.routed.length, header.route.rejected.length, header.route.skipped]).toEqual([0, 0, 1]);
    const empty = runText(['{}']);
    expect(empty.route.rejected.map((r) => [r.rule, r.reason])).toEqual([
      ['shape', 'not a recognised threat-intel record (OTX, URLhaus, MalwareBazaar, MISP or STIX): an empty object'],
    ]);
  });

  it('reads REST search answers: {"response":[{"Event":…}]} and {"response":{"Attribute":[…]}}', () => {
    const events = runText([JSON.stringify({ response: [{ Event: { info: 'E1', uuid: 'e1', date: '2024-01-01', Attribute: [{ type: 'domain', value: 'a.example', timestamp: '1704067200' }] } }] })]);
    expect(events.rows).toEqual([expect.objectContaining({ indicator: 'a.example', event_name: 'E1', first_seen: us('2024-01-01T00:00:00Z') })]);
    const attrs = runText([
      JSON.stringify({ response: { Attribute: [{ type: 'sha1', value: '0318dd21779bf22b30dbbc46c127e7bf3d4fab05', category: 'Payload delivery', timestamp: 1704067200, Event: { info: 'E2', uuid: 'e2' } }] } }),
    ]);
    expect(attrs.rows).toEqual([expect.objectContaining({ type: 'FileHash-SHA1', event_name: 'E2', event_id: 'e2' })]);
  });
});

describe('threatintel family: STIX 2.1', () => {
  it('reads indicator patterns; other object types are skipped', () => {
    const run = runFile('stix_bundle.json');
    expect(run.route.skipped).toBe(3); // identity, malware, relationship
    expect(run.rows.map((r) => [r.type, r.indicator])).toEqual([
      ['FileHash-SHA256', '14b6c6b23529784da9aa426c283c0c36f69131c20a1df09a70b04ce6ee6a6819'],
      ['IPv4', '203.0.113.9'],
      ['domain', 'c2.loader.example'],
      ['FileHash-MD5', 'efb8de7905ba86c0d5830d3c8b9ea489'],
    ]);
    expect(run.rows[0]).toEqual({
      indicator: '14b6c6b23529784da9aa426c283c0c36f69131c20a1df09a70b04ce6ee6a6819',
      type: 'FileHash-SHA256',
      dataset: 'stix',
      feed_type: "file:hashes.'SHA-256'",
      first_seen: 1_709_640_000_123_456,
      last_seen: null,
      confidence: 85,
      tags: '["loader","malicious-activity"]',
      threat: null,
      event_name: 'Loader dropper',
      event_id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
      indicator_id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
      description: 'SHA-256 of the loader dropper.',
      reference: 'https://blog.example/loader',
      to_ids: null,
      attributes: {
        pattern: "[file:hashes.'SHA-256' = '14B6C6B23529784DA9AA426C283C0C36F69131C20A1DF09A70B04CE6EE6A6819']",
        pattern_type: 'stix',
      },
      eventDate: day('2024-03-05'),
    });
    expect(rowOf(run, 'c2.loader.example')).toMatchObject({ event_name: 'C2 endpoints', last_seen: us('2024-06-06T00:00:00Z') });
  });

  it('unroutes non-STIX patterns and networks, rejects patterns without a value comparison, quarantines confidence 150', () => {
    const run = runFile('stix_bundle.json');
    expect(run.unrouted.map((u) => [u.type, u.feed_type])).toEqual([
      ['sigma', 'sigma'],
      ['CIDR', 'ipv4-addr:value'],
    ]);
    expect(run.route.rejected.map((r) => [r.rule, r.reason])).toEqual([
      ['stix_pattern', `STIX pattern has no "object:path = 'value'" comparison: [process:pid > 4]`],
    ]);
    expect(JSON.parse(dec.decode(run.route.rejected[0]!.raw))).toMatchObject({ id: 'indicator--5d6e7f80-91a2-43b4-85d6-e7f8091a2b3c' });
    expect(run.quarantined.map((q) => [q.record.indicator, q.reasons])).toEqual([
      ["http://loader.example/it's", ['expectation confidence_range (quarantine): confidence is null or within 0..100']],
    ]);
  });

  it('reads a single indicator object and a TAXII envelope {"objects":[…]}', () => {
    const ind = { type: 'indicator', id: 'indicator--1', pattern: "[email-addr:value = 'x@phish.example']", valid_from: '2024-01-01T00:00:00Z' };
    expect(runText([JSON.stringify(ind)]).rows.map((r) => [r.type, r.indicator])).toEqual([['email', 'x@phish.example']]);
    expect(runText([JSON.stringify({ more: false, objects: [ind] })]).rows).toHaveLength(1);
    const noTime = runText([JSON.stringify({ ...ind, valid_from: 'yesterday' })]);
    expect(noTime.quarantined[0]!.reasons).toEqual(['column first_seen: expected timestamp, got string "yesterday"']);
  });
});

describe('threatintel family: broken input', () => {
  it('rejects bad JSON, invalid UTF-8, scalars and unknown objects with a reason; skips blank and comment lines', () => {
    const records = [
      enc.encode('{"id":"1","url":"http://192.0.2.1/'), // truncated
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid UTF-8
      enc.encode('42'),
      enc.encode('[1, "x"]'),
      enc.encode('{"hello":"world","n":1}'),
      enc.encode('   '),
      enc.encode('# a comment line the collector did not strip'),
    ];
    const run = runRecords(records, { source: 's', object: 'o', preamble: [] });
    expect(run.route.routed).toEqual([]);
    expect(run.route.skipped).toBe(2);
    expect(run.route.rejected.map((r) => [r.rule, r.reason.replace(/:.*$/s, '')])).toEqual([
      ['parse', 'invalid JSON'],
      ['parse', 'invalid UTF-8'],
      ['csv', 'CSV row of an unknown feed'],
      ['shape', 'expected a threat-intel JSON object, got number'],
      ['shape', 'expected a threat-intel JSON object, got string'],
      ['shape', 'not a recognised threat-intel record (OTX, URLhaus, MalwareBazaar, MISP or STIX)'],
    ]);
    // Elements of a container are rejected as their own JSON.
    expect(dec.decode(run.route.rejected[3]!.raw)).toBe('1');
    expect(run.route.rejected[5]!.reason).toContain('keys hello, n');
  });

  it('rejects wrong-typed indicators and containers nested too deep; routes nothing for empty input', () => {
    expect(family.route([], { source: 's', object: 'o', preamble: [] })).toEqual({ routed: [], rejected: [], skipped: 0 });
    const wrong = runText([
      JSON.stringify({ id: 'p', name: 'P', created: '2024-01-01', indicators: [{ indicator: { v: 1 }, type: 'IPv4' }, 'x', { indicator: 42, type: 'IPv4' }] }),
    ]);
    expect(wrong.route.rejected.map((r) => r.reason)).toEqual(['OTX indicator without "indicator" and "type" text', 'OTX pulse indicator is not an object']);
    // A number is taken as text, and then fails the IP check.
    expect(wrong.quarantined.map((q) => [q.record.indicator, q.reasons[0]])).toEqual([
      ['42', 'expectation valid_ip (quarantine): IPv4/IPv6 indicators are addresses of that family'],
    ]);
    const deep = runText([JSON.stringify([[[[[[{ indicator: '192.0.2.1', type: 'IPv4', created: '2024-01-01' }]]]]]])]);
    expect(deep.route.rejected.map((r) => r.reason)).toEqual(['containers nested deeper than 4 levels']);
  });

  it('keeps a huge description and quarantines a huge non-hex hash', () => {
    const big = 'x'.repeat(1_000_000);
    const run = runText([
      JSON.stringify({ indicator: '192.0.2.5', type: 'IPv4', created: '2024-01-01T00:00:00Z', description: big }),
      JSON.stringify({ indicator: big, type: 'FileHash-SHA256', created: '2024-01-01T00:00:00Z' }),
    ]);
    expect(run.rows).toHaveLength(1);
    expect((run.rows[0]!.description as string).length).toBe(1_000_000);
    expect(run.quarantined[0]!.reasons[0]).toMatch(/^expectation valid_hash/);
  });

  it('decode throws RecordError for bytes that are not a JSON object', () => {
    const ctx = { source: 's', object: 'o', preamble: [] };
    expect(() => family.decode!(enc.encode('{"a":'), IOC_CATEGORY, ctx)).toThrow(RecordError);
    expect(() => family.decode!(enc.encode('[1]'), IOC_CATEGORY, ctx)).toThrow('routed indicator is not a JSON object');
  });

  it('marks `#` lines as preamble', () => {
    expect(family.isPreamble!('# id,dateadded,url', 7)).toBe(true);
    expect(family.isPreamble!('"1","2024-01-01"', 8)).toBe(false);
    expect(family.isPreamble!('{"a":1}', 0)).toBe(false);
  });

  it('never throws from route or decode on random bytes and truncated fixtures', () => {
    const rng = new Rng(20_241_122);
    const ctx: RecordContext = { source: 's', object: 'o', preamble: ['# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter'] };
    const samples = ['otx_pulses.json', 'misp_event.json', 'stix_bundle.json', 'urlhaus.csv', 'malwarebazaar.csv', 'urlhaus.ndjson'].map((f) =>
      readFileSync(join(FIXTURES, f)),
    );
    for (let i = 0; i < 400; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(rng.int(0, 300));
        for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(0, 255);
      } else {
        const src = rng.pick(samples);
        const start = rng.int(0, 40);
        bytes = src.subarray(start, rng.int(start, src.length));
      }
      let route: RouteResult;
      try {
        route = family.route([bytes], ctx);
      } catch (e) {
        throw new Error(`route threw on case ${i}: ${(e as Error).message}`);
      }
      for (const r of route.routed) {
        try {
          validate(family.decode!(r.record, r.category, ctx));
        } catch (e) {
          if (!(e instanceof RecordError)) throw new Error(`decode threw ${(e as Error).name} on case ${i}`);
        }
      }
      for (const r of route.rejected) expect(r.reason.length).toBeGreaterThan(0);
      // decode of arbitrary bytes (a corrupted routed record): an object or a RecordError, nothing else.
      try {
        family.decode!(bytes, IOC_CATEGORY, ctx);
      } catch (e) {
        if (!(e instanceof RecordError)) throw new Error(`decode threw ${(e as Error).name} on raw case ${i}`);
      }
    }
  });
});

describe('threatintel family: hostile documents', () => {
  const ctx = { source: 's', object: 'feeds/x.json', preamble: [] };
  it('counts an empty feed document as skipped and rejects one nested too deeply, never throwing', () => {
    const deep = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    const raw = enc.encode(`{"type":"bundle","objects":[${deep}]}`);
    const r = family.route([enc.encode('[]'), raw], ctx);
    expect(r.routed).toEqual([]);
    expect(r.skipped).toBe(1);
    expect(r.rejected).toEqual([{ raw, rule: 'route', reason: 'cannot route record: Maximum call stack size exceeded' }]);
  });

  it('reads a STIX pattern with a 200 kB run of name characters (once quadratic) and finds its comparison', () => {
    const pattern = `[${'a'.repeat(200_000)} AND ipv4-addr:value = '198.51.100.7']`;
    const bundle = { type: 'bundle', objects: [{ type: 'indicator', id: 'indicator--1', pattern, pattern_type: 'stix', valid_from: '2024-03-01T00:00:00Z' }] };
    const r = family.route([enc.encode(JSON.stringify(bundle))], ctx);
    expect(r.routed.map((x) => (JSON.parse(dec.decode(x.record)) as { indicator: string }).indicator)).toEqual(['198.51.100.7']);
  });
});
