// Regenerates docs/SOURCES.md from the source registry and docs/sources/*.md.
// Run: npx tsx scripts/generate-source-docs.ts   (a unit test fails when the committed file is stale)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceDocs } from '../libs/sources/sourceDocs.ts';

const docs = join(import.meta.dirname, '..', 'docs');
writeFileSync(join(docs, 'SOURCES.md'), sourceDocs(docs));
console.log('wrote docs/SOURCES.md');
