// Expectations shared by the Defender device tables (device present, report id, known action types, port ranges)
// and the small predicates they are built from. Table files add their own on top.
import type { Expectation, ExpectationAction, Row } from '../tableDefinition.ts';

/** Documented TCP/UDP port range; null passes (not every event has the port). */
export function isPortOrNull(v: Row[string] | undefined): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65_535);
}

/** A non-empty string once trimmed. */
export function isPresent(v: Row[string] | undefined): boolean {
  return typeof v === 'string' && v.trim() !== '';
}

/** DeviceId is the key of every Defender event; a row without one cannot be attributed to a device. */
export const deviceIdPresent: Expectation = {
  name: 'device_id_present',
  action: 'quarantine',
  description: 'DeviceId is a non-empty string (rows are keyed and attributed by DeviceId + ReportId)',
  check: (row) => isPresent(row.DeviceId),
};

export const reportIdNonNegative: Expectation = {
  name: 'report_id_non_negative',
  action: 'quarantine',
  description: 'ReportId is >= 0 (it is a per-device event counter)',
  check: (row) => typeof row.ReportId === 'number' && row.ReportId >= 0,
};

/** Warns on ActionType values this table was not written for: new event kinds show up in counts, not silently. */
export function actionTypeKnown(known: readonly string[]): Expectation {
  const set = new Set(known);
  return {
    name: 'action_type_known',
    action: 'warn',
    description: `ActionType is one of ${known.join(', ')}`,
    check: (row) => typeof row.ActionType === 'string' && set.has(row.ActionType),
  };
}

/** `valid_<snake>`: the port column is null or within 0..65535. */
export function portInRange(name: string, column: string, action: ExpectationAction = 'drop'): Expectation {
  return {
    name,
    action,
    description: `${column} is null or within 0..65535`,
    check: (row) => isPortOrNull(row[column]),
  };
}

/** `<name>`: the key column is a non-empty string; rows without their key cannot be joined or deduplicated. */
export function keyPresent(name: string, column: string, why: string, action: ExpectationAction = 'quarantine'): Expectation {
  return { name, action, description: `${column} is a non-empty string (${why})`, check: (row) => isPresent(row[column]) };
}

/** `<name>`: the column is null or one of the documented values (warn: new values show up in counts). */
export function valueKnown(name: string, column: string, known: readonly string[]): Expectation {
  const set = new Set(known);
  return {
    name,
    action: 'warn',
    description: `${column} is null or one of ${known.join(', ')}`,
    check: (row) => row[column] === null || row[column] === undefined || (typeof row[column] === 'string' && set.has(row[column])),
  };
}
