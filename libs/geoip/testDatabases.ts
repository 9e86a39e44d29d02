// Test helpers: paths of MaxMind's test databases in test/fixtures/mmdb and the expected values of a lookup,
// read from the JSON each database was built from.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MMDB_DIR = fileURLToPath(new URL('../../test/fixtures/mmdb/', import.meta.url));
export const CITY_TEST_DB = `${MMDB_DIR}GeoIP2-City-Test.mmdb`;
export const LITE_CITY_TEST_DB = `${MMDB_DIR}GeoLite2-City-Test.mmdb`;
export const ASN_TEST_DB = `${MMDB_DIR}GeoLite2-ASN-Test.mmdb`;

interface SourceRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  city?: { names?: { en?: string } };
  location?: { latitude?: number; longitude?: number };
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

/** Network → record of a test database's source JSON; "::a.b.c.d/n" (IPv4 in the IPv6 tree) keyed as "a.b.c.d/n-96". */
export function sourceRecords(db: string): Map<string, SourceRecord> {
  const json = JSON.parse(readFileSync(db.replace(/\.mmdb$/, '.source.json'), 'utf8')) as Record<string, SourceRecord>[];
  const out = new Map<string, SourceRecord>();
  for (const entry of json) {
    for (const [net, rec] of Object.entries(entry)) {
      const m = /^::(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(net);
      out.set(m ? `${m[1]}/${Number(m[2]) - 96}` : net, rec);
    }
  }
  return out;
}

/** What the enricher must report for an address in that network. */
export function expectedCity(rec: SourceRecord) {
  return {
    country: rec.country?.iso_code ?? rec.registered_country?.iso_code ?? null,
    city: rec.city?.names?.en ?? null,
    latitude: rec.location?.latitude ?? null,
    longitude: rec.location?.longitude ?? null,
  };
}

export function expectedAsn(rec: SourceRecord) {
  return { asn: rec.autonomous_system_number ?? null, asOrg: rec.autonomous_system_organization ?? null };
}
