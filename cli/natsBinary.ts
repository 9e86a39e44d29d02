// Locates the nats-server binary: $NATS_SERVER_BIN, then PATH, then Go's bin folder.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export function findNatsServer(): string | undefined {
  const explicit = process.env.NATS_SERVER_BIN;
  if (explicit && existsSync(explicit)) return explicit;
  const dirs = (process.env.PATH ?? '').split(delimiter).concat([join(homedir(), 'go', 'bin'), '/usr/sbin', '/usr/local/bin']);
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    if (d && existsSync(p)) return p;
  }
  return undefined;
}
