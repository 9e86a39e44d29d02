export * from './tableDefinition.ts';
