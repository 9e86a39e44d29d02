// Expectations shared by the CrowdStrike FDR tables: the sensor id must be there, ports must be ports.
import type { Expectation } from '../tableDefinition.ts';

function present(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== '';
}

/** Every FDR event is attributed by its agent id; without one the row cannot be tied to a host. */
export const aidPresent: Expectation = {
  name: 'aid_present',
  action: 'quarantine',
  description: 'aid (agent id) is a non-empty string',
  check: (row) => present(row.aid),
};

/** `valid_<column>`: the port is null or within 0..65535 (values outside are corrupt events). */
export function portInRange(column: string): Expectation {
  return {
    name: `valid_${column}`,
    action: 'quarantine',
    description: `${column} is null or within 0..65535`,
    check: (row) => {
      const v = row[column];
      return v === null || v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65_535);
    },
  };
}

/** Warns when a multi-event table receives an event_simpleName it was not written for. */
export function simpleNameKnown(accept: (name: string) => boolean, description: string): Expectation {
  return {
    name: 'event_simple_name_known',
    action: 'warn',
    description,
    check: (row) => typeof row.event_simpleName === 'string' && accept(row.event_simpleName),
  };
}
