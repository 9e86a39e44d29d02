import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableDocs } from './tableDocs.ts';

describe('docs/TABLES.md', () => {
  it('matches the table definitions (run: npx tsx scripts/generate-table-docs.ts)', () => {
    expect(readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'TABLES.md'), 'utf8')).toBe(tableDocs());
  });
});
