// The `iocs` table: definition consistency, the IoC type helpers and each expectation's verdict on typed records.
import { describe, expect, it } from 'vitest';
import { compileValidator } from '../expectations.ts';
import { fullColumnNames } from '../lineage.ts';
import { assertValidDefinition } from '../tableDefinition.ts';
import { IOC_CATEGORY, iocs, ipTypeOf, isIocType, isWellFormedHash, isWellFormedIp, normaliseIndicator, threatintelTables } from './index.ts';

const validate = compileValidator(iocs);
const base = { indicator: '192.0.2.1', type: 'IPv4', dataset: 'otx', first_seen: '2024-03-18T09:15:01Z' };

describe('iocs table', () => {
  it('is a valid silver table under the `ioc` category with lineage columns and eventDate from first_seen', () => {
    expect(threatintelTables[IOC_CATEGORY]).toBe(iocs);
    expect(() => assertValidDefinition(iocs)).not.toThrow();
    const names = fullColumnNames(iocs);
    expect(names.slice(0, 5)).toEqual(['indicator', 'type', 'dataset', 'feed_type', 'first_seen']);
    expect(names).toContain('_raw');
    expect(names.at(-1)).toBe('eventDate');
    expect(iocs.eventTime).toBe('first_seen');
  });

  it('keeps a well-formed row and derives eventDate', () => {
    const v = validate({ ...base, last_seen: '2024-04-01T00:00:00Z', confidence: '80', tags: ['a'], attributes: { k: 1 } });
    expect(v.disposition).toBe('keep');
    expect(v.row).toMatchObject({ first_seen: 1_710_753_301_000_000, confidence: 80, tags: '["a"]', attributes: { k: '1' }, eventDate: 19_800 });
  });

  it.each([
    [{ indicator: ' ' }, 'indicator_present'],
    [{ type: 'CVE' }, 'type_supported'],
    [{ type: 'FileHash-MD5', indicator: 'A4D50EB7472CB1BB40246FFBBFF63355' }, 'valid_hash'],
    [{ type: 'FileHash-SHA1', indicator: 'a4d50eb7472cb1bb40246ffbbff63355' }, 'valid_hash'],
    [{ indicator: '192.0.2.256' }, 'valid_ip'],
    [{ type: 'IPv6', indicator: '192.0.2.1' }, 'valid_ip'],
    [{ confidence: 101 }, 'confidence_range'],
  ])('quarantines %j (%s)', (patch, rule) => {
    const v = validate({ ...base, ...patch });
    expect(v.disposition).toBe('quarantine');
    expect(v.failed).toContain(rule);
  });

  it('warns when last_seen is before first_seen, and quarantines a missing first_seen as a coercion failure', () => {
    const w = validate({ ...base, last_seen: '2024-01-01T00:00:00Z' });
    expect([w.disposition, w.warnings]).toEqual(['keep', ['expectation validity_window (warn): last_seen is null or not before first_seen']]);
    const m = validate({ ...base, first_seen: null });
    expect([m.disposition, m.reasons]).toEqual(['quarantine', ['column first_seen: required but missing']]);
  });
});

describe('IoC type helpers', () => {
  it('knows the nine types', () => {
    expect(['FileHash-MD5', 'FileHash-SHA1', 'FileHash-SHA256', 'hostname', 'domain', 'URL', 'IPv4', 'IPv6', 'email'].every(isIocType)).toBe(true);
    expect([isIocType('CVE'), isIocType('url'), isIocType(undefined)]).toEqual([false, false, false]);
  });

  it('checks hash length and hex, IP family', () => {
    expect(isWellFormedHash('FileHash-SHA256', 'a'.repeat(64))).toBe(true);
    expect(isWellFormedHash('FileHash-SHA256', 'g'.repeat(64))).toBe(false);
    expect(isWellFormedHash('URL', 'anything')).toBe(true);
    expect([isWellFormedIp('IPv4', '10.0.0.1'), isWellFormedIp('IPv4', '::1'), isWellFormedIp('IPv6', '::1'), isWellFormedIp('domain', 'x')]).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });

  it('types unlabelled addresses and normalises values per type', () => {
    expect([ipTypeOf('192.0.2.1'), ipTypeOf('2001:db8::1'), ipTypeOf('10.0.0.0/8'), ipTypeOf('nonsense')]).toEqual(['IPv4', 'IPv6', 'CIDR', 'IPv4']);
    expect(normaliseIndicator('domain', ' Evil.Example. ')).toBe('evil.example');
    expect(normaliseIndicator('FileHash-MD5', 'ABCDEF')).toBe('abcdef');
    expect(normaliseIndicator('URL', ' http://X.example/Path ')).toBe('http://X.example/Path');
  });
});
