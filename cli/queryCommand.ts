// `sluice query --ip A --at T`: who held an IP address at a time, from the gold ip_lookup table. The table holds
// revisions of intervals; per interval_id the highest revision is current, and it matches when
// valid_from <= T < valid_to (valid_to null = still open). Reads the whole table (readTable): fine for the CLI.
import { isIP } from 'node:net';
import { readTable } from '@sluice/delta';
import type { OpenStoreOptions } from '@sluice/storage';

export interface IpHolding {
  ip: string;
  mac: string | null;
  user: string | null;
  hostname: string | null;
  source: string;
  /** Epoch µs. */
  valid_from: number;
  valid_to: number | null;
  lease_expires: number | null;
  closed_by: string | null;
  interval_id: string;
  revision: number;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The current revision of every interval of `ip` that covers `atUs` (epoch µs), earliest start first. */
export function holdersAt(rows: readonly Record<string, unknown>[], ip: string, atUs: number): IpHolding[] {
  const latest = new Map<string, IpHolding>();
  for (const r of rows) {
    if (r.ip !== ip) continue;
    const h: IpHolding = {
      ip,
      mac: s(r.mac),
      user: s(r.user),
      hostname: s(r.hostname),
      source: String(r.source),
      valid_from: Number(r.valid_from),
      valid_to: n(r.valid_to),
      lease_expires: n(r.lease_expires),
      closed_by: s(r.closed_by),
      interval_id: String(r.interval_id),
      revision: Number(r.revision),
    };
    const cur = latest.get(h.interval_id);
    if (!cur || h.revision > cur.revision) latest.set(h.interval_id, h);
  }
  return [...latest.values()].filter((h) => h.valid_from <= atUs && (h.valid_to === null || atUs < h.valid_to)).sort((a, b) => a.valid_from - b.valid_from);
}

const isoOfUs = (us: number | null): string => (us === null ? '' : new Date(Math.floor(us / 1000)).toISOString());

export function formatHolding(h: IpHolding): string {
  const to = h.valid_to === null ? 'open' : isoOfUs(h.valid_to);
  const lines = [
    `ip        ${h.ip}`,
    `mac       ${h.mac ?? '-'}`,
    `user      ${h.user ?? '-'}`,
    `hostname  ${h.hostname ?? '-'}`,
    `source    ${h.source}`,
    `interval  ${isoOfUs(h.valid_from)} → ${to}${h.closed_by ? ` (${h.closed_by})` : ''}`,
  ];
  if (h.lease_expires !== null) lines.push(`lease     expected end ${isoOfUs(h.lease_expires)}`);
  return lines.join('\n');
}

export interface QueryOptions {
  /** Table location: <lake>/gold/ip_lookup. */
  table: string;
  ip: string;
  at: string;
  storeOptions?: OpenStoreOptions;
}

/** Prints who held the IP at the time; exit code 0 when someone did, 1 when nobody, 2 on bad arguments. */
export async function runQuery(o: QueryOptions, out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  if (isIP(o.ip) === 0) {
    err(`sluice query: --ip "${o.ip}" is not an IP address`);
    return 2;
  }
  const atMs = Date.parse(o.at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(o.at) || Number.isNaN(atMs)) {
    err(`sluice query: --at "${o.at}" is not an ISO-8601 time (e.g. 2024-03-13T09:08:00Z)`);
    return 2;
  }
  const { rows } = await readTable(o.table, o.storeOptions ? { storeOptions: o.storeOptions } : {});
  const found = holdersAt(rows, o.ip, atMs * 1000);
  if (found.length === 0) {
    out(`nobody held ${o.ip} at ${new Date(atMs).toISOString()} (per ${o.table})`);
    return 1;
  }
  out(found.map(formatHolding).join('\n\n'));
  return 0;
}
