// The one input every engine of the comparison reads: N generated Defender DeviceNetworkEvents records (~780 bytes
// of JSON each) as NDJSON files, and the column spec (names, types, JSON paths) the Python engines type them with.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defenderTables, type TableDefinition } from '@sluice/tables';
import { generateDefenderRecords } from '../../fixtures/defenderGenerator.ts';

export const TABLE: TableDefinition = defenderTables.DeviceNetworkEvents!;
/** Records per NDJSON file (~39 MB): the collector reads a file whole, the other engines do not care. */
export const EVENTS_PER_FILE = 50_000;
/** Generated in chunks so 1 M records never sit in memory as objects at once. */
const CHUNK = 50_000;

export interface InputSet {
  dir: string;
  files: string[];
  events: number;
  bytes: number;
}

/** Writes `events` records as NDJSON files `part-00000.ndjson` … into `dir`; deterministic for a seed. */
export function writeInput(dir: string, events: number, seed = 1): InputSet {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  for (let done = 0, part = 0; done < events; part++) {
    const n = Math.min(EVENTS_PER_FILE, events - done);
    const lines: string[] = [];
    for (let k = 0; k < n; k += CHUNK) {
      // Each chunk its own seed (ReportIds restart per generator call, so offset them to keep rows distinct in spirit).
      const g = generateDefenderRecords({ seed: seed * 1_000_003 + part * 97 + k, counts: { DeviceNetworkEvents: Math.min(CHUNK, n - k) }, spanHours: 36 });
      for (const r of g.records) lines.push(JSON.stringify(r));
    }
    const text = lines.join('\n') + '\n';
    const file = join(dir, `part-${String(part).padStart(5, '0')}.ndjson`);
    writeFileSync(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
    done += n;
  }
  return { dir, files, events, bytes };
}

export type SpecType = 'string' | 'long' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'date';

export interface ColumnSpec {
  name: string;
  type: SpecType;
  /** Dotted path in the record (e.g. properties.RemotePort). */
  from: string;
  nullable: boolean;
}

/**
 * The table's declared columns as the Python engines write them (json columns as their JSON text), plus the
 * partition column eventDate = UTC date of the event time. sluice's lineage and enrichment columns are its own extra.
 */
export function columnSpec(def: TableDefinition = TABLE): { columns: ColumnSpec[]; eventTime: string; partitionBy: string[] } {
  const columns = def.columns.map((c) => ({
    name: c.name,
    type: (c.type === 'json' || c.type === 'map' ? 'string' : c.type) as SpecType,
    from: c.from ?? c.name,
    nullable: c.nullable ?? true,
  }));
  if (!def.eventTime) throw new Error(`table ${def.name} has no eventTime`);
  return { columns, eventTime: def.eventTime, partitionBy: def.partitionBy };
}

export function writeSpec(file: string, def: TableDefinition = TABLE): void {
  writeFileSync(file, JSON.stringify(columnSpec(def), null, 1));
}
