// A MaxMind DB (.mmdb) opened with the maxmind package, projected onto the few fields the enricher writes.
// The maxmind reader walks the search tree; the fields are read straight from the data record (MmdbFieldReader)
// and memoised per record offset: a million distinct addresses in one city cost one projection. Should the
// reader's tree walk not be reachable (another mmdb-lib version), its full decode is used, memoised per object.
import { readFile } from 'node:fs/promises';
import { Reader, type AsnResponse, type CityResponse, type IspResponse } from 'maxmind';
import type { AsnInfo, CityInfo } from './geoTypes.ts';
import { LruCache } from './lruCache.ts';
import { MmdbFieldReader } from './mmdbFields.ts';

export type MmdbRole = 'city' | 'asn';

const ACCEPTED: Record<MmdbRole, { pattern: RegExp; what: string }> = {
  city: { pattern: /City|Country|Enterprise/i, what: 'a GeoIP2/GeoLite2 City or Country database' },
  asn: { pattern: /ASN|ISP/i, what: 'a GeoLite2-ASN or GeoIP2-ISP database' },
};

/** Records of a big database are cached (decoded once); the cache key is the record's offset in the file. */
class RecordCache {
  private readonly lru = new LruCache<string | number, unknown>(50_000);
  get(key: string | number): unknown {
    return this.lru.get(key);
  }
  set(key: string | number, value: unknown): void {
    this.lru.set(key, value);
  }
}

type TreeWalk = (ip: string) => [number | null, number];
type Full = CityResponse & AsnResponse & IspResponse;

export class MmdbDatabase<T extends CityInfo | AsnInfo> {
  readonly kind = 'mmdb';
  private readonly memo = new WeakMap<object, T>();
  private byOffset = new Map<number, T>();
  private readonly walk: TreeWalk | null;
  private readonly fields: MmdbFieldReader;
  private readonly nodeCount: number;
  private readonly treeSize: number;
  private readonly db: Buffer;
  private readonly recordSize: number;
  private readonly nodeBytes: number;
  private jump: Uint32Array | undefined;
  /** Node where IPv4 addresses start (after 96 zero bits in an IPv6 tree); -1 when the walk cannot be done here. */
  private readonly ipv4Start: number;

  private constructor(
    private readonly reader: Reader<Full>,
    private readonly project: (r: Full) => T,
    private readonly read: (f: MmdbFieldReader, offset: number) => T,
    buf: Buffer,
    readonly path: string,
    readonly databaseType: string,
    readonly builtAt: Date,
  ) {
    const walk = (reader as unknown as { findAddressInTree?: TreeWalk }).findAddressInTree;
    this.walk = typeof walk === 'function' ? walk.bind(reader) : null;
    this.nodeCount = reader.metadata.nodeCount;
    this.treeSize = reader.metadata.searchTreeSize;
    this.fields = new MmdbFieldReader(buf, this.treeSize + 16);
    this.db = buf;
    const m = reader.metadata;
    this.recordSize = m.recordSize;
    this.nodeBytes = m.nodeByteSize;
    this.ipv4Start = m.recordSize === 24 || m.recordSize === 28 || m.recordSize === 32 ? this.walkV4Start(m.ipVersion) : -1;
  }

  /** Record `right` (0 left, 1 right) of node `node`; layout per record size, MaxMind DB spec 2.0 "Search Tree". */
  private record(node: number, right: number): number {
    const db = this.db;
    const o = node * this.nodeBytes;
    switch (this.recordSize) {
      case 24:
        return right ? (db[o + 3]! << 16) | (db[o + 4]! << 8) | db[o + 5]! : (db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!;
      case 28:
        return right
          ? ((db[o + 3]! & 0x0f) * 0x1000000 + ((db[o + 4]! << 16) | (db[o + 5]! << 8) | db[o + 6]!))
          : ((db[o + 3]! & 0xf0) >> 4) * 0x1000000 + ((db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!);
      default:
        return right ? db.readUInt32BE(o + 4) : db.readUInt32BE(o);
    }
  }

  private walkV4Start(ipVersion: number): number {
    if (ipVersion === 4) return 0;
    let node = 0;
    for (let i = 0; i < 96 && node < this.nodeCount; i++) node = this.record(node, 0);
    return node;
  }

  /** The data record of a projected pointer (tree record value), memoised per offset. */
  private atPointer(pointer: number): T {
    return this.recordAt(pointer - this.nodeCount + this.treeSize);
  }

  /**
   * An IPv4 address as an unsigned 32-bit number: the tree walked bit by bit on the file's bytes, no string, no
   * parse (the same walk as mmdb-lib's findAddressInTree). Null when the database has no network for it.
   */
  lookupV4(value: number): T | null {
    if (this.ipv4Start < 0) return this.lookup(`${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`);
    const offset = this.offsetV4(value);
    return offset >= 0 ? this.recordAt(offset) : null;
  }

  /**
   * The data-section offset of an IPv4 address's record (the same walk as lookupV4): a key for callers that cache
   * per record. -1 when the database has no network for it, -2 when the walk cannot be done here (use lookupV4).
   */
  offsetV4(value: number): number {
    if (this.ipv4Start < 0) return -2;
    const nodeCount = this.nodeCount;
    // The first 16 bits from the jump table; the walk goes on from bit 15 (not at all when it already ended).
    let node = (this.jump ??= this.jumpTable())[value >>> 16]!;
    switch (this.recordSize) {
      // The walk per record size, inlined: this loop is the hottest of a cold lookup.
      case 24: {
        const db = this.db;
        for (let bit = 15; bit >= 0 && node < nodeCount; bit--) {
          const o = node * 6 + ((value >>> bit) & 1) * 3;
          node = (db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!;
        }
        break;
      }
      case 28: {
        const db = this.db;
        for (let bit = 15; bit >= 0 && node < nodeCount; bit--) {
          const o = node * 7;
          node = (value >>> bit) & 1
            ? (db[o + 3]! & 0x0f) * 0x1000000 + ((db[o + 4]! << 16) | (db[o + 5]! << 8) | db[o + 6]!)
            : ((db[o + 3]! & 0xf0) >> 4) * 0x1000000 + ((db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!);
        }
        break;
      }
      default:
        for (let bit = 15; bit >= 0 && node < nodeCount; bit--) node = this.record(node, (value >>> bit) & 1);
    }
    return node > nodeCount ? node - nodeCount + this.treeSize : -1;
  }

  /**
   * The node (or record value, when the walk ends earlier) reached from the IPv4 start by each 16-bit prefix: the top
   * of the tree is walked once, 256 KiB, instead of 16 steps per lookup. Made on the first IPv4 lookup.
   */
  private jumpTable(): Uint32Array {
    const jump = new Uint32Array(1 << 16);
    const nodeCount = this.nodeCount;
    // Depth first, so a subtree that ends early fills its whole prefix range at once.
    const fill = (node: number, depth: number, prefix: number): void => {
      if (node >= nodeCount || depth === 16) {
        jump.fill(node, prefix << (16 - depth), (prefix + 1) << (16 - depth));
        return;
      }
      fill(this.record(node, 0), depth + 1, prefix * 2);
      fill(this.record(node, 1), depth + 1, prefix * 2 + 1);
    };
    fill(this.ipv4Start, 0, 0);
    return jump;
  }

  /** The file's bytes and where its data section starts (offsetV4's offsets index these bytes): for tests and tools. */
  dataSection(): { bytes: Buffer; dataStart: number } {
    return { bytes: this.db, dataStart: this.treeSize + 16 };
  }

  /** The projected data record at a data-section offset (from offsetV4), memoised per offset. */
  recordAt(offset: number): T {
    let p = this.byOffset.get(offset);
    if (!p) {
      // Distinct records are bounded by the database (GeoLite2-City: ~10^5 locations); the cap is a safety net.
      if (this.byOffset.size >= 500_000) this.byOffset = new Map();
      this.byOffset.set(offset, (p = this.read(this.fields, offset)));
    }
    return p;
  }

  /** Reads and checks a database file; throws with the path and what was wrong (missing, not an mmdb, wrong type). */
  static async open(role: 'city', path: string): Promise<MmdbDatabase<CityInfo>>;
  static async open(role: 'asn', path: string): Promise<MmdbDatabase<AsnInfo>>;
  static async open(role: MmdbRole, path: string): Promise<MmdbDatabase<CityInfo> | MmdbDatabase<AsnInfo>> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (e) {
      throw new Error(`GeoIP ${role} database ${path}: cannot read: ${(e as Error).message}`);
    }
    let reader: Reader<Full>;
    try {
      reader = new Reader(buf, { cache: new RecordCache() });
    } catch (e) {
      throw new Error(`GeoIP ${role} database ${path}: not a MaxMind DB file (${(e as Error).message})`);
    }
    const type = reader.metadata.databaseType;
    const accepted = ACCEPTED[role];
    if (!accepted.pattern.test(type)) throw new Error(`GeoIP ${role} database ${path}: is a "${type}" database, expected ${accepted.what}`);
    const built = reader.metadata.buildEpoch;
    return role === 'city'
      ? new MmdbDatabase<CityInfo>(reader, projectCity, (f, o) => f.city(o), buf, path, type, built)
      : new MmdbDatabase<AsnInfo>(reader, projectAsn, (f, o) => f.asn(o), buf, path, type, built);
  }

  /** `key`: a valid IPv4 or IPv6 address without zone. Null when the database has no network for it. */
  lookup(key: string): T | null {
    if (this.walk) {
      const [pointer] = this.walk(key);
      return pointer ? this.atPointer(pointer) : null;
    }
    return this.lookupDecoded(key);
  }

  /** The same through the maxmind package's full decode (reference and fallback). */
  lookupDecoded(key: string): T | null {
    const r = this.reader.get(key);
    if (!r) return null;
    let p = this.memo.get(r);
    if (!p) this.memo.set(r, (p = this.project(r)));
    return p;
  }
}

function projectCity(r: CityResponse): CityInfo {
  const loc = r.location;
  return Object.freeze({
    country: r.country?.iso_code ?? r.registered_country?.iso_code ?? null,
    city: r.city?.names?.en ?? null,
    latitude: typeof loc?.latitude === 'number' ? loc.latitude : null,
    longitude: typeof loc?.longitude === 'number' ? loc.longitude : null,
  });
}

function projectAsn(r: AsnResponse & IspResponse): AsnInfo {
  // GeoIP2-ISP records may carry the number with only isp/organization names.
  const org = r.autonomous_system_organization || r.organization || r.isp || null;
  return Object.freeze({ asn: typeof r.autonomous_system_number === 'number' ? r.autonomous_system_number : null, asOrg: org });
}
