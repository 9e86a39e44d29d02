// Public surface of @sluice/tables: the table DSL, coercion, lineage, expectations, JSON Schema and Markdown
// derived from definitions, and the Defender XDR table registry.
export * from './tableDefinition.ts';
export * from './coerce.ts';
export * from './lineage.ts';
export * from './expectations.ts';
export { jsonSchemaOf, JSON_SCHEMA_DRAFT, type JsonSchema, type JsonSchemaType } from './jsonSchema.ts';
export * from './docs.ts';
export * from './defender/index.ts';
export * from './platform/index.ts';
export { allTables, familyTables } from './registry.ts';
