// The conformance core over the project's own fixtures (test/fixtures/<family>/): exact counts per family, the
// test-case wrappers of other projects unwrapped, gzip, preamble runs and batch cuts that do not change the outcome.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConformanceRun, emptyCounts, familyOfFolder, formatReport, runConformance, segmentLines, topReasons, unwrapSample, type Counts } from './conformance.ts';
import { families } from './registry.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures');
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every fixture file of a family, as the samples script hands them in (path relative to the folder walked). */
function fixtureFiles(family: string): { family: string; path: string; content: Uint8Array }[] {
  const dir = join(FIXTURES, family);
  return readdirSync(dir)
    .sort()
    .map((name) => ({ family, path: `${family}/${name}`, content: readFileSync(join(dir, name)) }));
}

const fixture = (family: string, name: string): Buffer => readFileSync(join(FIXTURES, family, name));
const counts = (c: Partial<Counts>): Counts => ({ ...emptyCounts(), ...c });

describe('familyOfFolder', () => {
  it('maps the sample folder names to families, the rest by name', () => {
    expect(familyOfFolder('cisco_ise')).toBe('ise');
    expect(familyOfFolder('crowdstrike_fdr')).toBe('crowdstrike');
    expect(familyOfFolder('defender_xdr')).toBe('defender');
    expect(familyOfFolder('sysmon')).toBe('winlog');
    for (const f of ['cloudtrail', 'vpcflow', 'zeek', 'dhcp', 'threatintel']) expect(familyOfFolder(f)).toBe(f);
    expect(familyOfFolder('syslog')).toBeUndefined();
    expect(familyOfFolder('toString')).toBeUndefined();
  });
});

describe('fixtures of every family', () => {
  const report = runConformance(Object.keys(families).flatMap(fixtureFiles));
  const of = (name: string) => report.families.find((f) => f.family === name)!;

  it('reports each family in registry order and totals that add up', () => {
    expect(report.families.map((f) => f.family)).toEqual(Object.keys(families));
    const sum = emptyCounts();
    for (const f of report.families) for (const k of Object.keys(sum) as (keyof Counts)[]) sum[k] += f.counts[k];
    expect(report.totals).toEqual(sum);
    // Every routed record ends in exactly one place.
    for (const f of report.families) {
      const c = f.counts;
      expect(c.kept + c.dropped + c.quarantined + c.failed + c.unrouted, f.family).toBe(c.routed);
    }
  });

  it('zeek: header lines are preamble, #close is skipped, broken records quarantined or rejected', () => {
    const z = of('zeek');
    expect(z.counts).toEqual(counts({ files: 16, records: 51, preambleLines: 72, routed: 41, kept: 31, quarantined: 8, warned: 2, unrouted: 2, rejected: 2, skipped: 8 }));
    expect(z.tables).toEqual({ zeek_conn: 11, zeek_dhcp: 3, zeek_dns: 5, zeek_http: 4, zeek_notice: 4, zeek_ssl: 4 });
    expect(z.quarantineReasons['zeek_fields: line has 3 fields, #fields declares 7']).toBe(1);
    expect(z.quarantineReasons['parse: column id_orig_p: expected integer, got string "eighty"']).toBe(1);
    expect(z.rejectReasons['parse: expected a JSON object, got array']).toBe(1);
    const conn = z.files.find((f) => f.path === 'zeek/conn.log')!;
    expect(conn).toMatchObject({ wrapper: 'none', framing: 'ndjson' });
    expect(conn.counts).toEqual(counts({ files: 1, records: 4, preambleLines: 8, routed: 3, kept: 3, skipped: 1 }));
  });

  it('ise: a two-segment message is reassembled, an unknown category is unrouted, RADIUS accounting is parsed', () => {
    const i = of('ise');
    expect(i.counts).toEqual(counts({ files: 2, records: 12, routed: 11, kept: 10, unrouted: 1 }));
    expect(i.tables).toEqual({ ise_posture: 2, ise_profiler: 1, ise_radius_accounting: 7 });
    expect(i.unroutedCategories).toEqual({ _unknown: 1 });
  });

  it('cloudtrail: route rejects, coercion and expectation quarantines carry their rules', () => {
    const c = of('cloudtrail');
    expect(c.counts).toEqual(counts({ files: 3, records: 17, routed: 14, kept: 11, quarantined: 3, warned: 2, rejected: 3, skipped: 2 }));
    expect(c.quarantineReasons).toEqual({
      'event_source_present: expectation event_source_present (quarantine): eventSource is a non-empty str…': 1,
      'parse: column eventTime: expected timestamp, got string "yesterday"': 1,
      'parse: column eventTime: required but missing': 1,
    });
    expect(Object.keys(c.rejectReasons).sort()).toEqual([
      'not_object: CloudTrail record is not a JSON object (got array)',
      'not_object: element of Records is not a JSON object',
      'parse: invalid JSON: Unterminated string in JSON at position 82',
    ]);
    expect(c.files.find((f) => f.path === 'cloudtrail/records.json')!.framing).toBe('document');
  });

  it('defender and crowdstrike: every fixture record is kept', () => {
    expect(of('defender').counts).toEqual(counts({ files: 1, records: 18, routed: 18, kept: 18 }));
    expect(Object.values(of('defender').tables).reduce((a, b) => a + b, 0)).toBe(18);
    expect(of('crowdstrike').counts).toEqual(counts({ files: 1, records: 14, routed: 14, kept: 14 }));
  });

  it('formats a readable report', () => {
    const text = formatReport(report);
    expect(text).toContain('== zeek');
    expect(text).toContain('zeek/conn.log  [none, ndjson]  4 → 3 / 0 / 0');
    expect(text).toMatch(/ {4}zeek_conn +11\n/);
    expect(text).toMatch(/== totals\n/);
    expect(text.split('\n').at(-1)).toMatch(/^ {2}total +42 +182 +87 +206 +176 +0 +20 +0 +4 +10 +8 +18$/);
  });
});

describe('test-case wrappers', () => {
  const ctLine = dec.decode(fixture('cloudtrail', 'events.ndjson')).split('\n')[0]!;

  it('a Sekoia intake test case yields its input.message', () => {
    const wrapped = enc.encode(JSON.stringify({ input: { message: ctLine, sekoiaio: { intake: { dialect: 'AWS CloudTrail' } } }, expected: { message: ctLine } }, null, 2));
    const u = unwrapSample(wrapped);
    expect(u.wrapper).toBe('sekoia-test');
    expect(u.records.map((r) => dec.decode(r))).toEqual([ctLine]);
    const run = new ConformanceRun();
    expect(run.addFile('cloudtrail', 'cloudtrail/sekoia/test.json', wrapped).counts).toEqual(counts({ files: 1, records: 1, routed: 1, kept: 1 }));
  });

  it('an Elastic *-expected.json yields event.original (or message) per document; the rest count as skipped', () => {
    const lines = dec.decode(fixture('dhcp', 'dhcpd.syslog')).split('\n').filter(Boolean);
    const doc = { expected: [{ event: { original: lines[0] }, message: 'ignored' }, { message: lines[1] }, { event: { kind: 'event' } }] };
    const u = unwrapSample(enc.encode(JSON.stringify(doc, null, 4)));
    expect(u).toMatchObject({ wrapper: 'elastic-expected', framing: 'ndjson', missing: 1 });
    expect(u.records.map((r) => dec.decode(r))).toEqual([lines[0], lines[1]]);
    const file = new ConformanceRun().addFile('dhcp', 'dhcp/x.log-expected.json', enc.encode(JSON.stringify(doc)));
    expect(file.counts).toMatchObject({ records: 2, skipped: 1 });
  });

  it('raw files and ordinary JSON documents are not unwrapped', () => {
    expect(unwrapSample(fixture('zeek', 'conn.log')).wrapper).toBe('none');
    const records = unwrapSample(fixture('cloudtrail', 'records.json'));
    expect(records).toMatchObject({ wrapper: 'none', framing: 'document' });
    expect(records.records).toHaveLength(5);
    // A document that merely has an `expected` key beside others is data, not a test case.
    expect(unwrapSample(enc.encode('{"expected":[],"other":1}')).wrapper).toBe('none');
  });
});

describe('reading like the collector', () => {
  it('a .gz file is inflated; a broken one is reported, not thrown', () => {
    const plain = new ConformanceRun().addFile('zeek', 'zeek/conn.log', fixture('zeek', 'conn.log'));
    const gz = new ConformanceRun().addFile('zeek', 'zeek/conn.log.gz', gzipSync(fixture('zeek', 'conn.log')));
    expect(gz.counts).toEqual(plain.counts);
    const bad = new ConformanceRun().addFile('zeek', 'zeek/bad.log.gz', enc.encode('not gzip'));
    expect(bad.error).toMatch(/^gunzip failed: /);
    expect(bad.counts).toEqual(counts({ files: 1 }));
  });

  it('a new run of preamble lines replaces the old one', () => {
    const lines = dec.decode(fixture('zeek', 'conn-rotated.log')).split('\n').filter(Boolean).map((l) => enc.encode(l));
    const segs = segmentLines(lines, families.zeek!);
    expect(segs.map((s) => s.records.length)).toEqual([2, 2]);
    expect(segs[0]!.preamble).toHaveLength(8);
    expect(segs[1]!.preamble).toHaveLength(8);
    expect(segs[0]!.preamble.find((l) => l.startsWith('#open'))).toBe('#open\t2024-03-11-00-00-00');
    expect(segs[1]!.preamble.find((l) => l.startsWith('#open'))).toBe('#open\t2024-03-11-01-00-00');
    // Without isPreamble every line is a record.
    expect(segmentLines(lines, families.cloudtrail!)).toEqual([{ preamble: [], records: lines }]);
  });

  it('cutting a file into small envelopes does not change the outcome (the preamble travels with each)', () => {
    const files = fixtureFiles('zeek');
    expect(runConformance(files, 1).totals).toEqual(runConformance(files).totals);
  });

  it('topReasons: most frequent first, ties by text, at most n', () => {
    expect(topReasons({ b: 2, a: 2, c: 5, d: 1 }, 3)).toEqual([
      ['c', 5],
      ['a', 2],
      ['b', 2],
    ]);
  });
});
