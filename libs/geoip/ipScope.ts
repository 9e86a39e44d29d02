// Classifies an address before any lookup: private, loopback, link-local and invalid addresses are marked, not looked up.
import { BlockList, isIP } from 'node:net';

export type IpScope = 'public' | 'private' | 'loopback' | 'link_local' | 'multicast' | 'reserved' | 'invalid';

const ranges: [IpScope, string, number, 'ipv4' | 'ipv6'][] = [
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link_local', '169.254.0.0', 16, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '0.0.0.0', 8, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['link_local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '::', 128, 'ipv6'],
];

const lists = new Map<IpScope, BlockList>();
for (const [scope, net, prefix, family] of ranges) {
  let l = lists.get(scope);
  if (!l) lists.set(scope, (l = new BlockList()));
  l.addSubnet(net, prefix, family);
}

export function ipScope(ip: string): IpScope {
  const family = isIP(ip);
  if (family === 0) return 'invalid';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [scope, list] of lists) if (list.check(ip, type)) return scope;
  return 'public';
}
