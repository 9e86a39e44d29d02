// Tests of the VPC flow log family end to end on hand-written fixtures (collector preamble → route → decode →
// vpc_flow coercion and expectations), broken input, and a property loop over random bytes and truncations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameRecords } from '@sluice/formats';
import { compileValidator, type Validation } from '@sluice/tables';
import { assertValidDefinition } from '@sluice/tables';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { RecordError, type RecordContext } from './sourceFamily.ts';
import { decodeVpcFlowRecord, vpcflowFamily } from './vpcflow.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/vpcflow');
const enc = new TextEncoder();
const dec = new TextDecoder();
const validate = compileValidator(vpcflowFamily.tables.flow!);
const S = 1_000_000;

interface Outcome {
  validations: Validation[];
  decodeErrors: RecordError[];
  rejected: { rule: string; reason: string }[];
  skipped: number;
}

/** What the collector, splitter and parser do with one file: strip header lines, route, decode, validate. */
function runFile(bytes: Uint8Array, object = 'file.log'): Outcome {
  const framed = frameRecords(bytes, 0, true);
  const preamble: string[] = [];
  const records: Uint8Array[] = [];
  framed.records.forEach((r, i) => {
    const line = dec.decode(r);
    if (vpcflowFamily.isPreamble!(line, i)) preamble.splice(0, preamble.length, line);
    else records.push(r);
  });
  return runRecords(records, { source: 'vpc', object, preamble });
}

function runRecords(records: Uint8Array[], ctx: RecordContext): Outcome {
  const routed = vpcflowFamily.route(records, ctx);
  const out: Outcome = { validations: [], decodeErrors: [], rejected: routed.rejected, skipped: routed.skipped ?? 0 };
  for (const r of routed.routed) {
    expect(r.category).toBe('flow');
    try {
      out.validations.push(validate(vpcflowFamily.decode!(r.record, r.category, ctx)));
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      out.decodeErrors.push(e);
    }
  }
  return out;
}

const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const rows = (o: Outcome) => o.validations.map((v) => v.row!);

describe('vpc_flow table', () => {
  it('is a valid silver definition partitioned by eventDate from start, GeoIP on both addresses', () => {
    const def = vpcflowFamily.tables.flow!;
    expect(() => assertValidDefinition(def)).not.toThrow();
    expect(def).toMatchObject({ name: 'vpc_flow', eventTime: 'start', partitionBy: ['eventDate'], enrich: { geoip: ['srcaddr', 'dstaddr'] } });
    expect(def.columns.filter((c) => c.nullable === false).map((c) => c.name)).toEqual(['start', 'end']);
  });
});

describe('default version 2 lines (no header)', () => {
  const o = runFile(fixture('default-v2.log'));

  it('keeps every line, NODATA and SKIPDATA included', () => {
    expect(o.validations.map((v) => v.disposition)).toEqual(['keep', 'keep', 'keep', 'keep', 'keep', 'keep']);
    expect(o.validations.every((v) => v.warnings.length === 0)).toBe(true);
    expect(o.rejected).toEqual([]);
  });

  it('types the columns and derives eventDate from start (crossing midnight)', () => {
    const [first, second, v6, icmp] = rows(o);
    expect(first).toMatchObject({
      version: 2,
      account_id: '123456789012',
      interface_id: 'eni-0a1b2c3d4e5f60001',
      srcaddr: '203.0.113.12',
      dstaddr: '10.0.1.25',
      srcport: 49152,
      dstport: 443,
      protocol: 6,
      packets: 10,
      bytes: 4200,
      start: 1_700_006_340 * S,
      end: 1_700_006_399 * S,
      action: 'ACCEPT',
      log_status: 'OK',
      vpc_id: null,
      _rescued_data: null,
      eventDate: 19675,
    });
    expect(second).toMatchObject({ start: 1_700_006_400 * S, eventDate: 19676 });
    expect(v6).toMatchObject({ srcaddr: '2001:db8:1::25', dstaddr: '2001:db8:2::7', action: 'REJECT', dstport: 22 });
    expect(icmp).toMatchObject({ protocol: 1, srcport: 0, dstport: 0 });
  });

  it('keeps NODATA / SKIPDATA rows with null traffic fields but the capture window', () => {
    const [, , , , nodata, skipdata] = rows(o);
    for (const r of [nodata!, skipdata!]) {
      expect(r).toMatchObject({ srcaddr: null, dstaddr: null, srcport: null, protocol: null, packets: null, bytes: null, action: null });
      expect(r).toMatchObject({ start: 1_700_006_400 * S, end: 1_700_006_460 * S, eventDate: 19676 });
    }
    expect(nodata!.log_status).toBe('NODATA');
    expect(skipdata!.log_status).toBe('SKIPDATA');
  });
});

describe('custom format announced by a header line', () => {
  it('strips the header as preamble and decodes by its order (v5 fields, leading-zero account)', () => {
    const o = runFile(fixture('custom-v5.log'));
    expect(o.validations.map((v) => v.disposition)).toEqual(['keep', 'keep', 'keep']);
    const [ingress, egress, nodata] = rows(o);
    expect(ingress).toMatchObject({
      version: 5,
      vpc_id: 'vpc-0abc1234def567890',
      instance_id: 'i-0abc1234def567890',
      account_id: '000123456789',
      type: 'IPv4',
      srcport: 51515,
      bytes: 6100,
      packets: 21,
      tcp_flags: 19,
      region: 'eu-west-1',
      az_id: 'euw1-az2',
      flow_direction: 'ingress',
      traffic_path: null,
      pkt_src_aws_service: 'S3',
      pkt_dst_aws_service: null,
      start: 1_700_000_000 * S,
      end: 1_700_000_055 * S,
      eventDate: 19675,
    });
    expect(egress).toMatchObject({ type: 'IPv6', srcaddr: '2001:db8:10::5', action: 'REJECT', tcp_flags: 2, flow_direction: 'egress', traffic_path: 1 });
    expect(nodata).toMatchObject({ log_status: 'NODATA', instance_id: null, srcaddr: null, start: 1_700_000_000 * S });
  });

  it('applies a header that reached the splitter inside the envelope (not stripped by the collector)', () => {
    const lines = dec.decode(fixture('custom-v5.log')).trim().split('\n').map((l) => enc.encode(l));
    const o = runRecords(lines, { source: 'vpc', object: 'http:1', preamble: [] });
    expect(o.skipped).toBe(1);
    expect(rows(o).map((r) => [r.account_id, r.tcp_flags, r.log_status])).toEqual([
      ['000123456789', 19, 'OK'],
      ['000123456789', 2, 'OK'],
      ['000123456789', null, 'NODATA'],
    ]);
  });

  it('rescues a field newer than the table into _rescued_data', () => {
    const file = 'version account-id start end log-status quantum-state\n2 000000000001 1700000000 1700000060 OK entangled\n';
    const [row] = rows(runFile(enc.encode(file)));
    expect(row).toMatchObject({ account_id: '000000000001', log_status: 'OK', _rescued_data: '{"quantum-state":"entangled"}' });
  });

  it('quarantines a line whose field count does not match the header', () => {
    const o = runFile(enc.encode('version start end\n2 1700000000\n'));
    expect(o.decodeErrors.map((e) => [e.rule, e.message])).toEqual([['field_count', '2 fields but the header line announces 3 (version start end …)']]);
  });
});

describe('other layouts', () => {
  it('reads Transit Gateway default lines without a header', () => {
    const [row] = rows(runFile(fixture('tgw-v6.log')));
    expect(row).toMatchObject({
      version: 6,
      resource_type: 'TransitGateway',
      tgw_id: 'tgw-0123456789abcdef0',
      tgw_src_vpc_id: 'vpc-0aaa1111bbbb2222c',
      tgw_pair_attachment_id: 'tgw-attach-0fedcba9876543210',
      srcaddr: '10.1.0.10',
      dstport: 5432,
      packets_lost_no_route: 0,
      tcp_flags: 3,
      flow_direction: 'egress',
      log_status: 'OK',
      action: null,
      eventDate: 19675,
    });
  });

  it('reads Parquet rows delivered as JSON objects, underscored or hyphenated keys', () => {
    const o = runFile(fixture('parquet-rows.ndjson'));
    expect(o.validations.map((v) => v.disposition)).toEqual(['keep', 'keep']);
    const [dns, nodata] = rows(o);
    expect(dns).toMatchObject({ version: 5, account_id: '000123456789', srcport: 53, protocol: 17, bytes: 120, start: 1_700_000_000 * S, end: 1_700_000_010 * S });
    expect(dns).toMatchObject({ vpc_id: 'vpc-0abc1234def567890', flow_direction: 'ingress', traffic_path: null });
    expect(nodata).toMatchObject({ version: 2, account_id: '123456789012', srcaddr: null, bytes: null, log_status: 'NODATA', end: 1_700_000_060 * S });
  });

  it('reads a line wrapped as {"message": …} and CloudWatch Logs subscription batches', () => {
    const line = '2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA';
    const cw = { messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: line }, { id: '2', timestamp: 2, message: line }] };
    const o = runRecords([enc.encode(JSON.stringify({ message: line })), enc.encode(JSON.stringify(cw)), enc.encode('{"messageType":"CONTROL_MESSAGE"}')], {
      source: 'vpc',
      object: 'cw',
      preamble: [],
    });
    expect(o.skipped).toBe(1);
    expect(rows(o).map((r) => [r.interface_id, r.log_status, r.start])).toEqual([
      ['eni-1', 'NODATA', 1_700_000_000 * S],
      ['eni-1', 'NODATA', 1_700_000_000 * S],
      ['eni-1', 'NODATA', 1_700_000_000 * S],
    ]);
  });
});

describe('broken input', () => {
  it('gives each broken line a readable rule and reason', () => {
    const o = runFile(fixture('broken.log'));
    expect(o.rejected.map((r) => r.rule)).toEqual(['parse']);
    expect(o.rejected[0]!.reason).toMatch(/^invalid JSON/);
    expect(o.decodeErrors.map((e) => [e.rule, e.message])).toEqual([
      ['field_count', '9 fields and no header line: expected the default version 2 format (14 fields) or a header announcing the custom format'],
    ]);
    expect(o.validations.map((v) => [v.disposition, v.reasons])).toEqual([
      ['quarantine', ['expectation valid_ports (quarantine): srcport and dstport are null or within 0..65535']],
      ['quarantine', ['column srcport: expected integer, got string "http"']],
      ['quarantine', ['column start: required but missing']],
    ]);
  });

  it('rejects invalid UTF-8, non-object JSON and JSON without flow fields', () => {
    const ctx = { source: 'vpc', object: 'x', preamble: [] };
    const bad = new Uint8Array([0x32, 0x20, 0xff, 0xfe, 0x20, 0x31]);
    expect(vpcflowFamily.route([bad], ctx).rejected.map((r) => [r.rule, r.reason])).toEqual([['encoding', 'flow log record is not valid UTF-8']]);
    expect(() => decodeVpcFlowRecord(bad, [])).toThrow(/not valid UTF-8/);
    expect(() => decodeVpcFlowRecord(enc.encode('{"message": 5}'), [])).toThrow(/none of the flow log fields/);
    for (const text of ['[1,2]', '"2 1 2"', 'null']) {
      let err: unknown;
      try {
        decodeVpcFlowRecord(enc.encode(text), []);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(RecordError);
    }
    expect(() => decodeVpcFlowRecord(enc.encode('version start end'), [])).toThrow(/header line, not a flow record/);
  });

  it('quarantines out-of-range numbers and keeps a huge unknown field rescued', () => {
    const tooBig = `2 1 eni-1 a b 1 2 6 1 ${'9'.repeat(30)} 1700000000 1700000060 ACCEPT OK`;
    const huge = `version start end blob\n2 1700000000 1700000060 ${'x'.repeat(200_000)}\n`;
    const [v] = runFile(enc.encode(tooBig)).validations;
    expect(v!.disposition).toBe('quarantine');
    expect(v!.reasons[0]).toBe(`column bytes: expected long, got string "${'9'.repeat(30)}" (out of safe integer range)`);
    const [row] = rows(runFile(enc.encode(huge)));
    expect((row!._rescued_data as string).length).toBe(200_000 + '{"blob":""}'.length);
  });

  it('routes nothing for an empty envelope', () => {
    expect(vpcflowFamily.route([], { source: 'vpc', object: 'x', preamble: [] })).toEqual({ routed: [], rejected: [], skipped: 0 });
  });

  it('never throws anything but RecordError on random bytes and truncations (property loop)', () => {
    const rng = new Rng(7);
    const seeds = [
      ...dec.decode(fixture('default-v2.log')).split('\n'),
      ...dec.decode(fixture('parquet-rows.ndjson')).split('\n'),
      ...dec.decode(fixture('tgw-v6.log')).split('\n'),
    ].filter(Boolean);
    const preambles = [[], [dec.decode(fixture('custom-v5.log')).split('\n')[0]!]];
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (rng.chance(0.3)) {
        bytes = new Uint8Array(rng.int(0, 64));
        for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(0, 255);
      } else {
        const b = enc.encode(rng.pick(seeds));
        bytes = b.slice(0, rng.int(0, b.length));
        if (rng.chance(0.3) && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      }
      const ctx = { source: 'vpc', object: 'p', preamble: rng.pick(preambles) };
      const r = vpcflowFamily.route([bytes], ctx);
      expect(r.routed.length + r.rejected.length + (r.skipped ?? 0)).toBeGreaterThanOrEqual(1);
      for (const x of r.routed) {
        try {
          validate(vpcflowFamily.decode!(x.record, x.category, ctx));
        } catch (e) {
          expect(e, dec.decode(bytes)).toBeInstanceOf(RecordError);
        }
      }
    }
  });
});

describe('CloudWatch Logs batches with broken events', () => {
  it('rejects events without a message (one nested too deeply to re-serialise rejects its batch) instead of losing them', () => {
    const ctx = { source: 'vpc', object: 'cwl:0', preamble: [] };
    const line = '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 5000 6 1 40 1700000000 1700000060 ACCEPT OK';
    const ok = vpcflowFamily.route([enc.encode(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1"},{"message":"${line}"}]}`)], ctx);
    expect(ok.routed.map((x) => dec.decode(x.record))).toEqual([line]);
    expect(ok.rejected.map((x) => [dec.decode(x.raw), x.rule])).toEqual([['{"id":"1"}', 'parse']]);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const raw = enc.encode(`{"messageType":"DATA_MESSAGE","logEvents":[${deep},{"message":"${line}"}]}`);
    const bad = vpcflowFamily.route([raw], ctx);
    expect(bad.routed).toEqual([]);
    expect(bad.rejected).toEqual([{ raw, rule: 'route', reason: 'cannot route record: Maximum call stack size exceeded' }]);
  });
});
