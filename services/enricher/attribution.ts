// IP attribution of one column of a batch: for each row, who held the address (user, MAC, host name) at the row's
// event time, from the interval index the enricher keeps of the gold ip_lookup table. Counts every lookup as a hit,
// a miss (an internal address nobody is known to have held then — possibly because its ip_lookup revision has not
// reached this enricher yet) or not_local (a public / invalid address: attribution is not expected).
import type { IntervalIndex } from '@sluice/attribution';
import { parseIp } from '@sluice/geoip';

export type AttributionResult = 'hit' | 'miss' | 'not_local';
export type AttributionCounts = Record<AttributionResult, number>;

export const emptyCounts = (): AttributionCounts => ({ hit: 0, miss: 0, not_local: 0 });

export interface AttributionInput {
  /** null: the attribution columns are written as nulls (attribution disabled). */
  index: IntervalIndex | null;
  /** Added to per lookup (the service turns them into sluice_enricher_attribution_total). */
  counts?: AttributionCounts;
}

export interface AttributedColumn {
  user: (string | null)[];
  mac: (string | null)[];
  hostname: (string | null)[];
}

// Addresses a DHCP / ISE / VPN holder can have; anything else is not expected in ip_lookup.
const LOCAL_SCOPES = new Set(['private', 'cgnat', 'link_local', 'loopback']);

export function attributeColumn(ips: readonly (string | null)[], timesMs: readonly (number | null)[] | undefined, attr: AttributionInput | undefined): AttributedColumn {
  const n = ips.length;
  const out: AttributedColumn = { user: new Array(n).fill(null), mac: new Array(n).fill(null), hostname: new Array(n).fill(null) };
  const index = attr?.index;
  if (!index || !timesMs) return out;
  const counts = attr.counts;
  let lastMissIp: string | null = null;
  let lastMissLocal = false;
  for (let i = 0; i < n; i++) {
    const ip = ips[i];
    const t = timesMs[i];
    if (ip === null || ip === undefined || t === null || t === undefined) continue;
    const h = index.lookup(ip, t);
    if (h) {
      out.user[i] = h.user;
      out.mac[i] = h.mac;
      out.hostname[i] = h.host;
      if (counts) counts.hit++;
      continue;
    }
    if (!counts) continue;
    if (ip !== lastMissIp) {
      lastMissIp = ip;
      lastMissLocal = LOCAL_SCOPES.has(parseIp(ip).scope);
    }
    if (lastMissLocal) counts.miss++;
    else counts.not_local++;
  }
  return out;
}
