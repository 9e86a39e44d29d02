export * from './sourceFamily.ts';
export * from './jsonRecords.ts';
export { families, familyFor } from './registry.ts';
export { defenderFamily } from './defender.ts';
