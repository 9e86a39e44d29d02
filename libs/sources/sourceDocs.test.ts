import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { families } from './registry.ts';
import { sourceDocs } from './sourceDocs.ts';

const docs = join(import.meta.dirname, '..', '..', 'docs');

describe('docs/SOURCES.md', () => {
  it('matches the registry and docs/sources/*.md (run: npx tsx scripts/generate-source-docs.ts)', () => {
    expect(readFileSync(join(docs, 'SOURCES.md'), 'utf8')).toBe(sourceDocs(docs));
  });

  it('has a section for every family and every table it writes', () => {
    const text = sourceDocs(docs);
    for (const f of Object.values(families)) {
      expect(text).toContain(`<a id="${f.name}"></a>`);
      for (const t of Object.values(f.tables)) expect(text).toContain(`\`${t.name}\``);
    }
  });
});
