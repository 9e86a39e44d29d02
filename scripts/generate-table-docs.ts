// Regenerates docs/TABLES.md from the table definitions (the one declaration of every table).
// Run: npx tsx scripts/generate-table-docs.ts   (a unit test fails when the committed file is stale)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableDocs } from '../libs/tables/tableDocs.ts';

writeFileSync(join(import.meta.dirname, '..', 'docs', 'TABLES.md'), tableDocs());
console.log('wrote docs/TABLES.md');
