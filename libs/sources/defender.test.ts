// Tests of the Defender XDR family over hand-written Event Hubs records (test/fixtures/defender): routing of every
// AdvancedHunting category to its table, exact typed rows, AdditionalFields as JSON text or object, quarantine
// reasons for wrong types, broken input that never makes route() throw, and the real samples when present.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileValidator, type Validation } from '@sluice/tables';
import { defenderTables } from '@sluice/tables/defender';
import type { Row } from '@sluice/tables';
import { defenderFamily } from './defender.ts';
import { UNKNOWN_CATEGORY, type RecordContext } from './sourceFamily.ts';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/defender/eventhub-payload.json');
const payloadText = readFileSync(FIXTURE, 'utf8');
const payload = JSON.parse(payloadText) as { records: { category: string; properties: Record<string, unknown> }[] };
const ctx: RecordContext = { source: 'defender-eh', object: 'defender-topic:0', preamble: [] };
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Epoch microseconds of a UTC time with a microsecond fraction. */
const us = (y: number, mo: number, d: number, h: number, mi: number, s: number, micro = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) * 1000 + micro;
const MARCH_2 = Date.UTC(2026, 2, 2) / 86_400_000;

const routed = defenderFamily.route([enc.encode(payloadText)], ctx);
const byCategory = new Map(routed.routed.map((r) => [r.category, JSON.parse(dec.decode(r.record)) as Record<string, unknown>]));
const validators = new Map(Object.entries(defenderTables).map(([k, d]) => [k, compileValidator(d)]));

function validate(category: string, props: Record<string, unknown> = {}, drop: string[] = []): Validation {
  const base = byCategory.get(category)!;
  const properties = { ...(base.properties as Record<string, unknown>), ...props };
  for (const k of drop) delete properties[k];
  return validators.get(category)!({ ...base, properties });
}

function keptRow(category: string, props: Record<string, unknown> = {}): Row {
  const v = validate(category, props);
  expect(v.reasons, category).toEqual([]);
  expect(v.warnings, category).toEqual([]);
  expect(v.disposition).toBe('keep');
  return v.row!;
}

const NEW_CATEGORIES = [
  'DeviceEvents',
  'DeviceImageLoadEvents',
  'DeviceInfo',
  'DeviceNetworkInfo',
  'DeviceFileCertificateInfo',
  'EmailEvents',
  'EmailAttachmentInfo',
  'EmailUrlInfo',
  'EmailPostDeliveryEvents',
  'UrlClickEvents',
  'MessagePostDeliveryEvents',
  'IdentityLogonEvents',
  'IdentityQueryEvents',
  'IdentityDirectoryEvents',
  'CloudAppEvents',
  'CloudAuditEvents',
  'AlertInfo',
  'AlertEvidence',
];

describe('defender family: routing', () => {
  it('explodes one Event Hubs payload into one routed record per category, in order', () => {
    expect(routed.rejected).toEqual([]);
    expect(routed.routed.map((r) => r.category)).toEqual(NEW_CATEGORIES);
    expect(payload.records.map((r) => r.category)).toEqual(NEW_CATEGORIES.map((c) => `AdvancedHunting-${c}`));
  });

  it('names a snake_case silver table per category, partitioned by eventDate with Timestamp as event time', () => {
    const names = NEW_CATEGORIES.map((c) => defenderFamily.tables[c]!.name);
    expect(names).toEqual([
      'defender_device_events',
      'defender_device_image_load_events',
      'defender_device_info',
      'defender_device_network_info',
      'defender_device_file_certificate_info',
      'defender_email_events',
      'defender_email_attachment_info',
      'defender_email_url_info',
      'defender_email_post_delivery_events',
      'defender_url_click_events',
      'defender_message_post_delivery_events',
      'defender_identity_logon_events',
      'defender_identity_query_events',
      'defender_identity_directory_events',
      'defender_cloud_app_events',
      'defender_cloud_audit_events',
      'defender_alert_info',
      'defender_alert_evidence',
    ]);
    for (const c of NEW_CATEGORIES) {
      const def = defenderFamily.tables[c]!;
      expect(def.layer).toBe('silver');
      expect(def.partitionBy).toEqual(['eventDate']);
      expect(def.eventTime).toBe('Timestamp');
      expect(def.columns.find((col) => col.name === 'Timestamp')).toMatchObject({ type: 'timestamp', nullable: false, from: 'properties.Timestamp' });
      expect(def.columns.find((col) => col.name === 'TenantId')).toMatchObject({ from: 'tenantId' });
      expect(def.columns.every((col) => col.doc)).toBe(true);
    }
  });

  it('routes a single record (no container) and unknown categories to _unknown', () => {
    const one = JSON.stringify(payload.records[2]);
    const other = JSON.stringify({ ...payload.records[2], category: 'AdvancedHunting-SomethingNew' });
    const r = defenderFamily.route([enc.encode(one), enc.encode(other), enc.encode('{"records":[{"category":"toString"},7,null]}')], ctx);
    expect(r.rejected).toEqual([]);
    expect(r.routed.map((x) => x.category)).toEqual(['DeviceInfo', UNKNOWN_CATEGORY, UNKNOWN_CATEGORY, UNKNOWN_CATEGORY, UNKNOWN_CATEGORY]);
    expect(dec.decode(r.routed[0]!.record)).toBe(one); // a single record keeps its bytes
  });
});

describe('defender family: exact rows per table', () => {
  it('DeviceEvents', () => {
    const row = keptRow('DeviceEvents');
    expect(row).toMatchObject({
      Timestamp: us(2026, 3, 2, 9, 14, 27, 123_456),
      eventDate: MARCH_2,
      DeviceId: '4f3a9c1e7b2d8a6f0e5c3b1a9d7f2e4c6b8a0d1f',
      ActionType: 'PowerShellCommand',
      RemoteIP: '203.0.113.77',
      RemotePort: 443,
      LocalPort: 51544,
      FileName: null,
      InitiatingProcessId: 7412,
      InitiatingProcessCreationTime: us(2026, 3, 2, 9, 13, 58, 441_002),
      InitiatingProcessSessionId: 2,
      IsInitiatingProcessRemoteSession: true,
      InitiatingProcessUniqueId: '9007199254748871',
      ReportId: 48213,
      AppGuardContainerId: '',
      MachineGroup: 'Workstations',
      TenantId: '11111111-2222-4333-8444-555555555555',
      _event_hub_time: us(2026, 3, 2, 9, 16, 3, 918_123),
      _time_received_by_svc: us(2026, 3, 2, 9, 15, 40),
    });
    // JSON inside a string stays exactly that text (not re-encoded).
    expect(row.AdditionalFields).toBe(payload.records[0]!.properties.AdditionalFields);
    expect(JSON.parse(row.AdditionalFields as string)).toEqual({ Command: 'Invoke-WebRequest -Uri https://updates.example.net/agent.msi -OutFile $env:TEMP\\agent.msi' });
  });

  it('DeviceImageLoadEvents', () => {
    expect(keptRow('DeviceImageLoadEvents')).toMatchObject({
      Timestamp: us(2026, 3, 2, 9, 18, 44, 500_000),
      ActionType: 'ImageLoaded',
      FileName: 'clrjit.dll',
      FileSize: 1_517_056,
      SHA1: '7c4a8d09ca3762af61e59520943dc26494f8941b',
      InitiatingProcessIntegrityLevel: 'High',
      InitiatingProcessTokenElevation: 'TokenElevationTypeFull',
      ReportId: 48230,
      _time_received_by_svc: null,
    });
  });

  it('DeviceInfo: object AdditionalFields become JSON text, tag lists stay JSON text', () => {
    const row = keptRow('DeviceInfo');
    expect(row).toMatchObject({
      Timestamp: us(2026, 3, 2, 9, 59, 59, 999_000),
      PublicIP: '198.51.100.23',
      OSBuild: 22631,
      IsAzureADJoined: true,
      IsInternetFacing: false,
      OnboardingStatus: 'Onboarded',
      DeviceManualTags: '["finance"]',
      DeviceDynamicTags: '[]',
      MergedDeviceIds: '',
      ReportId: 12,
    });
    expect(row.AdditionalFields).toBe('{"MitigationStatus":"None","Asset":false}');
    expect(JSON.parse(row.LoggedOnUsers as string)).toEqual([{ UserName: 'a.martin', DomainName: 'CORP', Sid: 'S-1-5-21-3623811015-3361044348-30300820-1013' }]);
    expect(defenderTables.DeviceInfo!.enrich).toEqual({ geoip: ['PublicIP'] });
  });

  it('DeviceNetworkInfo: IPAddresses as a real array and the other lists as JSON text', () => {
    const row = keptRow('DeviceNetworkInfo');
    expect(row).toMatchObject({ MacAddress: 'F0-5E-0C-B2-35-BF', NetworkAdapterStatus: 'Up', TunnelType: 'None', DnsAddresses: '["10.20.0.10","10.20.0.11"]', IPv6Dhcp: null, ReportId: 13 });
    expect(JSON.parse(row.IPAddresses as string)).toEqual([
      { IPAddress: '10.20.4.142', SubnetPrefix: 24, AddressType: 'Private' },
      { IPAddress: 'fe80::1c2b:3d4e:5f60:7182', SubnetPrefix: 64, AddressType: 'LinkLocal' },
    ]);
    expect(JSON.parse(row.ConnectedNetworks as string)[0]).toMatchObject({ Name: 'corp.example.com', IsConnectedToInternet: true });
  });

  it('DeviceFileCertificateInfo', () => {
    expect(keptRow('DeviceFileCertificateInfo')).toMatchObject({
      IsSigned: true,
      IsTrusted: true,
      Signer: 'Microsoft Corporation',
      CertificateCreationTime: us(2025, 9, 11, 18, 0, 0),
      CertificateCountersignatureTime: us(2025, 10, 2, 4, 11, 27, 500_000),
      CrlDistributionPointUrls: '["http://www.microsoft.com/pkiops/crl/MicCodSigPCA2011_2011-07-08.crl"]',
      ReportId: 48231,
    });
  });

  it('EmailEvents: string ReportId, int counts, SenderIPv4 enriched', () => {
    const row = keptRow('EmailEvents');
    expect(row).toMatchObject({
      Timestamp: us(2026, 3, 2, 8, 3, 10),
      eventDate: MARCH_2,
      NetworkMessageId: 'a3c5e7f9-1b2d-4f60-8a9b-0c1d2e3f4a5b',
      SenderIPv4: '203.0.113.25',
      EmailClusterId: 3_162_398_878,
      DeliveryAction: 'Delivered',
      BulkComplaintLevel: 2,
      AttachmentCount: 1,
      UrlCount: 2,
      Connectors: '',
      AdditionalFields: null,
      ReportId: 'a3c5e7f9-1b2d-4f60-8a9b-0c1d2e3f4a5b-1234567890123456789-1',
    });
    expect(JSON.parse(row.AuthenticationDetails as string)).toEqual({ SPF: 'pass', DKIM: 'pass', DMARC: 'pass', CompAuth: 'pass' });
    expect(defenderTables.EmailEvents!.enrich?.geoip).toContain('SenderIPv4');
    expect(row).not.toHaveProperty('DeviceId');
  });

  it('EmailAttachmentInfo, EmailUrlInfo, EmailPostDeliveryEvents', () => {
    expect(keptRow('EmailAttachmentInfo')).toMatchObject({ FileName: 'INV-2026-0311.pdf', FileType: 'pdf', FileSize: 184_211, SHA256: '3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea' });
    expect(keptRow('EmailUrlInfo')).toMatchObject({ Url: 'https://billing.partner.example.org/view?id=0311', UrlDomain: 'billing.partner.example.org', UrlLocation: 'Body' });
    expect(keptRow('EmailPostDeliveryEvents')).toMatchObject({
      Timestamp: us(2026, 3, 2, 8, 39, 51),
      ActionType: 'Phish ZAP',
      Action: 'Moved to quarantine',
      DetectionMethods: '{"Phish":["URL detonation reputation"]}',
    });
  });

  it('UrlClickEvents and MessagePostDeliveryEvents', () => {
    expect(keptRow('UrlClickEvents')).toMatchObject({
      Timestamp: us(2026, 3, 2, 8, 11, 47, 331_000),
      ActionType: 'ClickAllowed',
      IPAddress: '198.51.100.23',
      IsClickedThrough: false,
      ThreatTypes: '',
      UrlChain: '["https://billing.partner.example.org/view?id=0311"]',
    });
    const teams = keptRow('MessagePostDeliveryEvents');
    expect(teams).toMatchObject({ TeamsMessageId: '/chats/19:meeting_abc@thread.v2/messages/1772449282000', ActionType: 'Malware ZAP', IsExternalThread: true, ThreadTypes: 'Malware' });
    expect(JSON.parse(teams.RecipientDetails as string)).toEqual([expect.objectContaining({ RecipientSmtpAddress: 'a.martin@corp.example.com', RecipientType: 'User' })]);
  });

  it('IdentityLogonEvents: object AdditionalFields, port given as text converted to integer', () => {
    const row = keptRow('IdentityLogonEvents');
    expect(row).toMatchObject({
      Timestamp: us(2026, 3, 2, 7, 29, 55, 120_000),
      ActionType: 'LogonFailed',
      LogonType: 'Failed logon',
      AccountUpn: 'a.martin@corp.example.com',
      IPAddress: '192.0.2.44',
      Port: 52710,
      DestinationPort: 88,
      ISP: 'Example Telecom',
      UncommonForUser: '["IPAddress"]',
      LastSeenForUser: '{"IPAddress":-1,"DeviceName":0}',
      ReportId: 'e2b1c0d9-8f7e-4a6b-95c4-d3e2f1a0b9c8',
    });
    expect(JSON.parse(row.AdditionalFields as string)).toEqual({ ActionTypeInner: 'wrongpassword', KdcOptions: 'renewableok, canonicalize, renewable, forwardable', Spns: 'krbtgt/CORP.EXAMPLE.COM' });
    expect(defenderTables.IdentityLogonEvents!.enrich).toEqual({ geoip: ['IPAddress'], attribution: ['IPAddress'] });
  });

  it('IdentityQueryEvents and IdentityDirectoryEvents', () => {
    expect(keptRow('IdentityQueryEvents')).toMatchObject({ QueryType: 'EnumerateUsers', Query: '(&(objectClass=group)(cn=Domain Admins))', Port: 61022, DestinationPort: 389 });
    const dir = keptRow('IdentityDirectoryEvents');
    expect(dir).toMatchObject({ ActionType: 'Group Membership changed', TargetAccountUpn: 'b.dupont@corp.example.com', Port: null, DestinationPort: null });
    expect(JSON.parse(dir.AdditionalFields as string)).toMatchObject({ 'TO.GROUP': 'Domain Admins' });
  });

  it('CloudAppEvents: dynamic columns given as objects and arrays become JSON text', () => {
    const row = keptRow('CloudAppEvents');
    expect(row).toMatchObject({
      Timestamp: us(2026, 3, 2, 12, 5, 31),
      ActionType: 'FileDownloaded',
      ApplicationId: 20892,
      AppInstanceId: 0,
      IPAddress: '198.51.100.23',
      IsAnonymousProxy: false,
      CountryCode: 'FR',
      IPTags: '["Corporate egress"]',
      UserAgentTags: null,
      AdditionalFields: '{}',
      ReportId: '61123456_20892_8c7b6a59-4d3e-4f21-9a0b-1c2d3e4f5a6b',
    });
    expect(JSON.parse(row.RawEventData as string)).toMatchObject({ Operation: 'FileDownloaded', ClientIP: '198.51.100.23' });
    expect(JSON.parse(row.ActivityObjects as string)[0]).toMatchObject({ Type: 'File', Name: 'Q1-budget.xlsx' });
  });

  it('CloudAuditEvents', () => {
    expect(keptRow('CloudAuditEvents')).toMatchObject({
      Timestamp: us(2026, 3, 2, 12, 18, 44, 123_456),
      OperationName: 'Microsoft.Compute/virtualMachines/write',
      RawEventData: '{"status":"Succeeded","subStatus":"","callerIpAddress":"198.51.100.23"}',
      ReportId: 'b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e',
    });
  });

  it('AlertInfo and AlertEvidence join on AlertId; technique and category lists stay JSON text', () => {
    const info = keptRow('AlertInfo');
    const evidence = keptRow('AlertEvidence');
    expect(info).toMatchObject({ Timestamp: us(2026, 3, 2, 9, 25, 0), Severity: 'Medium', Category: 'Execution', AttackTechniques: '["PowerShell (T1059.001)","Ingress Tool Transfer (T1105)"]' });
    expect(evidence).toMatchObject({ AlertId: info.AlertId, EntityType: 'Ip', EvidenceRole: 'Related', RemoteIP: '203.0.113.77', Categories: '["Execution"]', CloudPlatform: '', FileSize: null });
    expect(info).not.toHaveProperty('ReportId');
  });
});

describe('defender family: AdditionalFields as JSON text or as an object', () => {
  const object = { Command: 'whoami /all', Nested: { Depth: 2, List: [1, 'two', null] } };

  it.each(['DeviceEvents', 'EmailEvents', 'IdentityLogonEvents', 'IdentityQueryEvents', 'CloudAppEvents', 'CloudAuditEvents', 'AlertEvidence', 'DeviceInfo'])('%s', (category) => {
    const asText = keptRow(category, { AdditionalFields: JSON.stringify(object) }).AdditionalFields;
    const asObject = keptRow(category, { AdditionalFields: object }).AdditionalFields;
    expect(asText).toBe('{"Command":"whoami /all","Nested":{"Depth":2,"List":[1,"two",null]}}');
    expect(asObject).toBe(asText);
    expect(keptRow(category, { AdditionalFields: null }).AdditionalFields).toBeNull();
    // Text that is not JSON is kept as it came (json columns never reject a string).
    expect(keptRow(category, { AdditionalFields: 'not json {' }).AdditionalFields).toBe('not json {');
  });
});

describe('defender family: wrong types and failed expectations', () => {
  const cases: [string, Record<string, unknown>, string[], string, string][] = [
    ['DeviceEvents', { RemotePort: 'https' }, [], 'quarantine', 'column RemotePort: expected integer, got string "https"'],
    ['DeviceEvents', { ReportId: 1.5 }, [], 'quarantine', 'column ReportId: expected long, got number 1.5 (not an integer)'],
    ['DeviceEvents', {}, ['Timestamp'], 'quarantine', 'column Timestamp: required but missing'],
    ['DeviceEvents', { Timestamp: 'yesterday' }, [], 'quarantine', 'column Timestamp: expected timestamp, got string "yesterday"'],
    ['DeviceEvents', { RemotePort: 70_000 }, [], 'drop', 'expectation valid_remote_port (drop): RemotePort is null or within 0..65535'],
    ['DeviceEvents', { DeviceId: '  ' }, [], 'quarantine', 'expectation device_id_present (quarantine)'],
    ['DeviceInfo', { IsAzureADJoined: 'yes' }, [], 'quarantine', 'column IsAzureADJoined: expected boolean, got string "yes"'],
    ['DeviceInfo', { OSBuild: '22631.4391' }, [], 'quarantine', 'column OSBuild: expected long, got string "22631.4391"'],
    ['DeviceNetworkInfo', { ReportId: -1 }, [], 'quarantine', 'expectation report_id_non_negative (quarantine)'],
    ['DeviceFileCertificateInfo', { CertificateExpirationTime: 'never' }, [], 'quarantine', 'column CertificateExpirationTime: expected timestamp, got string "never"'],
    ['EmailEvents', { AttachmentCount: 'many' }, [], 'quarantine', 'column AttachmentCount: expected integer, got string "many"'],
    ['EmailEvents', {}, ['NetworkMessageId'], 'quarantine', 'column NetworkMessageId: required but missing'],
    ['EmailEvents', { NetworkMessageId: '' }, [], 'quarantine', 'expectation network_message_id_present (quarantine)'],
    ['EmailUrlInfo', { NetworkMessageId: 42 }, [], 'keep', ''],
    ['UrlClickEvents', { IsClickedThrough: 'maybe' }, [], 'quarantine', 'column IsClickedThrough: expected boolean, got string "maybe"'],
    ['IdentityLogonEvents', { Port: 'ldap' }, [], 'quarantine', 'column Port: expected integer, got string "ldap"'],
    ['IdentityLogonEvents', { DestinationPort: 99_999 }, [], 'drop', 'expectation valid_destination_port (drop)'],
    ['IdentityQueryEvents', { ReportId: '' }, [], 'quarantine', 'expectation report_id_present (quarantine)'],
    ['CloudAppEvents', { ApplicationId: 'SharePoint' }, [], 'quarantine', 'column ApplicationId: expected integer, got string "SharePoint"'],
    ['CloudAppEvents', { IsAdminOperation: 1 }, [], 'quarantine', 'column IsAdminOperation: expected boolean, got number 1'],
    ['AlertInfo', {}, ['AlertId'], 'quarantine', 'column AlertId: required but missing'],
    ['AlertEvidence', { FileSize: { bytes: 1 } }, [], 'quarantine', 'column FileSize: expected long, got object'],
    ['MessagePostDeliveryEvents', { TeamsMessageId: ' ' }, [], 'quarantine', 'expectation teams_message_id_present (quarantine)'],
  ];

  it.each(cases)('%s %j (without %j) → %s', (category, props, drop, disposition, reason) => {
    const v = validate(category, props, drop);
    expect(v.disposition).toBe(disposition);
    if (reason) expect(v.reasons.join(' | ')).toContain(reason);
    else expect(v.reasons).toEqual([]);
  });

  it('warns on values outside the documented lists, keeping the row', () => {
    const warned = (category: string, props: Record<string, unknown>): string[] => {
      const v = validate(category, props);
      expect(v.disposition).toBe('keep');
      return v.failed;
    };
    expect(warned('DeviceImageLoadEvents', { ActionType: 'ImageUnloaded' })).toEqual(['action_type_known']);
    expect(warned('DeviceEvents', { ActionType: '' })).toEqual(['action_type_present']);
    expect(warned('DeviceEvents', { ActionType: 'SomeBrandNewEvent' })).toEqual([]);
    expect(warned('IdentityLogonEvents', { ActionType: 'LogonAttempted' })).toEqual(['action_type_known']);
    expect(warned('UrlClickEvents', { ActionType: 'ClickMaybe' })).toEqual(['action_type_known']);
    expect(warned('EmailEvents', { DeliveryAction: 'Teleported', EmailDirection: 'Sideways', UrlCount: -1 })).toEqual(['delivery_action_known', 'email_direction_known', 'url_count_non_negative']);
    expect(warned('AlertInfo', { Severity: 'Catastrophic' })).toEqual(['severity_known']);
    expect(warned('AlertEvidence', { EvidenceRole: 'Bystander', EntityType: null })).toEqual(['evidence_role_known', 'entity_type_present']);
    expect(warned('DeviceInfo', { OnboardingStatus: 'Half' })).toEqual(['onboarding_status_known']);
    expect(warned('DeviceFileCertificateInfo', { SHA1: 'abc' })).toEqual(['sha1_present']);
    expect(warned('EmailAttachmentInfo', { SHA256: 'not-a-hash' })).toEqual(['sha256_valid']);
    expect(warned('CloudAuditEvents', { OperationName: null })).toEqual(['operation_name_present']);
  });

  it('ignores unknown properties and huge fields without failing', () => {
    const v = validate('EmailEvents', { BrandNewColumn: { x: 1 }, Subject: 'x'.repeat(2_000_000) });
    expect(v.disposition).toBe('keep');
    expect((v.row!.Subject as string).length).toBe(2_000_000);
    expect(v.row).not.toHaveProperty('BrandNewColumn');
  });
});

describe('defender family: broken input never escapes route()', () => {
  it('rejects bad JSON, truncation, binary garbage, invalid UTF-8 and empty records with a parse reason', () => {
    const inputs = [
      payloadText.slice(0, 1000),
      '{"records":[{"category":"AdvancedHunting-EmailEvents",',
      '',
      '\u0000\u0001\u0002',
      'null]',
    ].map((s) => enc.encode(s));
    inputs.push(new Uint8Array([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]));
    const r = defenderFamily.route(inputs, ctx);
    expect(r.routed).toEqual([]);
    expect(r.rejected).toHaveLength(inputs.length);
    for (const x of r.rejected) {
      expect(x.rule).toBe('parse');
      expect(x.reason).toMatch(/^invalid JSON: /);
    }
    expect(defenderFamily.route([], ctx)).toEqual({ routed: [], rejected: [], skipped: 0 });
  });

  it('accounts for every container: an empty one is skipped, one nested too deeply to re-serialise is rejected', () => {
    const deep = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    const r = defenderFamily.route([enc.encode('{"records":[]}'), enc.encode(`{"records":[{"category":"AdvancedHunting-DeviceEvents"},${deep}]}`)], ctx);
    expect(r.routed).toEqual([]);
    expect(r.skipped).toBe(1);
    expect(r.rejected.map((x) => [x.rule, x.reason])).toEqual([['route', 'cannot route record: Maximum call stack size exceeded']]);
  });

  it('routes valid JSON that is not a record to _unknown (it lands in the unrouted table)', () => {
    const r = defenderFamily.route(['42', '"text"', '[1,2]', '{"records":"no"}', 'null'].map((s) => enc.encode(s)), ctx);
    expect(r.rejected).toEqual([]);
    expect(r.routed.map((x) => x.category)).toEqual(Array(5).fill(UNKNOWN_CATEGORY));
  });

  it('property: random bytes, truncations and byte flips of the payload never throw', () => {
    let seed = 20260302;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const bytes = enc.encode(payloadText);
    for (let i = 0; i < 400; i++) {
      let input: Uint8Array;
      if (i % 3 === 0) input = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      else if (i % 3 === 1) input = bytes.slice(0, Math.floor(rand() * bytes.length));
      else {
        input = bytes.slice();
        for (let k = 0; k < 5; k++) input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
      }
      const r = defenderFamily.route([input], ctx);
      expect(r.routed.length + r.rejected.length).toBeGreaterThanOrEqual(1);
      // Whatever routes to a table must validate to a verdict, never throw.
      for (const x of r.routed) {
        const v = validators.get(x.category);
        if (v) expect(['keep', 'drop', 'quarantine', 'fail']).toContain(v(JSON.parse(dec.decode(x.record))).disposition);
      }
    }
  });
});

// The Sekoia samples are only read when present on this machine (they are not part of the repository).
const SAMPLES = '/work/shared/samples/defender_xdr/sekoia-microsoft-365-defender';
describe.skipIf(!existsSync(SAMPLES))('defender family on the real streamed samples (read-only, when available)', () => {
  it('routes all of them to tables; all keep but three with an anonymised InitiatingProcessSessionId', () => {
    const outcome: Record<string, number> = {};
    for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.json'))) {
      const outer = JSON.parse(readFileSync(join(SAMPLES, file), 'utf8')) as { input: { message: string } };
      const r = defenderFamily.route([enc.encode(outer.input.message)], ctx);
      expect(r.rejected, file).toEqual([]);
      for (const x of r.routed) {
        const v = validators.get(x.category);
        const key = v ? v(JSON.parse(dec.decode(x.record))).disposition : 'unrouted';
        outcome[key] = (outcome[key] ?? 0) + 1;
      }
    }
    expect(outcome).toEqual({ keep: 23, quarantine: 3 });
  });
});
