// Expectations shared by the winlog tables.
import type { Expectation } from '../tableDefinition.ts';

/** `valid_<column>`: null or a port number. */
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

/** The row's event_id is one of the ids the table is fed with (routing guarantees it; a failure is a bug or a forged record). */
export function eventIdIn(ids: readonly number[]): Expectation {
  return {
    name: 'event_id_expected',
    action: 'quarantine',
    description: `event_id is one of ${ids.join(', ')}`,
    check: (row) => typeof row.event_id === 'number' && ids.includes(row.event_id),
  };
}

export const processGuidPresent: Expectation = {
  name: 'process_guid_present',
  action: 'warn',
  description: 'process_guid is present (Sysmon joins process activity on it)',
  check: (row) => typeof row.process_guid === 'string' && row.process_guid !== '',
};

export const hostNamePresent: Expectation = {
  name: 'host_name_present',
  action: 'warn',
  description: 'the computer name is present',
  check: (row) => typeof (row.host_name ?? row.computer_name) === 'string',
};
