// Reads only the few fields the enricher needs from a MaxMind DB data record, instead of materialising the whole
// record (a GeoLite2-City record carries names in eight languages, subdivisions, postal codes …): the cold lookups
// of distinct addresses were dominated by that decoding and its garbage. Format: MaxMind DB spec 2.0, data section.
import type { AsnInfo, CityInfo } from './geoTypes.ts';

// Data types of the MaxMind DB data section.
const T = { Pointer: 1, Utf8: 2, Double: 3, Uint16: 5, Uint32: 6, Map: 7, Int32: 8, Array: 11, EndMarker: 13, Boolean: 14, Float: 15 } as const;

const ISO_CODE = ['iso_code'] as const;
const NAME_EN = ['names', 'en'] as const;

interface Ctrl {
  type: number;
  size: number;
  /** Offset of the payload (or, for a pointer, of the pointed-to value). */
  at: number;
  /** For a value reached through a pointer: the offset just after the pointer. */
  afterPointer?: number;
}

export class MmdbFieldReader {
  private readonly keys = new Map<number, string>();
  /** Strings under shared (pointed-to) maps by the map's offset; the path is fixed per call site. */
  private readonly sharedStrings = new Map<number, string | null>();

  /** `dataStart`: offset of the data section (search tree size + 16); pointers are relative to it. */
  constructor(
    private readonly db: Buffer,
    private readonly dataStart: number,
  ) {}

  private ctrl(off: number): Ctrl {
    const db = this.db;
    const c = db[off++]!;
    let type = c >> 5;
    if (type === T.Pointer) {
      const ss = (c >> 3) & 3;
      const v = c & 7;
      let p: number;
      let len: number;
      if (ss === 0) {
        p = (v << 8) | db[off]!;
        len = 1;
      } else if (ss === 1) {
        p = ((v << 16) | (db[off]! << 8) | db[off + 1]!) + 2048;
        len = 2;
      } else if (ss === 2) {
        p = ((v << 24) | (db[off]! << 16) | (db[off + 1]! << 8) | db[off + 2]!) + 526336;
        len = 3;
      } else {
        p = db.readUInt32BE(off);
        len = 4;
      }
      const target = this.ctrl(this.dataStart + p); // a pointer never points to a pointer
      target.afterPointer = off + len;
      return target;
    }
    if (type === 0) type = 7 + db[off++]!;
    let size = c & 0x1f;
    if (size === 29) size = 29 + db[off++]!;
    else if (size === 30) {
      size = 285 + db.readUInt16BE(off);
      off += 2;
    } else if (size === 31) {
      size = 65821 + db.readUIntBE(off, 3);
      off += 3;
    }
    return { type, size, at: off };
  }

  /** Offset just after a value (after the pointer for a value reached through one). */
  private next(c: Ctrl): number {
    return c.afterPointer ?? this.end(c.type, c.size, c.at);
  }

  /** Offset after a value of this type whose payload starts at `at`. */
  private end(type: number, size: number, at: number): number {
    switch (type) {
      case T.Map: {
        let o = at;
        for (let i = 0; i < size; i++) o = this.next(this.ctrl(this.next(this.ctrl(o))));
        return o;
      }
      case T.Array: {
        let o = at;
        for (let i = 0; i < size; i++) o = this.next(this.ctrl(o));
        return o;
      }
      case T.Boolean:
      case T.EndMarker:
        return at;
      default:
        return at + size;
    }
  }

  private string(c: Ctrl): string | null {
    return c.type === T.Utf8 ? this.db.toString('utf8', c.at, c.at + c.size) : null;
  }

  private number(c: Ctrl): number | null {
    switch (c.type) {
      case T.Double:
        return c.size === 8 ? this.db.readDoubleBE(c.at) : null;
      case T.Float:
        return c.size === 4 ? this.db.readFloatBE(c.at) : null;
      case T.Uint16:
      case T.Uint32:
        return c.size === 0 ? 0 : this.db.readUIntBE(c.at, c.size);
      case T.Int32:
        return c.size === 0 ? 0 : this.db.readIntBE(c.at, c.size);
      default:
        return null;
    }
  }

  /** Calls `fn(key, valueCtrl)` for each entry of the map at `c` (nothing when it is not a map). */
  private entries(c: Ctrl, fn: (key: string, value: Ctrl) => void): void {
    if (c.type !== T.Map) return;
    let o = c.at;
    for (let i = 0; i < c.size; i++) {
      const k = this.ctrl(o);
      const v = this.ctrl(this.next(k));
      const key = this.key(k);
      if (key !== null) fn(key, v);
      o = this.next(v);
    }
  }

  /**
   * A map key's text. Keys are a few strings stored once and reached through pointers, so they are decoded once per
   * offset instead of once per entry read.
   */
  private key(c: Ctrl): string | null {
    if (c.type !== T.Utf8) return null;
    let k = this.keys.get(c.at);
    if (k === undefined) {
      k = this.db.toString('utf8', c.at, c.at + c.size);
      if (this.keys.size < 100_000) this.keys.set(c.at, k);
    }
    return k;
  }

  /** The value of `key` in the map at `c`; stops at the first match (later entries are not walked over). */
  private child(c: Ctrl, key: string): Ctrl | null {
    if (c.type !== T.Map) return null;
    let o = c.at;
    for (let i = 0; i < c.size; i++) {
      const k = this.ctrl(o);
      const v = this.ctrl(this.next(k));
      if (this.key(k) === key) return v;
      o = this.next(v);
    }
    return null;
  }

  /**
   * A string found under `path` from the value `v`. Country and city maps are shared by many records and reached
   * through pointers, so the answer is remembered per pointed-to offset.
   */
  private shared(v: Ctrl, path: readonly string[]): string | null {
    const id = v.at * 2 + (path === NAME_EN ? 1 : 0); // the same map read for another path is another entry
    const memo = v.afterPointer === undefined ? undefined : this.sharedStrings.get(id);
    if (memo !== undefined) return memo;
    let c: Ctrl | null = v;
    for (const k of path) c = c && this.child(c, k);
    const out = this.stringAt(c);
    if (v.afterPointer !== undefined && this.sharedStrings.size < 1_000_000) this.sharedStrings.set(id, out);
    return out;
  }

  /** Country (location, else registered), English city name and location of the record at `offset`. */
  city(offset: number): CityInfo {
    let country: string | null = null;
    let registered: string | null = null;
    let city: string | null = null;
    let latitude: number | null = null;
    let longitude: number | null = null;
    this.entries(this.ctrl(offset), (key, v) => {
      if (key === 'country') country = this.shared(v, ISO_CODE);
      else if (key === 'registered_country') registered = this.shared(v, ISO_CODE);
      else if (key === 'city') city = this.shared(v, NAME_EN);
      else if (key === 'location') {
        this.entries(v, (k, x) => {
          if (k === 'latitude') latitude = this.number(x);
          else if (k === 'longitude') longitude = this.number(x);
        });
      }
    });
    return Object.freeze({ country: country ?? registered, city, latitude, longitude });
  }

  /** AS number and organisation (GeoIP2-ISP: organization or isp when the AS organisation is missing). */
  asn(offset: number): AsnInfo {
    let asn: number | null = null;
    let asOrg: string | null = null;
    let org: string | null = null;
    let isp: string | null = null;
    this.entries(this.ctrl(offset), (key, v) => {
      if (key === 'autonomous_system_number') asn = this.number(v);
      else if (key === 'autonomous_system_organization') asOrg = this.string(v);
      else if (key === 'organization') org = this.string(v);
      else if (key === 'isp') isp = this.string(v);
    });
    return Object.freeze({ asn, asOrg: asOrg || org || isp || null });
  }

  private stringAt(c: Ctrl | null): string | null {
    return c ? this.string(c) : null;
  }
}
