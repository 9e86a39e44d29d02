// The identity normaliser: exact keys for every form a source uses, NetBIOS → DNS mapping, AWS accounts, aliases,
// machine accounts and well-known service identities recognised.
import { describe, expect, it } from 'vitest';
import { identityNormaliser } from './identity.ts';

const norm = identityNormaliser({
  domains: { CORP: 'corp.com', Lab: 'lab.corp.com' },
  awsAccounts: { '210987654321': 'corp.com' },
  aliases: { 'CORP\\a.smith': 'alice@corp.com', 'svc-backup@corp.com': 'backup@corp.com' },
});
const key = (raw: string, hint?: string) => norm(raw, hint)?.key ?? null;
const kind = (raw: string, hint?: string) => norm(raw, hint)?.kind ?? null;

describe('identity normaliser', () => {
  it('unifies Windows, UPN and AWS forms of one person into alice@corp.com', () => {
    expect(key('CORP\\alice')).toBe('alice@corp.com');
    expect(key('corp\\ALICE')).toBe('alice@corp.com');
    expect(key('alice@corp.com')).toBe('alice@corp.com');
    expect(key('Alice@CORP.COM')).toBe('alice@corp.com');
    expect(key('alice', 'CORP')).toBe('alice@corp.com'); // account + domain column
    expect(key('alice', 'corp.com')).toBe('alice@corp.com');
    expect(key('alice@CORP')).toBe('alice@corp.com'); // a NetBIOS UPN suffix
    expect(key('arn:aws:sts::123456789012:assumed-role/Admin/alice@corp.com')).toBe('alice@corp.com');
    expect(key('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0a1b2c/Alice@Corp.com')).toBe('alice@corp.com');
    expect(key('arn:aws:iam::210987654321:user/alice')).toBe('alice@corp.com'); // mapped AWS account
    expect(key('arn:aws:iam::210987654321:user/division/team/alice')).toBe('alice@corp.com'); // IAM path
    expect(norm('CORP\\alice')).toEqual({ key: 'alice@corp.com', account: 'alice', domain: 'corp.com', kind: 'user' });
  });

  it('keeps what it cannot map distinct and readable', () => {
    expect(key('OTHER\\alice')).toBe('other\\alice');
    expect(key('alice', 'OTHER')).toBe('other\\alice');
    expect(key('alice')).toBe('alice');
    expect(key('alice', '-')).toBe('alice');
    expect(key('LAB\\bob')).toBe('bob@lab.corp.com');
    expect(key('arn:aws:iam::123456789012:user/alice')).toBe('aws:123456789012\\alice');
    expect(key('arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42')).toBe('aws:123456789012\\ci-run-42');
    expect(key('arn:aws:sts::123456789012:federated-user/bob')).toBe('aws:123456789012\\bob');
    expect(key('arn:aws:iam::123456789012:root')).toBe('aws:123456789012\\root');
    expect(norm('arn:aws:iam::123456789012:role/Admin')).toEqual({ key: 'arn:aws:iam::123456789012:role/admin', account: 'arn:aws:iam::123456789012:role/admin', domain: '', kind: 'service' });
    expect(key('')).toBeNull();
    expect(key('  -  ')).toBeNull();
  });

  it('applies aliases after normalising both sides', () => {
    expect(key('CORP\\a.smith')).toBe('alice@corp.com');
    expect(key('a.smith@corp.com')).toBe('alice@corp.com');
    expect(key('a.smith', 'CORP')).toBe('alice@corp.com');
    expect(key('CORP\\svc-backup')).toBe('backup@corp.com');
  });

  it('recognises machine accounts and well-known service identities', () => {
    expect(norm('CORP\\WS-01$')).toEqual({ key: 'ws-01$@corp.com', account: 'ws-01$', domain: 'corp.com', kind: 'machine' });
    expect(norm('host/ws-01.corp.com')).toEqual({ key: 'ws-01$@corp.com', account: 'ws-01$', domain: 'corp.com', kind: 'machine' });
    expect(norm('HOST/WS-02@CORP')).toEqual({ key: 'ws-02$@corp.com', account: 'ws-02$', domain: 'corp.com', kind: 'machine' });
    expect(kind('WS-03$', 'CORP')).toBe('machine');
    for (const s of ['NT AUTHORITY\\SYSTEM', 'NT AUTHORITY\\LOCAL SERVICE', 'NT AUTHORITY\\NETWORK SERVICE', 'NT AUTHORITY\\ANONYMOUS LOGON', 'Window Manager\\DWM-3', 'Font Driver Host\\UMFD-0', 'S-1-5-18', 'IIS APPPOOL\\DefaultAppPool']) {
      expect(kind(s), s).toBe('service');
    }
    expect(kind('SYSTEM', 'NT AUTHORITY')).toBe('service');
    expect(kind('ANONYMOUS LOGON')).toBe('service');
    expect(key('NT AUTHORITY\\SYSTEM')).toBe('nt authority\\system');
    expect(kind('CORP\\alice')).toBe('user');
  });
});
