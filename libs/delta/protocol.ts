// Which tables this library may read and write: protocol versions, table features, writer-v2 duties.
// Reading needs reader v1 (no column mapping, DVs...); writing also needs writer <= 2 with no invariants.
import type { Metadata, Protocol } from './actions.ts';
import { DeltaProtocolError } from './errors.ts';
import { parseSchemaString } from './schema.ts';

export const OUR_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

const MAX_READER = 1;
const MAX_WRITER = 2;

export function checkReadSupport(root: string, p: Protocol): void {
  // Reader version 3 only means "look at readerFeatures": with none listed, the table reads like version 1.
  const featureless = p.minReaderVersion === 3 && (p.readerFeatures ?? []).length === 0;
  if (p.minReaderVersion > MAX_READER && !featureless) {
    throw new DeltaProtocolError(
      `Delta table ${root} requires reader version ${p.minReaderVersion}` +
        (p.readerFeatures?.length ? ` with features [${p.readerFeatures.join(', ')}]` : '') +
        `; this library reads only version ${MAX_READER} tables (no column mapping, deletion vectors or other reader features)`,
    );
  }
  if (p.readerFeatures && p.readerFeatures.length > 0) {
    throw new DeltaProtocolError(`Delta table ${root} uses reader features [${p.readerFeatures.join(', ')}], which this library does not support`);
  }
}

export function checkWriteSupport(root: string, p: Protocol, m: Metadata): void {
  checkReadSupport(root, p);
  if (p.minReaderVersion > MAX_READER) {
    throw new DeltaProtocolError(`Delta table ${root} requires reader version ${p.minReaderVersion}; this library writes only reader version ${MAX_READER} tables`);
  }
  if (p.minWriterVersion > MAX_WRITER) {
    throw new DeltaProtocolError(
      `Delta table ${root} requires writer version ${p.minWriterVersion}` +
        (p.writerFeatures?.length ? ` with features [${p.writerFeatures.join(', ')}]` : '') +
        `; this library writes only up to version ${MAX_WRITER} (append-only, invariants)`,
    );
  }
  if (p.writerFeatures && p.writerFeatures.length > 0) {
    throw new DeltaProtocolError(`Delta table ${root} uses writer features [${p.writerFeatures.join(', ')}], which this library does not support`);
  }
  // Writer v2 obliges us to enforce column invariants; we cannot evaluate their SQL, so refuse rather than ignore.
  for (const f of parseSchemaString(m.schemaString)) {
    if ('delta.invariants' in f.metadata) {
      throw new DeltaProtocolError(`Delta table ${root}: column "${f.name}" has a delta.invariants constraint, which this library cannot enforce`);
    }
  }
}
