// Start-up load of the IoC rule's indicator index: the `iocs` Delta table (what the sink has written), then the
// host reads `events.iocs.>` from a little before the newest row's ingest time. Upserts are idempotent (key =
// type, indicator, dataset; version = _ingest_time), so the overlap only costs time; rows the table lacks are in
// the overlap or after it. Without a lake path (or table) the stream is read from its start.
import { DeltaTableMissingError, readTable } from '@sluice/delta';
import type { IocIndex, IocRow } from '@sluice/detect';
import type { Logger } from '@sluice/runtime';

export interface IocLoadOptions {
  /** Lake root (`sink.lakePath`); the table is `<lakePath>/silver/<table>`. Empty = no table load. */
  lakePath: string;
  table: string;
  /** Stream overlap before the newest ingest time in the table. */
  replayMarginMinutes: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Loads the table into `index`; returns the stream start time for the live updates (null = the stream's start). */
export async function loadIocTable(index: IocIndex, o: IocLoadOptions, log: Logger): Promise<Date | null> {
  if (!o.lakePath) {
    log.info({ table: o.table }, 'no detector.ioc.lakePath: indicators come from the events stream only, from its start');
    return null;
  }
  const location = `${o.lakePath.replace(/\/+$/, '')}/silver/${o.table}`;
  const started = Date.now();
  let read: Awaited<ReturnType<typeof readTable>>;
  try {
    read = await readTable(location);
  } catch (e) {
    // A lake without the iocs table yet (the first start) is normal; anything else is worth a warning.
    const absent = e instanceof DeltaTableMissingError;
    log[absent ? 'info' : 'warn']({ location, err: (e as Error).message }, 'iocs table not readable: indicators come from the events stream only, from its start');
    return null;
  }
  let maxIngest = -Infinity;
  const rows: IocRow[] = [];
  for (const r of read.rows) {
    const ingest = num(r._ingest_time);
    if (ingest !== null && ingest > maxIngest) maxIngest = ingest;
    rows.push({
      indicator: String(r.indicator ?? ''),
      type: String(r.type ?? ''),
      dataset: String(r.dataset ?? ''),
      first_seen: num(r.first_seen) ?? NaN,
      last_seen: num(r.last_seen),
      confidence: num(r.confidence),
      threat: text(r.threat),
      event_name: text(r.event_name),
      version: ingest,
    });
  }
  const res = index.upsert(rows);
  log.info({ location, version: read.version, rows: rows.length, ...res, indicators: index.size, ms: Date.now() - started }, 'iocs table loaded');
  if (maxIngest === -Infinity) return null;
  return new Date(Math.floor(maxIngest / 1000) - o.replayMarginMinutes * 60_000);
}
