// What a GeoIP lookup yields: location fields from a City/Country database, AS fields from an ASN/ISP database.
import type { IpScope } from './ipScope.ts';

export interface CityInfo {
  /** ISO 3166-1 alpha-2 code of the country (the registered country when the database has no location country). */
  country: string | null;
  /** English city name. */
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

export interface AsnInfo {
  asn: number | null;
  asOrg: string | null;
}

/** Everything the enricher writes for one address; all fields but scope are null for non-public addresses. */
export interface IpInfo extends CityInfo, AsnInfo {
  scope: IpScope;
}
