// Keeps the enricher's attribution index in step with the gold ip_lookup table: at start the Delta table
// (<lakePath>/gold/ip_lookup, what the gold sink has written) when configured, then the detector's rows on
// gold.ip_lookup (ALERTS stream) through an ordered consumer — every enricher replica reads all of them and keeps the
// whole index — from a margin before the newest row of the table (or from the stream's start). Revisions are
// idempotent (per interval the highest wins), so the overlap only costs time. Resolves once the consumer has caught
// up, so the first batches are enriched against the complete index; afterwards revisions apply as they arrive.
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { revisionOfRow, type IntervalIndex, type UpsertResult } from '@sluice/attribution';
import type { readTable } from '@sluice/delta';
import { STREAMS, subjects, type Logger } from '@sluice/runtime';

export const IP_LOOKUP_TABLE = 'ip_lookup';

export interface AttributionFeedOptions {
  js: JetStreamClient;
  index: IntervalIndex;
  /** Lake root (sink.lakePath); empty: no table load, the stream is read from its start. */
  lakePath: string;
  /** Stream overlap before the newest emitted_time in the table. */
  replayMarginMinutes: number;
  /** Messages per pull (consumer.fetchBatch). */
  fetchBatch: number;
  log: Logger;
  /** Called per revision applied (metrics); 'invalid' for a row that is not an ip_lookup revision. */
  onRevision?: (result: UpsertResult | 'invalid') => void;
}

export interface AttributionFeed {
  stop(): Promise<void>;
}

const dec = new TextDecoder();

/** Loads the gold table into the index; returns the stream start for the live rows (null = the stream's start). */
export async function loadIpLookupTable(o: Pick<AttributionFeedOptions, 'index' | 'lakePath' | 'replayMarginMinutes' | 'log' | 'onRevision'>): Promise<Date | null> {
  if (!o.lakePath) {
    o.log.info('no enricher.attribution.lakePath: ip_lookup revisions come from gold.ip_lookup only, from the stream start');
    return null;
  }
  const location = `${o.lakePath.replace(/\/+$/, '')}/gold/${IP_LOOKUP_TABLE}`;
  const started = Date.now();
  let read: Awaited<ReturnType<typeof readTable>>;
  // Loaded only when there is a lake to read: @sluice/delta brings the object-store SDKs (≈ 70 MiB of RSS).
  const { DeltaTableMissingError, readTable: readDelta } = await import('@sluice/delta');
  try {
    read = await readDelta(location);
  } catch (e) {
    // A lake without ip_lookup yet (the first start) is normal; anything else is worth a warning.
    const absent = e instanceof DeltaTableMissingError;
    o.log[absent ? 'info' : 'warn']({ location, err: (e as Error).message }, 'ip_lookup table not readable: revisions come from gold.ip_lookup only, from the stream start');
    return null;
  }
  let maxEmitted = -Infinity;
  let applied = 0;
  for (const r of read.rows) {
    const emitted = typeof r.emitted_time === 'bigint' ? Number(r.emitted_time) : r.emitted_time;
    if (typeof emitted === 'number' && emitted > maxEmitted) maxEmitted = emitted;
    const rev = revisionOfRow(r);
    const res = rev ? o.index.upsert(rev) : 'invalid';
    o.onRevision?.(res);
    if (res === 'inserted' || res === 'revised') applied++;
  }
  o.log.info({ location, version: read.version, rows: read.rows.length, applied, intervals: o.index.size, ms: Date.now() - started }, 'ip_lookup table loaded');
  if (maxEmitted === -Infinity) return null;
  return new Date(Math.floor(maxEmitted / 1000) - o.replayMarginMinutes * 60_000);
}

/** Applies the rows of one gold.ip_lookup message (NDJSON, normally one row). */
export function applyIpLookupMessage(index: IntervalIndex, data: Uint8Array, onRevision?: AttributionFeedOptions['onRevision']): number {
  let applied = 0;
  for (const line of dec.decode(data).split('\n')) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      onRevision?.('invalid');
      continue;
    }
    const rev = row !== null && typeof row === 'object' ? revisionOfRow(row as Record<string, unknown>) : null;
    const res = rev ? index.upsert(rev) : 'invalid';
    onRevision?.(res);
    if (res === 'inserted' || res === 'revised') applied++;
  }
  return applied;
}

export async function startAttributionFeed(o: AttributionFeedOptions): Promise<AttributionFeed> {
  const from = await loadIpLookupTable(o);
  const c = await o.js.consumers.get(STREAMS.alerts.name, {
    filter_subjects: [subjects.gold(IP_LOOKUP_TABLE)],
    ...(from ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() } : { deliver_policy: DeliverPolicy.All }),
  });
  const pending = (await c.info()).num_pending;
  const messages: ConsumerMessages = await c.consume({ max_messages: o.fetchBatch });
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  if (pending === 0) caughtUp();
  let stopped = false;
  const done = (async () => {
    let rows = 0;
    for await (const m of messages) {
      if (stopped) break;
      rows += applyIpLookupMessage(o.index, m.data, o.onRevision);
      if (m.info.pending === 0) caughtUp();
    }
    o.log.info({ rows }, 'gold.ip_lookup feed closed');
  })()
    .catch((e: Error) => o.log.error({ err: e.message }, 'gold.ip_lookup feed failed; attribution stays at its last state'))
    .finally(() => caughtUp()); // never leave the start waiting on a feed that ended
  await ready;
  o.log.info({ from: from?.toISOString() ?? 'start', pendingAtStart: pending, intervals: o.index.size, addresses: o.index.addresses }, 'gold.ip_lookup feed caught up');
  return {
    async stop() {
      stopped = true;
      await messages.close().catch(() => undefined);
      await done;
    },
  };
}
