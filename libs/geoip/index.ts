export { defaultCityDatabase, GeoLookup, type GeoResult } from './geoLookup.ts';
export { ipScope, type IpScope } from './ipScope.ts';
