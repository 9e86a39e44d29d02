// Reads only the few fields the enricher needs from a MaxMind DB data record, instead of materialising the whole
// record (a GeoLite2-City record carries names in eight languages, subdivisions, postal codes …): the cold lookups
// of distinct addresses were dominated by that decoding and its garbage. city() reads a record in place without an
// object per value and stops once it has what it needs; cityGeneric() is the plain reader it is tested against.
// Format: MaxMind DB spec 2.0, data section.
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

// Ids of the map keys city() looks for (0: any other key).
const KEY_IDS = new Map(Object.entries({ country: 1, registered_country: 2, city: 3, location: 4, latitude: 5, longitude: 6, iso_code: 7, names: 8, en: 9 }));
const K = { country: 1, registered: 2, city: 3, location: 4, latitude: 5, longitude: 6, isoCode: 7, names: 8, en: 9 } as const;
/** Pointer hops followed for one value (the spec allows one; a cycle in a corrupt file must not loop forever). */
const MAX_HOPS = 8;

export class MmdbFieldReader {
  private readonly keys = new Map<number, string>();
  /** Key ids (KEY_IDS) by the key's payload offset. */
  private readonly keyIds = new Map<number, number>();
  /**
   * In front of keyIds, direct-mapped by the offset's low bits: a record's keys are a few shared strings, so almost
   * every key is found here with one typed-array read.
   */
  private readonly keySlotAt = new Int32Array(1024).fill(-1);
  private readonly keySlotId = new Uint8Array(1024);
  /** city()'s memos of iso_code and names.en under shared (pointed-to) maps, by the map's offset. */
  private readonly isoCodes = new Map<number, string | null>();
  private readonly cityNames = new Map<number, string | null>();
  // The value decoded last by decode(): type, size, payload offset, and the offset just after the pointer that led
  // to it (-1 when not reached through a pointer). Fields, not an object per value: city() reads ~20 values.
  private vType = 0;
  private vSize = 0;
  private vAt = 0;
  private vAfter = -1;
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
      const p = pointerValue(db, ss, v, off);
      const len = ss + 1;
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
    return this.numberAt(c.type, c.size, c.at);
  }

  private numberAt(type: number, size: number, at: number): number | null {
    switch (type) {
      case T.Double:
        return size === 8 ? this.db.readDoubleBE(at) : null;
      case T.Float:
        return size === 4 ? this.db.readFloatBE(at) : null;
      case T.Uint16:
      case T.Uint32:
        return size === 0 ? 0 : this.db.readUIntBE(at, size);
      case T.Int32:
        return size === 0 ? 0 : this.db.readIntBE(at, size);
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

  /** Decodes the control byte(s) of the value at `off` (following pointers) into vType, vSize, vAt, vAfter. */
  private decode(off: number): void {
    const db = this.db;
    let c = db[off++]!;
    let after = -1;
    for (let hops = 0; c >> 5 === T.Pointer; hops++) {
      if (hops === MAX_HOPS) throw new Error(`MaxMind DB: pointer loop at ${off - 1}`);
      const ss = (c >> 3) & 3;
      const v = c & 7;
      const p = pointerValue(db, ss, v, off);
      const len = ss + 1;
      if (after < 0) after = off + len; // the outermost pointer, as ctrl() does
      off = this.dataStart + p;
      c = db[off++]!;
    }
    let type = c >> 5;
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
    this.vType = type;
    this.vSize = size;
    this.vAt = off;
    this.vAfter = after;
  }

  /** Offset just after the value decoded last (decodes further values to skip a map or array in place). */
  private skip(): number {
    return this.vAfter >= 0 ? this.vAfter : this.skipValue(this.vType, this.vSize, this.vAt);
  }

  private skipValue(type: number, size: number, at: number): number {
    if (type === T.Map || type === T.Array) {
      let o = at;
      const n = type === T.Map ? 2 * size : size;
      for (let i = 0; i < n; i++) {
        this.decode(o);
        o = this.skip();
      }
      return o;
    }
    return type === T.Boolean || type === T.EndMarker ? at : at + size;
  }

  /** The id (KEY_IDS, 0 for others) of the map key decoded last; 0 when it is not a string. */
  private keyId(): number {
    if (this.vType !== T.Utf8) return 0;
    const at = this.vAt;
    const slot = at & 1023;
    if (this.keySlotAt[slot] === at) return this.keySlotId[slot]!;
    let id = this.keyIds.get(at);
    if (id === undefined) {
      id = KEY_IDS.get(this.db.toString('utf8', at, at + this.vSize)) ?? 0;
      if (this.keyIds.size < 100_000) this.keyIds.set(at, id);
    }
    this.keySlotAt[slot] = at;
    this.keySlotId[slot] = id;
    return id;
  }

  /** In the map decoded last, the value of the key with this id becomes the decoded value; false when absent. */
  private find(id: number): boolean {
    if (this.vType !== T.Map) return false;
    let o = this.vAt;
    const size = this.vSize;
    for (let i = 0; i < size; i++) {
      this.decode(o);
      const k = this.keyId();
      o = this.skip();
      this.decode(o);
      if (k === id) return true;
      o = this.skip();
    }
    return false;
  }

  /** The decoded value as a string, or null when it is not one. */
  private text(): string | null {
    return this.vType === T.Utf8 ? this.db.toString('utf8', this.vAt, this.vAt + this.vSize) : null;
  }

  /**
   * A string under the decoded value: its iso_code (path 0) or names.en (path 1). Country and city maps are shared
   * by many records and reached through pointers, so the answer is remembered per pointed-to offset.
   */
  private sharedText(path: 0 | 1): string | null {
    // Country codes in a map of their own: a few hundred entries that stay in cache, apart from the city names.
    const memos = path === 0 ? this.isoCodes : this.cityNames;
    const at = this.vAt;
    const viaPointer = this.vAfter >= 0;
    const memo = viaPointer ? memos.get(at) : undefined;
    if (memo !== undefined) return memo;
    const out = (path === 0 ? this.find(K.isoCode) : this.find(K.names) && this.find(K.en)) ? this.text() : null;
    if (viaPointer && memos.size < 1_000_000) memos.set(at, out);
    return out;
  }

  /**
   * Country (location, else registered), English city name and location of the record at `offset`. Reads the
   * record's map in place, and stops once country, city and location are known (the subdivisions, postal code and
   * names in other languages that follow are not walked).
   */
  city(offset: number): CityInfo {
    let country: string | null = null;
    let registered: string | null = null;
    let city: string | null = null;
    let latitude: number | null = null;
    let longitude: number | null = null;
    this.decode(offset);
    if (this.vType === T.Map) {
      let o = this.vAt;
      const size = this.vSize;
      let haveCity = false;
      let haveLocation = false;
      for (let i = 0; i < size; i++) {
        this.decode(o);
        const k = this.keyId();
        o = this.skip();
        this.decode(o);
        const type = this.vType;
        const vSize = this.vSize;
        const at = this.vAt;
        const after = this.vAfter;
        if (k === K.country) country = this.sharedText(0);
        else if (k === K.registered) registered = this.sharedText(0);
        else if (k === K.city) {
          city = this.sharedText(1);
          haveCity = true;
        } else if (k === K.location) {
          haveLocation = true;
          if (type === T.Map) {
            let q = at;
            for (let j = 0; j < vSize; j++) {
              this.decode(q);
              const lk = this.keyId();
              q = this.skip();
              this.decode(q);
              if (lk === K.latitude) latitude = this.numberAt(this.vType, this.vSize, this.vAt);
              else if (lk === K.longitude) longitude = this.numberAt(this.vType, this.vSize, this.vAt);
              q = this.skip();
            }
          }
        }
        if (country !== null && haveCity && haveLocation) break;
        o = after >= 0 ? after : this.skipValue(type, vSize, at);
      }
    }
    return Object.freeze({ country: country ?? registered, city, latitude, longitude });
  }

  /** city() by the generic reader (ctrl objects, every entry walked): the reference the tests compare city() with. */
  cityGeneric(offset: number): CityInfo {
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

/**
 * The data-section offset a pointer's control byte (size bits `ss`, value bits `v`) and the `ss + 1` bytes after it
 * at `off` encode (MaxMind DB spec, "Pointer - 1").
 */
function pointerValue(db: Buffer, ss: number, v: number, off: number): number {
  if (ss === 0) return (v << 8) | db[off]!;
  if (ss === 1) return ((v << 16) | (db[off]! << 8) | db[off + 1]!) + 2048;
  if (ss === 2) return ((v << 24) | (db[off]! << 16) | (db[off + 1]! << 8) | db[off + 2]!) + 526336;
  return db.readUInt32BE(off);
}
