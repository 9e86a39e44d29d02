// Alert ids derive from what the alert is about (rule + entity key), never from when or where it was computed,
// so a replay, a redelivery or another replica produces the same id and JetStream/the notifier collapse repeats.
import { createHash } from 'node:crypto';

export function alertId(rule: string, ...key: (string | number)[]): string {
  return createHash('sha256').update([rule, ...key].join('\u0000')).digest('hex').slice(0, 32);
}

/** ISO-8601 of epoch milliseconds. */
export function isoOfMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** SQL string literal (single quotes doubled). */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
