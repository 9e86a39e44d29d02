// Reading Arrow IPC flatbuffers (little-endian) straight from message bytes: shared by the IPC decoder, the
// enricher's splice and the detector's column reader, which read record-batch metadata without apache-arrow.
const TWO_32 = 4_294_967_296;

export const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
export const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
/** An int64 that is non-negative and below 2^53 (lengths, counts, offsets); -1 otherwise. */
export function i64(b: Uint8Array, at: number): number {
  const hi = b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24);
  return hi < 0 || hi >= 0x200000 ? -1 : u32(b, at) + hi * TWO_32;
}

/** Position of field `slot` (0-based) of the flatbuffer table at `table`: 0 when absent, -1 when malformed. */
export function field(b: Uint8Array, table: number, slot: number): number {
  if (table < 0 || table + 4 > b.length) return -1;
  const vtable = table - (u32(b, table) | 0);
  if (vtable < 0 || vtable + 4 > b.length) return -1;
  const at = 4 + 2 * slot;
  if (at >= u16(b, vtable)) return 0;
  const o = u16(b, vtable + at);
  return o === 0 ? 0 : table + o;
}

/** The table an offset field at `at` refers to, -1 when malformed. */
export function deref(b: Uint8Array, at: number): number {
  if (at <= 0 || at + 4 > b.length) return -1;
  const t = at + u32(b, at);
  return t + 4 <= b.length ? t : -1;
}

/** A vector of 16-byte structs (FieldNode, Buffer): its element count and first element, null when malformed. */
export function structVector(b: Uint8Array, fieldAt: number): { count: number; at: number } | null {
  if (fieldAt === 0) return { count: 0, at: 0 };
  const v = deref(b, fieldAt);
  if (v < 0) return null;
  const count = u32(b, v);
  return v + 4 + 16 * count <= b.length ? { count, at: v + 4 } : null;
}
