// Structured JSON logs (pino) with the stage name on every line.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(stage: string, level: string): Logger {
  return pino({ level, base: { stage }, timestamp: pino.stdTimeFunctions.isoTime });
}
