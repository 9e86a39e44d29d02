// True when the module is the process entry point (so a service file can be both imported and run).
import { pathToFileURL } from 'node:url';

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return !!entry && pathToFileURL(entry).href === moduleUrl;
}
