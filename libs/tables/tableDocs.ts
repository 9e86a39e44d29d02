// The text of docs/TABLES.md: every table sluice writes, rendered from its definition.
import { markdownOfTables } from './docs.ts';
import { allTables } from './registry.ts';

export function tableDocs(): string {
  return markdownOfTables(allTables(), 'sluice tables') + '\n';
}
