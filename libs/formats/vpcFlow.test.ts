// Tests of the pure VPC flow log format helpers: header detection, field order inference, line and object parsing.
import { describe, expect, it } from 'vitest';
import {
  fieldsFromPreamble,
  inferVpcFlowFields,
  isVpcFlowHeader,
  normalizeVpcFlowObject,
  parseVpcFlowLine,
  splitVpcFlowLine,
  TGW_FLOW_FIELDS,
  VPC_FLOW_FIELDS,
  VPC_FLOW_V2_FIELDS,
  VpcFlowFormatError,
} from './vpcFlow.ts';

const V2_LINE = '2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 10.0.1.25 49152 443 6 10 4200 1700006340 1700006399 ACCEPT OK';

describe('isVpcFlowHeader', () => {
  it('recognises default and custom header lines', () => {
    expect(isVpcFlowHeader(VPC_FLOW_V2_FIELDS.join(' '))).toBe(true);
    expect(isVpcFlowHeader('version vpc-id subnet-id srcaddr dstaddr start end log-status')).toBe(true);
    expect(isVpcFlowHeader(TGW_FLOW_FIELDS.join(' '))).toBe(true);
  });

  it('accepts a header with a field newer than this list when most fields are known', () => {
    expect(isVpcFlowHeader('version account-id start end quantum-state')).toBe(true);
    expect(isVpcFlowHeader('quantum-state warp-factor start')).toBe(false);
  });

  it('never takes a data line for a header', () => {
    expect(isVpcFlowHeader(V2_LINE)).toBe(false);
    expect(isVpcFlowHeader('vpc-0abc1234 subnet-0abc1234 i-0abc1234')).toBe(false);
    expect(isVpcFlowHeader('2 123456789012 eni-1 - - - - - - - 1431280876 1431280934 - NODATA')).toBe(false);
    expect(isVpcFlowHeader('')).toBe(false);
    expect(isVpcFlowHeader('Version Account-Id')).toBe(false);
  });
});

describe('field order', () => {
  it('takes the last header line of the preamble', () => {
    expect(fieldsFromPreamble(['version srcaddr', 'start end action'])).toEqual(['start', 'end', 'action']);
    expect(fieldsFromPreamble(['# comment'])).toBeUndefined();
    expect(fieldsFromPreamble([])).toBeUndefined();
  });

  it('infers the default v2, cumulative v3–v8 and Transit Gateway layouts by field count', () => {
    const n = (k: number) => Array.from({ length: k }, () => 'x');
    expect(inferVpcFlowFields(n(14))).toEqual(VPC_FLOW_V2_FIELDS);
    expect(inferVpcFlowFields(n(29))?.at(-1)).toBe('traffic-path');
    expect(inferVpcFlowFields(n(39))?.at(-1)).toBe('ecs-task-id');
    expect(inferVpcFlowFields(n(40))?.at(-1)).toBe('reject-reason');
    const tgw = n(36);
    tgw[3] = 'tgw-0123';
    expect(inferVpcFlowFields(tgw)).toBe(TGW_FLOW_FIELDS);
    expect(inferVpcFlowFields(n(36))).toBeUndefined();
    expect(inferVpcFlowFields(n(13))).toBeUndefined();
  });

  it('lists each VPC field once', () => {
    expect(new Set(VPC_FLOW_FIELDS).size).toBe(VPC_FLOW_FIELDS.length);
    expect(new Set(TGW_FLOW_FIELDS).size).toBe(TGW_FLOW_FIELDS.length);
  });
});

describe('parseVpcFlowLine', () => {
  it('maps a default v2 line to column names, keeping values as text', () => {
    expect(parseVpcFlowLine(V2_LINE)).toEqual({
      version: '2',
      account_id: '123456789012',
      interface_id: 'eni-0a1b2c3d4e5f60001',
      srcaddr: '203.0.113.12',
      dstaddr: '10.0.1.25',
      srcport: '49152',
      dstport: '443',
      protocol: '6',
      packets: '10',
      bytes: '4200',
      start: '1700006340',
      end: '1700006399',
      action: 'ACCEPT',
      log_status: 'OK',
    });
  });

  it('turns "-" into null (NODATA rows)', () => {
    const r = parseVpcFlowLine('2 123456789012 eni-1 - - - - - - - 1431280876 1431280934 - NODATA');
    expect(r).toMatchObject({ srcaddr: null, srcport: null, bytes: null, action: null, log_status: 'NODATA', start: '1431280876' });
  });

  it('follows a custom header order and rescues fields it does not know', () => {
    const r = parseVpcFlowLine('1700000000 OK 10.0.0.1 entangled', ['start', 'log-status', 'pkt-srcaddr', 'quantum-state']);
    expect(r).toEqual({ start: '1700000000', log_status: 'OK', pkt_srcaddr: '10.0.0.1', _rescued_data: { 'quantum-state': 'entangled' } });
  });

  it('tolerates tabs, doubled spaces and a trailing CR-less blank', () => {
    expect(splitVpcFlowLine('  2\t123  eni-1 ')).toEqual(['2', '123', 'eni-1']);
  });

  it('rejects a line whose field count fits neither the header nor a known layout', () => {
    expect(() => parseVpcFlowLine('2 123 eni-1')).toThrow(VpcFlowFormatError);
    expect(() => parseVpcFlowLine('2 123 eni-1')).toThrow(/3 fields and no header line/);
    expect(() => parseVpcFlowLine('1 2', ['start', 'end', 'action'])).toThrow(/2 fields but the header line announces 3/);
    expect(() => parseVpcFlowLine('   ')).toThrow(/empty/);
  });
});

describe('normalizeVpcFlowObject', () => {
  it('accepts underscored (Parquet) and hyphenated keys, "-" and null as absent, unknown keys rescued', () => {
    expect(normalizeVpcFlowObject({ account_id: '000123', 'log-status': 'OK', srcport: 443, dstaddr: '-', bytes: null, extra_col: 7 })).toEqual({
      account_id: '000123',
      log_status: 'OK',
      srcport: 443,
      dstaddr: null,
      bytes: null,
      _rescued_data: { extra_col: 7 },
    });
  });

  it('keeps a "__proto__" key as data, not as a prototype', () => {
    const r = normalizeVpcFlowObject(JSON.parse('{"start":1,"__proto__":{"polluted":true}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r._rescued_data!)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
