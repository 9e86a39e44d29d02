export { AsnRangeTable, defaultAsnDirectory } from './asnRanges.ts';
export { defaultCityDatabase, GeoLookup, type GeoLookupOptions, type ReloadEvent } from './geoLookup.ts';
export type { AsnInfo, CityInfo, IpInfo } from './geoTypes.ts';
export { IP_SCOPES, ipScope, parseIp, parseIPv4, parseIPv4Bytes, parseIPv6, scopeOfV4, type IpScope, type ParsedIp } from './ipScope.ts';
export { LruCache } from './lruCache.ts';
export { MmdbDatabase, type MmdbRole } from './mmdbDatabase.ts';
