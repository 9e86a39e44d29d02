// Tests of the lineage columns, fullColumnsOf/withLineage, and assertValidDefinition's view of silver tables
// (lineage + eventDate count as columns; collisions and bad eventTime/unit/from are rejected).
import { describe, expect, it } from 'vitest';
import { EVENT_DATE, fullColumnNames, fullColumnsOf, LINEAGE_COLUMNS, withLineage } from './lineage.ts';
import { assertValidDefinition, type TableDefinition } from './tableDefinition.ts';

const silver: TableDefinition = {
  name: 's',
  layer: 'silver',
  doc: 'silver test table',
  columns: [
    { name: 'Timestamp', type: 'timestamp', nullable: false },
    { name: 'Name', type: 'string' },
  ],
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  expectations: [],
};

describe('lineage columns', () => {
  it('are the seven documented columns with their types, all required', () => {
    expect(LINEAGE_COLUMNS.map((c) => [c.name, c.type])).toEqual([
      ['_source', 'string'],
      ['_object', 'string'],
      ['_raw_seq', 'long'],
      ['_input_seq', 'long'],
      ['_ingest_time', 'timestamp'],
      ['_parser_version', 'string'],
      ['_raw', 'string'],
    ]);
    expect(LINEAGE_COLUMNS.every((c) => c.nullable === false && c.doc)).toBe(true);
  });

  it('fullColumnsOf appends lineage and eventDate to silver tables only', () => {
    expect(fullColumnNames(silver)).toEqual(['Timestamp', 'Name', ...LINEAGE_COLUMNS.map((c) => c.name), 'eventDate']);
    expect(fullColumnsOf(silver).at(-1)).toMatchObject({ name: 'eventDate', type: 'date', nullable: false });
    expect(fullColumnNames({ ...silver, layer: 'bronze', partitionBy: [] })).toEqual(['Timestamp', 'Name']);
    const declares = { ...silver, columns: [...silver.columns, { name: 'eventDate', type: 'date' as const }] };
    expect(fullColumnNames(declares).filter((n) => n === EVENT_DATE)).toHaveLength(1);
  });

  it('withLineage stamps the lineage values and falls back to the ingest date for eventDate', () => {
    const lineage = { source: 'defender_xdr', object: 'req-1', rawSeq: 10, inputSeq: 3, ingestTime: 86_400_000_000 * 2 + 5, parserVersion: '1.0.0', raw: '{}' };
    expect(withLineage({ Name: 'x', eventDate: 7 }, lineage)).toEqual({
      Name: 'x',
      eventDate: 7,
      _source: 'defender_xdr',
      _object: 'req-1',
      _raw_seq: 10,
      _input_seq: 3,
      _ingest_time: 86_400_000_000 * 2 + 5,
      _parser_version: '1.0.0',
      _raw: '{}',
    });
    expect(withLineage({ Name: 'x' }, lineage).eventDate).toBe(2);
  });
});

describe('assertValidDefinition', () => {
  it('accepts a silver table partitioned by the implicit eventDate', () => {
    expect(() => assertValidDefinition(silver)).not.toThrow();
  });

  it('rejects a declared column that collides with a lineage column', () => {
    const clash = { ...silver, columns: [...silver.columns, { name: '_raw', type: 'string' as const }] };
    expect(() => assertValidDefinition(clash)).toThrow('table s: duplicate column "_raw"');
  });

  it('still rejects eventDate partitioning on non-silver tables that do not declare it', () => {
    expect(() => assertValidDefinition({ ...silver, layer: 'gold' })).toThrow('partitionBy: unknown column "eventDate"');
  });

  it('refuses a map column as a partition column', () => {
    const def = { ...silver, layer: 'bronze' as const, columns: [...silver.columns, { name: 'params', type: 'map' as const }], partitionBy: ['params'] };
    expect(() => assertValidDefinition(def)).toThrow('table s: partitionBy: column "params" is a map, which cannot be a partition column');
  });

  it('requires the eventTime to be a declared timestamp column', () => {
    expect(() => assertValidDefinition({ ...silver, eventTime: '_ingest_time' })).toThrow('eventTime: unknown column "_ingest_time"');
    expect(() => assertValidDefinition({ ...silver, eventTime: 'Name' })).toThrow('is not a timestamp');
  });

  it('rejects unit on non-timestamp columns and empty or __proto__ path segments', () => {
    const unit = { ...silver, columns: [...silver.columns, { name: 'N', type: 'long' as const, unit: 's' as const }] };
    expect(() => assertValidDefinition(unit)).toThrow('unit is only allowed on timestamp columns');
    const path = { ...silver, columns: [...silver.columns, { name: 'P', type: 'string' as const, from: 'a..b' }] };
    expect(() => assertValidDefinition(path)).toThrow('invalid from path "a..b"');
    const proto = { ...silver, columns: [...silver.columns, { name: 'P', type: 'string' as const, from: 'a.__proto__' }] };
    expect(() => assertValidDefinition(proto)).toThrow('invalid from path');
  });
});
