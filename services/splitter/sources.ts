// The splitter's configured sources: `defender` (family = source name) or `{source: zeek-dc1, family: zeek}`.
import { ConfigError } from '@sluice/runtime';
import { families, familyFor, type SourceFamily } from '@sluice/sources';

export type SourceEntry = string | { source: string; family?: string };

export const sourceEntrySchema = {
  anyOf: [
    { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
    {
      type: 'object',
      additionalProperties: false,
      properties: { source: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' }, family: { type: 'string' } },
      required: ['source'],
    },
  ],
} as const;

/** Resolves each entry's family; an unknown family is a config error naming the key and the known families. */
export function resolveSources(entries: readonly SourceEntry[], key: string): { source: string; family: SourceFamily }[] {
  return entries.map((e, i) => {
    const source = typeof e === 'string' ? e : e.source;
    const name = typeof e === 'string' ? e : (e.family ?? e.source);
    const family = familyFor(name);
    if (!family) throw new ConfigError(`${key}[${i}]: unknown family "${name}" for source "${source}"; known: ${Object.keys(families).join(', ')}`);
    return { source, family };
  });
}
