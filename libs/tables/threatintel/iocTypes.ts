// The indicator types of the `iocs` table and the checks on their values (hash length and hex, IP syntax), plus
// the value normalisation every feed goes through so the detector can compare indicators as plain strings.
import { isIP } from 'node:net';

/** Indicator types the IoC matcher understands (AlienVault OTX spelling, which the other feeds are mapped to). */
export const IOC_TYPES = [
  'FileHash-MD5',
  'FileHash-SHA1',
  'FileHash-SHA256',
  'hostname',
  'domain',
  'URL',
  'IPv4',
  'IPv6',
  'email',
] as const;

export type IocType = (typeof IOC_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(IOC_TYPES);

export function isIocType(t: unknown): t is IocType {
  return typeof t === 'string' && TYPE_SET.has(t);
}

/** Hex digits per hash type. */
export const HASH_HEX_LENGTH: Readonly<Record<'FileHash-MD5' | 'FileHash-SHA1' | 'FileHash-SHA256', number>> = {
  'FileHash-MD5': 32,
  'FileHash-SHA1': 40,
  'FileHash-SHA256': 64,
};

const HEX = /^[0-9a-f]+$/;

/** Whether a (normalised, lower-case) hash value has the length and alphabet its type requires; non-hash types pass. */
export function isWellFormedHash(type: string, value: string): boolean {
  if (!Object.hasOwn(HASH_HEX_LENGTH, type)) return true;
  return value.length === HASH_HEX_LENGTH[type as keyof typeof HASH_HEX_LENGTH] && HEX.test(value);
}

/** Whether an IP-typed value is an address of that family; non-IP types pass. */
export function isWellFormedIp(type: string, value: string): boolean {
  if (type === 'IPv4') return isIP(value) === 4;
  if (type === 'IPv6') return isIP(value) === 6;
  return true;
}

/**
 * IPv4 or IPv6 for an address whose family the feed does not say (MISP `ip-dst`, STIX `network-traffic`).
 * A network with a prefix (`10.0.0.0/8`) is `CIDR`, which the table does not hold. Anything else is taken as IPv4,
 * so the `valid_ip` expectation names the bad value.
 */
export function ipTypeOf(value: string): IocType | 'CIDR' {
  if (value.includes('/')) return 'CIDR';
  return isIP(value) === 6 ? 'IPv6' : 'IPv4';
}

/**
 * The form stored in the table: trimmed; hashes, host and domain names, e-mail addresses and IP addresses in lower
 * case (they compare case-insensitively), names without the root dot. URLs keep their case (paths are case-sensitive).
 */
export function normaliseIndicator(type: string, value: string): string {
  const v = value.trim();
  switch (type) {
    case 'FileHash-MD5':
    case 'FileHash-SHA1':
    case 'FileHash-SHA256':
    case 'email':
    case 'IPv4':
    case 'IPv6':
      return v.toLowerCase();
    case 'hostname':
    case 'domain':
      return v.toLowerCase().replace(/\.$/, '');
    default:
      return v;
  }
}
