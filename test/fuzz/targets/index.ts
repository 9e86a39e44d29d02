// Every fuzz target by name: one per source family, then the collector's framings.
import { families } from '@sluice/sources';
import type { Target } from '../target.ts';
import { filesTarget, httpTarget } from './collector.ts';
import { familyTarget } from './families.ts';
import { syslogTcpTarget, syslogUdpTarget } from './syslog.ts';

type Factory = () => Target;

export const TARGETS: Record<string, Factory> = {
  ...Object.fromEntries(Object.keys(families).map((n) => [n, () => familyTarget(n)])),
  'syslog-tcp': () => syslogTcpTarget,
  'syslog-udp': () => syslogUdpTarget,
  http: httpTarget,
  files: filesTarget,
};

export function targetNames(): string[] {
  return Object.keys(TARGETS);
}
