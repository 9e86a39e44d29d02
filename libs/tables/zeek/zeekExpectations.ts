// Expectations shared by the Zeek tables: event time present, ports in range, uid present where Zeek always writes it.
import type { Expectation, Row } from '../tableDefinition.ts';

function isPortOrNull(v: Row[string] | undefined): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65_535);
}

/**
 * `ts` is the event time and the partition: without it a row has no place. A missing or unparseable `ts` already
 * fails coercion (non-nullable column) and is quarantined with that reason; the rule names the requirement.
 */
export const tsNotNull: Expectation = {
  name: 'ts_not_null',
  action: 'quarantine',
  description: 'ts (event time) is present',
  check: (row) => typeof row.ts === 'number',
};

/**
 * Zeek writes ports as 0..65535; anything else means a corrupt or misaligned line. Quarantined (not dropped) so the
 * raw record can be inspected and re-parsed.
 */
export function portInRange(column: string): Expectation {
  return {
    name: `valid_${column}`,
    action: 'quarantine',
    description: `${column} is null or within 0..65535`,
    check: (row) => isPortOrNull(row[column]),
  };
}

/**
 * Zeek sets `uid` on every record of connection logs. A row without it is still a usable event (addresses, ports,
 * time), so it is kept; the count shows a producer problem, and such rows simply do not join (notice ⨝ conn).
 */
export const uidPresent: Expectation = {
  name: 'uid_present',
  action: 'warn',
  description: 'uid is a non-empty string (Zeek writes it on every record of this log; it joins the logs of a connection)',
  check: (row) => typeof row.uid === 'string' && row.uid !== '',
};

/** ts, both ports of the connection id, uid. */
export function connectionExpectations(withUid = true): Expectation[] {
  return [tsNotNull, portInRange('id_orig_p'), portInRange('id_resp_p'), ...(withUid ? [uidPresent] : [])];
}
