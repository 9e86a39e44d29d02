// Tests of the CloudTrail family end to end on hand-written fixtures (framing → route → decode → cloudtrail coercion
// and expectations): flattened identity, loosely typed payloads, rescued data, containers, digests, broken input,
// and a property loop over random bytes and truncations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { frameRecords } from '@sluice/formats';
import { compileValidator, type Validation } from '@sluice/tables';
import { assertValidDefinition, type Row } from '@sluice/tables';
import { Rng } from '../../test/fixtures/seededRng.ts';
import { cloudtrailFamily, decodeCloudTrailRecord } from './cloudtrail.ts';
import { RecordError } from './sourceFamily.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/cloudtrail');
const enc = new TextEncoder();
const dec = new TextDecoder();
const validate = compileValidator(cloudtrailFamily.tables.event!);
const ctx = { source: 'trail', object: 'AWSLogs/111122223333/CloudTrail/eu-west-1/2023/11/14/x.json.gz', preamble: [] };
const US = (iso: string) => Date.parse(iso) * 1000;

interface Outcome {
  validations: Validation[];
  decodeErrors: RecordError[];
  rejected: { rule: string; reason: string }[];
  skipped: number;
}

function runRecords(records: Uint8Array[]): Outcome {
  const routed = cloudtrailFamily.route(records, ctx);
  const out: Outcome = { validations: [], decodeErrors: [], rejected: routed.rejected, skipped: routed.skipped ?? 0 };
  for (const r of routed.routed) {
    expect(r.category).toBe('event');
    try {
      out.validations.push(validate(cloudtrailFamily.decode!(r.record, r.category, ctx)));
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      out.decodeErrors.push(e);
    }
  }
  return out;
}

const runFile = (bytes: Uint8Array) => runRecords(frameRecords(bytes, 0, true).records);
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const rows = (o: Outcome): Row[] => o.validations.map((v) => v.row!);

describe('cloudtrail table', () => {
  it('is a valid silver definition partitioned by eventDate from eventTime, GeoIP on sourceIPAddress', () => {
    const def = cloudtrailFamily.tables.event!;
    expect(() => assertValidDefinition(def)).not.toThrow();
    expect(def).toMatchObject({ name: 'cloudtrail', eventTime: 'eventTime', partitionBy: ['eventDate'], enrich: { geoip: ['sourceIPAddress'] } });
    expect(def.expectations.map((e) => [e.name, e.action])).toEqual([
      ['event_source_present', 'quarantine'],
      ['event_name_present', 'quarantine'],
      ['event_id_present', 'warn'],
      ['event_type_known', 'warn'],
    ]);
  });
});

describe('a {"Records":[...]} log file', () => {
  const o = runFile(gunzipSync(gzipSync(fixture('records.json'))));
  const [api, login, service, insight, evolved] = rows(o);

  it('explodes to one kept row per record', () => {
    expect(o.validations.map((v) => [v.disposition, v.warnings])).toEqual([
      ['keep', []],
      ['keep', []],
      ['keep', []],
      ['keep', []],
      ['keep', []],
    ]);
  });

  it('types an API call: timestamps in µs, booleans, flattened identity and TLS, JSON text payloads', () => {
    expect(api).toMatchObject({
      eventTime: US('2023-11-14T22:13:20Z'),
      eventDate: 19675,
      eventVersion: '1.09',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      awsRegion: 'eu-west-1',
      sourceIPAddress: '203.0.113.50',
      eventID: '9f1e2d3c-aaaa-bbbb-cccc-ddddeeeeffff',
      eventType: 'AwsApiCall',
      eventCategory: 'Management',
      readOnly: false,
      managementEvent: true,
      sessionCredentialFromConsole: true,
      userIdentityType: 'IAMUser',
      userIdentityArn: 'arn:aws:iam::111122223333:user/alice',
      userIdentityUserName: 'alice',
      userIdentityAccessKeyId: 'AKIAEXAMPLEKEY000001',
      tlsVersion: 'TLSv1.3',
      tlsCipherSuite: 'TLS_AES_128_GCM_SHA256',
      tlsClientProvidedHostHeader: 'ec2.eu-west-1.amazonaws.com',
      errorCode: null,
      additionalEventData: null,
      _rescued_data: null,
    });
    expect(JSON.parse(api!.requestParameters as string)).toEqual({
      instancesSet: { items: [{ imageId: 'ami-0abc1234', minCount: 1, maxCount: 1 }] },
      instanceType: 't3.micro',
    });
    expect(JSON.parse(api!.resources as string)).toEqual([
      { ARN: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234', accountId: '111122223333', type: 'AWS::EC2::Instance' },
    ]);
  });

  it('flattens an assumed-role session (compact creationDate normalised) and keeps additionalEventData as a map', () => {
    expect(login).toMatchObject({
      eventTime: US('2023-11-14T23:59:59Z'),
      eventDate: 19675,
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      userIdentityType: 'AssumedRole',
      sessionIssuerType: 'Role',
      sessionIssuerArn: 'arn:aws:iam::111122223333:role/Admin',
      sessionIssuerUserName: 'Admin',
      sessionMfaAuthenticated: false,
      sessionCreationDate: US('2023-11-14T22:00:00Z'),
      sessionSourceIdentity: 'bob@example.com',
      sessionWebIdFederationData: '{}',
      requestParameters: null,
      responseElements: '{"ConsoleLogin":"Success"}',
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' },
    });
  });

  it('reads service events and Insights events (which have no eventSource/eventName of their own)', () => {
    expect(service).toMatchObject({
      eventTime: US('2023-11-15T00:00:00.123Z'),
      eventDate: 19676,
      eventType: 'AwsServiceEvent',
      userIdentityInvokedBy: 'secretsmanager.amazonaws.com',
      userIdentityType: null,
      sourceIPAddress: 'secretsmanager.amazonaws.com',
    });
    expect(JSON.parse(service!.serviceEventDetails as string)).toMatchObject({ versionId: 'e5f6a7b8-0000' });
    expect(insight).toMatchObject({ eventType: 'AwsCloudTrailInsight', eventSource: null, eventName: null, sharedEventID: '7e8f9a0b-1111-2222-3333-444455556666' });
    expect(JSON.parse(insight!.insightDetails as string)).toMatchObject({ state: 'Start', eventName: 'ListUsers' });
  });

  it('rescues new fields (top level and in userIdentity) and values whose type does not fit', () => {
    expect(evolved).toMatchObject({ eventVersion: '1.10', userIdentityUserName: 'alice', userAgent: null, readOnly: null });
    expect(JSON.parse(evolved!._rescued_data as string)).toEqual({
      futureTopLevel: { a: 1 },
      'userIdentity.futureIdentityKey': 'x',
      userAgent: { unexpected: 'object' },
      readOnly: 'maybe',
    });
  });
});

describe('single events, containers on one line, digests, CloudWatch Logs batches', () => {
  const o = runFile(fixture('events.ndjson'));

  it('routes bare events, explodes a Records line and CloudWatch messages, skips the digest and control message', () => {
    expect(o.skipped).toBe(2);
    expect(o.rejected).toEqual([]);
    expect(rows(o).map((r) => [r.eventName, r.eventTime])).toEqual([
      ['GetObject', US('2023-11-14T22:30:00Z')],
      ['ListUsers', US('2023-11-14T22:31:00Z')],
      ['ListRoles', US('2023-11-14T22:32:00Z')],
      ['Decrypt', US('2023-11-14T22:33:00Z')],
    ]);
  });

  it('types a data event: nested additionalEventData values become JSON text in the map', () => {
    expect(rows(o)[0]).toMatchObject({
      eventCategory: 'Data',
      managementEvent: false,
      readOnly: true,
      vpcEndpointId: 'vpce-0abc1234',
      sessionEc2RoleDelivery: '2.0',
      sessionCreationDate: US('2023-11-14T21:00:00Z'),
      additionalEventData: {
        SignatureVersion: 'SigV4',
        bytesTransferredIn: '0',
        bytesTransferredOut: '52311',
        'x-amz-id-2': 'abc=',
        AuthenticationMethod: 'AuthHeader',
        nested: '{"k":"v"}',
      },
    });
  });

  it('keeps the original bytes of a single-line event and re-serialises exploded elements', () => {
    const lines = dec.decode(fixture('events.ndjson')).split('\n');
    const routed = cloudtrailFamily.route(frameRecords(fixture('events.ndjson'), 0, true).records, ctx).routed;
    expect(dec.decode(routed[0]!.record)).toBe(lines[0]);
    expect(JSON.parse(dec.decode(routed[1]!.record))).toMatchObject({ eventName: 'ListUsers' });
  });

  it('takes the event time from @timestamp when a Logstash re-ship dropped eventTime', () => {
    const rec = { '@timestamp': '2020-09-14T00:44:23.000Z', '@version': '1', eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', eventID: 'e1', eventType: 'AwsApiCall' };
    const [row] = rows(runRecords([enc.encode(JSON.stringify(rec))]));
    expect(row).toMatchObject({ eventTime: US('2020-09-14T00:44:23Z'), eventDate: 18519, _rescued_data: '{"@timestamp":"2020-09-14T00:44:23.000Z","@version":"1"}' });
  });
});

describe('broken input', () => {
  it('gives each broken record a readable rule and reason', () => {
    const o = runFile(fixture('broken.ndjson'));
    expect(o.rejected.map((r) => r.rule)).toEqual(['parse', 'not_object', 'not_object']);
    expect(o.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^invalid JSON: /),
      'CloudTrail record is not a JSON object (got array)',
      'element of Records is not a JSON object',
    ]);
    expect(o.validations.map((v) => [v.disposition, v.reasons])).toEqual([
      ['keep', []],
      ['quarantine', ['column eventTime: required but missing']],
      ['quarantine', ['column eventTime: expected timestamp, got string "yesterday"']],
      [
        'quarantine',
        [
          'expectation event_source_present (quarantine): eventSource is a non-empty string (Insights events, which carry it in insightDetails, excepted)',
          'expectation event_name_present (quarantine): eventName is a non-empty string (Insights events excepted)',
        ],
      ],
      ['keep', []],
    ]);
    const last = o.validations[4]!;
    expect(last.warnings.map((w) => w.split(' ')[1])).toEqual(['event_id_present', 'event_type_known']);
    expect(last.row).toMatchObject({ additionalEventData: null, userIdentityType: null });
    expect(JSON.parse(last.row!._rescued_data as string)).toEqual({ userIdentity: 'root', additionalEventData: 'not-a-map' });
  });

  it('rejects invalid UTF-8 and quarantines unsplit containers reaching decode', () => {
    const bad = new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
    expect(cloudtrailFamily.route([bad], ctx).rejected.map((r) => [r.rule, r.reason])).toEqual([['encoding', 'CloudTrail record is not valid UTF-8']]);
    expect(() => decodeCloudTrailRecord(bad)).toThrow(RecordError);
    expect(() => decodeCloudTrailRecord(enc.encode('{"Records":[]}'))).toThrow(/unsplit/);
    expect(() => decodeCloudTrailRecord(enc.encode('"text"'))).toThrow(/not a JSON object/);
  });

  it('keeps a "__proto__" key as rescued data without touching prototypes', () => {
    const text = '{"eventTime":"2023-11-14T22:13:20Z","eventSource":"s","eventName":"n","__proto__":{"polluted":1},"userIdentity":{"__proto__":{"x":1}}}';
    const [row] = rows(runRecords([enc.encode(text)]));
    expect(JSON.parse(row!._rescued_data as string)).toEqual({ ['__proto__']: { polluted: 1 }, 'userIdentity.__proto__': { x: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stores a huge requestParameters as JSON text', () => {
    const big = { eventTime: '2023-11-14T22:13:20Z', eventSource: 's3.amazonaws.com', eventName: 'PutObject', eventID: 'e', requestParameters: { blob: 'x'.repeat(300_000) } };
    const [row] = rows(runRecords([enc.encode(JSON.stringify(big))]));
    expect((row!.requestParameters as string).length).toBe(300_000 + '{"blob":""}'.length);
  });

  it('routes nothing for an empty envelope', () => {
    expect(cloudtrailFamily.route([], ctx)).toEqual({ routed: [], rejected: [], skipped: 0 });
  });

  it('never throws anything but RecordError on random bytes and truncations (property loop)', () => {
    const rng = new Rng(11);
    const seeds = [dec.decode(fixture('records.json')), ...dec.decode(fixture('events.ndjson')).split('\n').filter(Boolean)];
    for (let i = 0; i < 2000; i++) {
      let bytes: Uint8Array;
      if (rng.chance(0.3)) {
        bytes = new Uint8Array(rng.int(0, 64));
        for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(0, 255);
      } else {
        const b = enc.encode(rng.pick(seeds));
        bytes = b.slice(0, rng.int(0, b.length));
        if (rng.chance(0.3) && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      }
      const r = cloudtrailFamily.route([bytes], ctx);
      expect(r.routed.length + r.rejected.length + (r.skipped ?? 0)).toBeGreaterThanOrEqual(1);
      for (const x of r.routed) {
        try {
          validate(cloudtrailFamily.decode!(x.record, x.category, ctx));
        } catch (e) {
          expect(e).toBeInstanceOf(RecordError);
        }
      }
    }
  });
});

describe('containers that carry nothing or events without a message', () => {
  it('counts an empty Records file and an empty DATA_MESSAGE as skipped, rejects log events without a message', () => {
    const r = cloudtrailFamily.route(
      ['{"Records":[]}', '{"messageType":"DATA_MESSAGE","logEvents":[]}', '{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1},"x"]}'].map((s) => enc.encode(s)),
      ctx,
    );
    expect(r.routed).toEqual([]);
    expect(r.skipped).toBe(2);
    expect(r.rejected.map((x) => [dec.decode(x.raw), x.rule, x.reason])).toEqual([
      ['{"id":"1","timestamp":1}', 'parse', 'CloudWatch Logs event without a string "message"'],
      ['"x"', 'parse', 'CloudWatch Logs event without a string "message"'],
    ]);
  });
});
