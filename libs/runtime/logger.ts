// Structured JSON logs (pino) with the stage name on every line.
// Secret-bearing fields are redacted wherever a caller might log them (a config object, request headers, an
// error carrying options): defence in depth behind the rule that no code logs a secret on purpose.
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = ['pass', 'password', 'token', 'authorization', 'Authorization', 'connectionString', 'webhookUrl', 'sasKey', 'secretAccessKey', 'accountKey', 'clientSecret', 'sharedKey', 'seed', 'creds'];

/** Redacted at the top level and one or two objects deep (pino's paths have no recursive wildcard). */
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(stage: string, level: string): Logger {
  return pino({ level, base: { stage }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
