// Rule 2 through the stateful runtime: per user, networks (AS org, else /24 or /64) learnt silently during the
// learning period, then a login from a never-seen network alerts once per (user, network); known networks, failed
// logons and repeats are silent; each of the four sources works on its real table columns (Arrow round trip).
import { describe, expect, it } from 'vitest';
import { ColumnBuilder, decodeIpc, encodeIpc } from '@sluice/columnar';
import { allTables, fullColumnsOf } from '@sluice/tables';
import { alertId } from './alertId.ts';
import { DetectorRuntime } from './detectorRuntime.ts';
import { arrowBatch, objectBatch } from './eventBatch.ts';
import { DEFAULT_LOGIN_SOURCES, DEFAULT_NEW_NETWORK_CONFIG, NEW_NETWORK_RULE, newNetworkLoginRule, type NewNetworkRuleConfig, type UserNetworks } from './newNetworkLoginRule.ts';

type Row = Record<string, string | number | boolean | null>;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const NOW = new Date('2024-06-01T00:00:00Z');
const IDL = 'defender_identity_logon_events';

function runtime(over: Partial<NewNetworkRuleConfig> = {}, owned = [0, 1, 2, 3]) {
  const rule = newNetworkLoginRule({ ...DEFAULT_NEW_NETWORK_CONFIG, sources: DEFAULT_LOGIN_SOURCES, ...over });
  return new DetectorRuntime<UserNetworks>(rule, 4, owned, { ttlMs: 180 * DAY, maxKeysPerPartition: 10_000 });
}

/** Identity logon rows as plain objects (the enricher's ASN columns are not in the table definition yet). */
const idl = (user: string, ip: string, t: number, over: Row = {}): Row => ({
  Timestamp: t,
  ActionType: 'LogonSuccess',
  AccountUpn: user,
  AccountName: user.split('@')[0]!,
  AccountDomain: 'CORP',
  IPAddress: ip,
  ReportId: `r-${t}`,
  _source: 'defender_xdr',
  _object: 'inbox/idl.json',
  _raw_seq: 5,
  ...over,
});

let seq = 0;
const feed = (rt: DetectorRuntime<UserNetworks>, rows: Row[], table = IDL) => rt.apply(table, ++seq, objectBatch(table, rows), NOW).alerts;

describe('login from a new network', () => {
  it('learns silently during the learning period, then alerts once for a new network', () => {
    const rt = runtime();
    // Day 0–6: three networks learnt, no alert.
    expect(feed(rt, [idl('alice@corp.example', '198.51.100.10', T0), idl('alice@corp.example', '203.0.113.5', T0 + 2 * DAY), idl('alice@corp.example', '192.0.2.77', T0 + 6 * DAY)])).toEqual([]);
    // Day 8: known networks (other hosts in the same /24) are silent.
    expect(feed(rt, [idl('alice@corp.example', '198.51.100.99', T0 + 8 * DAY), idl('alice@corp.example', '203.0.113.200', T0 + 8 * DAY)])).toEqual([]);
    // A new /24 alerts; the same network again (same or another batch) does not.
    const alerts = feed(rt, [idl('alice@corp.example', '100.24.7.9', T0 + 9 * DAY), idl('alice@corp.example', '100.24.7.10', T0 + 9 * DAY + 60_000)]);
    expect(alerts).toHaveLength(1);
    expect(feed(rt, [idl('alice@corp.example', '100.24.7.9', T0 + 10 * DAY)])).toEqual([]);
    const a = alerts[0]!;
    expect(a).toEqual({
      alert_id: alertId(NEW_NETWORK_RULE, 'alice@corp.example', '100.24.7.0/24'),
      rule: NEW_NETWORK_RULE,
      severity: 'medium',
      title: 'Login by alice@corp.example from a new network: 100.24.7.0/24',
      entity: 'alice@corp.example',
      event_time: new Date(T0 + 9 * DAY).toISOString(),
      created_time: NOW.toISOString(),
      detail: { table: IDL, user: 'alice@corp.example', account: 'alice@corp.example', network: '100.24.7.0/24', ip: '100.24.7.9', country: null, city: null, known_networks: 3, first_login: new Date(T0).toISOString() },
      evidence: [{ table: IDL, source: 'defender_xdr', object: 'inbox/idl.json', raw_seq: 5 }],
      next_query: `SELECT * FROM ${IDL} WHERE IPAddress = '100.24.7.9' AND eventDate = DATE '2024-05-10'`,
    });
  });

  it('uses the AS organisation when present: a new /24 of a known AS is silent, a new AS alerts with geo detail', () => {
    const rt = runtime({ learningDays: 1 });
    feed(rt, [idl('bob@corp.example', '198.51.100.1', T0, { IPAddress_as_org: 'Example ISP' })]);
    expect(feed(rt, [idl('bob@corp.example', '203.0.113.9', T0 + 3 * DAY, { IPAddress_as_org: 'Example ISP' })])).toEqual([]);
    const [a] = feed(rt, [idl('bob@corp.example', '192.0.2.1', T0 + 4 * DAY, { IPAddress_as_org: 'Far Away Hosting', IPAddress_geo_country: 'NL', IPAddress_geo_city: 'Amsterdam' })]);
    expect(a!.alert_id).toBe(alertId(NEW_NETWORK_RULE, 'bob@corp.example', 'as:Far Away Hosting'));
    expect(a!.detail).toMatchObject({ network: 'Far Away Hosting', country: 'NL', city: 'Amsterdam', known_networks: 1 });
  });

  it('ignores failed logons, rows without user or usable address, and keeps users apart', () => {
    const rt = runtime({ learningDays: 0 });
    const rows = [
      idl('carol@corp.example', '198.51.100.1', T0, { ActionType: 'LogonFailed' }),
      idl('', '198.51.100.1', T0, { AccountName: null }),
      idl('carol@corp.example', '127.0.0.1', T0),
      idl('carol@corp.example', '-', T0),
    ];
    expect(feed(rt, rows)).toEqual([]);
    expect(rt.keyCount()).toBe(0);
    // learningDays 0: the very first login already counts as new.
    expect(feed(rt, [idl('carol@corp.example', '198.51.100.1', T0), idl('dave@corp.example', '198.51.100.1', T0)]).map((a) => a.entity)).toEqual(['carol@corp.example', 'dave@corp.example']);
  });

  it('handles IPv6 logins by /64', () => {
    const rt = runtime({ learningDays: 1 });
    feed(rt, [idl('erin@corp.example', '2001:db8:1:2::10', T0)]);
    expect(feed(rt, [idl('erin@corp.example', '2001:db8:1:2:ffff::1', T0 + 2 * DAY)])).toEqual([]);
    expect(feed(rt, [idl('erin@corp.example', '2001:db8:1:3::1', T0 + 2 * DAY)]).map((a) => a.detail.network)).toEqual(['2001:db8:1:3::/64']);
  });

  it('forgets networks unused for networkTtlDays and keeps at most maxNetworksPerUser', () => {
    const rt = runtime({ learningDays: 0, networkTtlDays: 30, maxNetworksPerUser: 2 });
    feed(rt, [idl('frank@corp.example', '198.51.100.1', T0)]);
    // Used again after 40 days: forgotten, so it is new again.
    expect(feed(rt, [idl('frank@corp.example', '198.51.100.1', T0 + 40 * DAY)])).toHaveLength(1);
    feed(rt, [idl('frank@corp.example', '203.0.113.1', T0 + 41 * DAY), idl('frank@corp.example', '192.0.2.1', T0 + 42 * DAY)]);
    const s = [...rt.parts.values()].map((p) => p.state.get('frank@corp.example')).find(Boolean)!;
    expect(s.n).toEqual(['203.0.113.0/24', '192.0.2.0/24']);
  });

  it('fires from each source on its real table columns', () => {
    const t = T0 + 30 * DAY;
    const cases: [string, Row[], string][] = [
      [
        'defender_device_logon_events',
        [{ Timestamp: t * 1000, DeviceId: 'd1', ActionType: 'LogonSuccess', AccountName: 'Grace', AccountDomain: 'CORP', RemoteIP: '198.51.100.4', ReportId: 1 }],
        'corp\\grace',
      ],
      [IDL, [{ Timestamp: t * 1000, ActionType: 'LogonSuccess', AccountUpn: 'Grace@Corp.Example', IPAddress: '198.51.100.4', ReportId: 'x' }], 'grace@corp.example'],
      [
        'crowdstrike_user_logon',
        [{ event_simpleName: 'UserLogon', timestamp: t * 1000, aid: 'a1', UserName: 'grace', LogonDomain: 'CORP', RemoteAddressIP4: '198.51.100.4' }],
        'corp\\grace',
      ],
      [
        'cloudtrail',
        [
          { eventTime: t * 1000, eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', userIdentityArn: 'arn:aws:iam::111122223333:user/Grace', sourceIPAddress: '198.51.100.4', responseElements: '{"ConsoleLogin": "Success"}' },
          { eventTime: t * 1000, eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', userIdentityArn: 'arn:aws:iam::111122223333:user/Mallory', sourceIPAddress: '198.51.100.4', responseElements: '{"ConsoleLogin":"Failure"}' },
        ],
        'aws:111122223333\\grace', // an IAM user of an account not mapped to a domain (identity.awsAccounts)
      ],
    ];
    for (const [table, rows, user] of cases) {
      const rt = runtime({ learningDays: 0 });
      const def = allTables().find((d) => d.name === table)!;
      const b = new ColumnBuilder(fullColumnsOf(def));
      for (const r of rows) b.append(r);
      const alerts = rt.apply(table, 1, arrowBatch(table, decodeIpc(encodeIpc(b.build()))), NOW).alerts;
      expect(alerts.map((a) => [a.entity, a.detail.network, a.event_time]), table).toEqual([[user, '198.51.100.0/24', new Date(t).toISOString()]]);
    }
    // A failed CrowdStrike logon and a non-console CloudTrail call are not logins.
    const rt = runtime({ learningDays: 0 });
    expect(feed(rt, [{ event_simpleName: 'UserLogonFailed2', timestamp: t, UserName: 'x', RemoteAddressIP4: '198.51.100.4' }], 'crowdstrike_user_logon')).toEqual([]);
    expect(feed(rt, [{ eventTime: t, eventName: 'GetObject', userIdentityArn: 'arn:x', sourceIPAddress: '198.51.100.4', responseElements: null }], 'cloudtrail')).toEqual([]);
  });

  it('one user across sources: CORP\\alice, alice@corp.com and an AWS session of alice@corp.com share their networks', () => {
    const rt = runtime({ learningDays: 1, identity: { domains: { CORP: 'corp.com' }, awsAccounts: {}, aliases: { 'CORP\\asmith': 'alice@corp.com' } } });
    const dev = (ip: string, t: number, over: Row = {}): Row => ({ Timestamp: t, DeviceId: 'd1', ActionType: 'LogonSuccess', AccountName: 'ALICE', AccountDomain: 'CORP', RemoteIP: ip, ReportId: 1, ...over });
    const ct = (ip: string, t: number, arn: string): Row => ({ eventTime: t, eventName: 'ConsoleLogin', userIdentityArn: arn, sourceIPAddress: ip, responseElements: '{"ConsoleLogin":"Success"}' });
    expect(feed(rt, [dev('198.51.100.7', T0)], 'defender_device_logon_events')).toEqual([]); // learning starts
    // After learning: the same network from the other sources is known (one key), a new one alerts once.
    expect(feed(rt, [idl('Alice@Corp.com', '198.51.100.8', T0 + 2 * DAY)])).toEqual([]);
    expect(feed(rt, [ct('198.51.100.9', T0 + 2 * DAY, 'arn:aws:sts::123456789012:assumed-role/Admin/alice@corp.com')], 'cloudtrail')).toEqual([]);
    const [a, ...more] = feed(rt, [ct('203.0.113.50', T0 + 3 * DAY, 'arn:aws:sts::123456789012:assumed-role/Admin/alice@corp.com')], 'cloudtrail');
    expect(more).toEqual([]);
    expect([a!.entity, a!.alert_id, a!.detail.account, a!.detail.known_networks]).toEqual(['alice@corp.com', alertId(NEW_NETWORK_RULE, 'alice@corp.com', '203.0.113.0/24'), 'arn:aws:sts::123456789012:assumed-role/Admin/alice@corp.com', 1]);
    // The alias is the same person too: the network just learnt is known.
    expect(feed(rt, [dev('203.0.113.51', T0 + 3 * DAY, { AccountName: 'asmith' })], 'defender_device_logon_events')).toEqual([]);
    expect(rt.keyCount()).toBe(1);
  });

  it('skips machine accounts and service identities by default, counts them when told to', () => {
    const rows: Row[] = ['WS-01$', 'SYSTEM', 'LOCAL SERVICE', 'ANONYMOUS LOGON', 'DWM-2'].map((name, i) => ({
      Timestamp: T0,
      DeviceId: 'd1',
      ActionType: 'LogonSuccess',
      AccountName: name,
      AccountDomain: name === 'WS-01$' ? 'CORP' : 'NT AUTHORITY',
      RemoteIP: `198.51.100.${i + 1}`,
      ReportId: i,
    }));
    const host = { ...idl('x', '198.51.100.9', T0), AccountUpn: 'host/ws-02.corp.com', AccountName: null };
    const skip = runtime({ learningDays: 0 });
    expect(feed(skip, rows, 'defender_device_logon_events')).toEqual([]);
    expect(feed(skip, [host])).toEqual([]);
    expect(skip.keyCount()).toBe(0);
    const keep = runtime({ learningDays: 0, skipMachineAccounts: false, skipServiceAccounts: false });
    expect(feed(keep, rows, 'defender_device_logon_events').map((x) => x.entity)).toEqual(['corp\\ws-01$', 'nt authority\\system', 'nt authority\\local service', 'nt authority\\anonymous logon', 'nt authority\\dwm-2']);
    expect(feed(keep, [host]).map((x) => x.entity)).toEqual(['ws-02$@corp.com']);
  });
});
