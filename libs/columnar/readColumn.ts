// Fast reads of whole Utf8 columns: apache-arrow's per-value get() runs a TextDecoder per cell.
import type { Data, Table, Utf8 } from 'apache-arrow';

/** Every value of a Utf8 column as JS strings (null where null); undefined when the table has no such column. */
export function readStrings(table: Table, name: string): (string | null)[] | undefined {
  const vec = table.getChild(name);
  if (!vec) return undefined;
  const out: (string | null)[] = new Array(table.numRows);
  let row = 0;
  for (const d of vec.data as Data<Utf8>[]) {
    const offsets = d.valueOffsets;
    const values = d.values;
    const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const bitmap = d.nullBitmap;
    const base = d.offset;
    for (let i = 0; i < d.length; i++) {
      const j = base + i;
      if (d.nullCount > 0 && bitmap && bitmap.length > 0 && (bitmap[j >> 3]! & (1 << (j & 7))) === 0) out[row++] = null;
      // A sliced Data keeps the validity bitmap whole (index by offset + i) but slices valueOffsets (index by i).
      else out[row++] = buf.toString('utf8', offsets[i]!, offsets[i + 1]!);
    }
  }
  return out;
}
