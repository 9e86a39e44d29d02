// Every source family sluice ships, by the name used in configuration (`family: zeek`).
import { defenderFamily } from './defender.ts';
import type { SourceFamily } from './sourceFamily.ts';

export const families: Readonly<Record<string, SourceFamily>> = {
  defender: defenderFamily,
};

/** The family for a configured name, or undefined. */
export function familyFor(name: string): SourceFamily | undefined {
  return Object.hasOwn(families, name) ? families[name] : undefined;
}
