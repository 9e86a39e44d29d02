// One ip_lookup row → a HoldingRevision, from either form it travels in: the NDJSON rows the detector publishes on
// gold.ip_lookup (times as ISO-8601 text) or rows read from the gold Delta table (times as epoch µs numbers).
import type { HoldingRevision } from './intervalIndex.ts';

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Epoch ms of an ISO string or an epoch-µs number / bigint (Delta timestamps); null when absent or invalid. */
function timeMs(v: unknown): number | null {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return Math.floor(v / 1000);
  if (typeof v === 'bigint') return Number(v / 1000n);
  return null;
}

/** The revision a row states, or null when it lacks what an interval needs (ip, valid_from, interval_id, revision). */
export function revisionOfRow(row: Record<string, unknown>): HoldingRevision | null {
  const ip = text(row.ip);
  const validFrom = timeMs(row.valid_from);
  const intervalId = text(row.interval_id);
  const revision = typeof row.revision === 'bigint' ? Number(row.revision) : row.revision;
  if (ip === null || validFrom === null || intervalId === null || typeof revision !== 'number' || !Number.isInteger(revision)) return null;
  const validTo = row.valid_to === null || row.valid_to === undefined ? null : timeMs(row.valid_to);
  if (row.valid_to !== null && row.valid_to !== undefined && validTo === null) return null;
  return { ip, mac: text(row.mac), user: text(row.user), hostname: text(row.hostname), source: text(row.source) ?? 'unknown', validFrom, validTo, intervalId, revision };
}
