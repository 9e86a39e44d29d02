// Tests that jsonSchemaOf yields a schema ajv 8 compiles in strict mode without warnings, that it matches what
// coercion accepts value by value, and that it validates Defender generator records (good and malformed).
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { generateDefenderRecords } from '../../test/fixtures/defenderGenerator.ts';
import { coerceRecord } from './coerce.ts';
import { defenderCategoryKey, defenderTables } from './defender/index.ts';
import { jsonSchemaOf } from './jsonSchema.ts';
import type { ColumnType, TableDefinition } from './tableDefinition.ts';

// ajv-formats is CommonJS; depending on the loader its default export is the plugin or a namespace holding it.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

function strictAjv(): { ajv: Ajv; warnings: unknown[] } {
  const warnings: unknown[] = [];
  const logger = { log: () => {}, warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) };
  const ajv = new Ajv({ strict: true, allErrors: true, logger });
  addFormats(ajv);
  return { ajv, warnings };
}

describe('jsonSchemaOf', () => {
  it('compiles for every Defender table in strict mode, without warnings', () => {
    const { ajv, warnings } = strictAjv();
    for (const def of Object.values(defenderTables)) {
      const schema = jsonSchemaOf(def);
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(schema.title).toBe(def.name);
      expect(() => ajv.compile(schema)).not.toThrow();
    }
    expect(warnings).toEqual([]);
  });

  it('nests `from` paths and marks required columns and their parents', () => {
    const schema = jsonSchemaOf(defenderTables.DeviceNetworkEvents!);
    expect(schema.required).toEqual(['properties']);
    const props = schema.properties?.properties;
    expect(props?.type).toBe('object');
    expect(props?.required).toEqual(['Timestamp', 'DeviceId', 'ReportId']);
    expect(Object.keys(props?.properties ?? {})).toContain('RemotePort');
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['tenantId', 'time', '_TimeReceivedBySvc']));
  });

  it('validates generator records: valid ones pass, type-malformed ones fail', () => {
    const { ajv } = strictAjv();
    const validators = new Map(Object.entries(defenderTables).map(([k, d]) => [k, ajv.compile(jsonSchemaOf(d))]));
    const g = generateDefenderRecords({
      seed: 11,
      counts: { DeviceProcessEvents: 60, DeviceNetworkEvents: 60, DeviceLogonEvents: 60, DeviceFileEvents: 60, DeviceRegistryEvents: 60 },
      malformed: 20,
    });
    const bad = new Set(g.expected.malformed.filter((m) => m.kind === 'timestamp_missing' || m.kind === 'remote_port_not_numeric').map((m) => m.reportId));
    let checked = 0;
    for (const r of g.records) {
      const validate = validators.get(defenderCategoryKey(r.category))!;
      const ok = validate(r);
      expect(ok, `${r.category} ${String(r.properties.ReportId)} ${JSON.stringify(validate.errors)}`).toBe(!bad.has(r.properties.ReportId as number));
      checked++;
    }
    expect(checked).toBe(g.expected.total);
  });

  it('accepts exactly the values coercion accepts, type by type', () => {
    const { ajv } = strictAjv();
    const samples: unknown[] = ['abc', '', ' 42 ', '-3.5e2', '1.5', 'true', 'FALSE', '2023-01-04', '2023-01-04T14:07:32.6213639Z', '2023-01-04T16:07:32+02:00', '2023-02-30', 42, -1, 1.5, 2 ** 31, 2 ** 60, true, false, null, { a: 1 }, [1], {}, { k: 'v', n: null, o: { deep: [1] } }];
    const types: ColumnType[] = ['string', 'long', 'integer', 'double', 'boolean', 'timestamp', 'date', 'json', 'map'];
    for (const type of types) {
      for (const nullable of [true, false]) {
        const def: TableDefinition = { name: `t_${type}`, layer: 'bronze', doc: '', columns: [{ name: 'V', type, nullable, from: 'a.v' }], partitionBy: [], expectations: [] };
        const validate = ajv.compile(jsonSchemaOf(def));
        for (const value of samples) {
          const record = { a: { v: value } };
          // Schemas check shapes, not calendars: an impossible date that matches the pattern is the one known gap.
          if (value === '2023-02-30' && (type === 'date' || type === 'timestamp')) continue;
          expect(validate(record), `${type} nullable=${nullable} ${JSON.stringify(value)}`).toBe(coerceRecord(def, record).ok);
        }
      }
    }
  });
});
