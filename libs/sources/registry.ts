// Every source family sluice ships, by the name used in configuration (`family: zeek`).
import { cloudtrailFamily } from './cloudtrail.ts';
import { crowdstrikeFamily } from './crowdstrike.ts';
import { defenderFamily } from './defender.ts';
import { dhcpFamily } from './dhcp.ts';
import { iseFamily } from './ise.ts';
import { threatintelFamily } from './threatintel.ts';
import { vpcflowFamily } from './vpcflow.ts';
import { winlogFamily } from './winlog.ts';
import { zeekFamily } from './zeek.ts';
import type { SourceFamily } from './sourceFamily.ts';

export const families: Readonly<Record<string, SourceFamily>> = {
  defender: defenderFamily,
  cloudtrail: cloudtrailFamily,
  vpcflow: vpcflowFamily,
  zeek: zeekFamily,
  ise: iseFamily,
  dhcp: dhcpFamily,
  crowdstrike: crowdstrikeFamily,
  winlog: winlogFamily,
  threatintel: threatintelFamily,
};

/** The family for a configured name, or undefined. */
export function familyFor(name: string): SourceFamily | undefined {
  return Object.hasOwn(families, name) ? families[name] : undefined;
}
