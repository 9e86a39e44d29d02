// Silver table for ISC dhcpd / Infoblox NIOS DHCP syslog messages (DHCPDISCOVER … DHCPINFORM and Infoblox `r-l-e`
// lease events): which IP went to which MAC when — the input of the gold IP attribution table.
import type { Expectation, Row, TableDefinition } from '../tableDefinition.ts';
import { isIpAddress, MAC48 } from './addresses.ts';

/** Message types parsed into the table (the DHCP verb without the `DHCP` prefix, plus Infoblox lease events). */
export const DHCP_EVENT_TYPES = ['DISCOVER', 'OFFER', 'REQUEST', 'ACK', 'NAK', 'RELEASE', 'DECLINE', 'EXPIRE', 'INFORM', 'LEASE'] as const;

/** Types without an IP address: a DISCOVER asks for one. */
export const TYPES_WITHOUT_IP: ReadonlySet<string> = new Set(['DISCOVER']);
/** Types without a MAC: an INFORM names only the client's IP. */
export const TYPES_WITHOUT_MAC: ReadonlySet<string> = new Set(['INFORM']);

const present = (v: Row[string] | undefined): boolean => typeof v === 'string' && v !== '';

const ipPresent: Expectation = {
  name: 'ip_present',
  action: 'quarantine',
  description: 'ip is present, except for DISCOVER (the client has no address yet)',
  check: (row) => TYPES_WITHOUT_IP.has(String(row.event_type)) || present(row.ip),
};

const macPresent: Expectation = {
  name: 'mac_present',
  action: 'quarantine',
  description: 'mac is present, except for INFORM (dhcpd logs only the client IP)',
  check: (row) => TYPES_WITHOUT_MAC.has(String(row.event_type)) || present(row.mac),
};

const ipFormat: Expectation = {
  name: 'ip_format',
  action: 'warn',
  description: 'ip is null or an IPv4/IPv6 address',
  check: (row) => row.ip === null || row.ip === undefined || (typeof row.ip === 'string' && isIpAddress(row.ip)),
};

const macFormat: Expectation = {
  name: 'mac_format',
  action: 'warn',
  description: 'mac is null or a 48-bit MAC in lower-case colon form',
  check: (row) => row.mac === null || row.mac === undefined || (typeof row.mac === 'string' && MAC48.test(row.mac)),
};

const knownType: Expectation = {
  name: 'event_type_known',
  action: 'warn',
  description: `event_type is one of ${DHCP_EVENT_TYPES.join(', ')}`,
  check: (row) => (DHCP_EVENT_TYPES as readonly string[]).includes(String(row.event_type)),
};

export const dhcpLeases: TableDefinition = {
  name: 'dhcp',
  layer: 'silver',
  doc: 'ISC dhcpd and Infoblox NIOS DHCP messages from syslog: one row per DHCP message or lease event.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    { name: 'timestamp', type: 'timestamp', nullable: false, doc: 'Syslog header time, UTC (year-less headers: year resolved, see docs/sources/dhcp.md).' },
    { name: 'host', type: 'string', doc: 'Syslog HOSTNAME: the DHCP server (name or IP).' },
    { name: 'app', type: 'string', doc: 'Syslog tag, e.g. dhcpd.' },
    { name: 'pid', type: 'long', doc: 'Process id from the syslog tag.' },
    { name: 'syslog_priority', type: 'integer', doc: 'Syslog PRI (facility * 8 + severity), null when absent.' },
    { name: 'event_type', type: 'string', nullable: false, doc: 'DISCOVER, OFFER, REQUEST, ACK, NAK, RELEASE, DECLINE, EXPIRE, INFORM or LEASE (Infoblox r-l-e).' },
    { name: 'ip', type: 'string', doc: 'The leased / requested / released IP address (the client IP for INFORM).' },
    { name: 'mac', type: 'string', doc: 'Client hardware address, lower-case colon form.' },
    { name: 'hostname', type: 'string', doc: 'Client host name in parentheses after the MAC, if sent.' },
    { name: 'interface', type: 'string', doc: 'Interface the message arrived on (`via eth2`), null when `via` names a relay IP.' },
    { name: 'relay', type: 'string', doc: 'Relay agent (giaddr): `via <ip>` or `relay <ip>`.' },
    { name: 'server_ip', type: 'string', doc: 'Server identifier of a DHCPREQUEST (`for 10.0.0.5 (10.0.0.1)`).' },
    { name: 'lease_duration', type: 'long', doc: 'lease-duration / offered-duration in seconds.' },
    { name: 'lease_start', type: 'timestamp', unit: 's', doc: 'Lease start (Infoblox r-l-e events).' },
    { name: 'lease_end', type: 'timestamp', unit: 's', doc: 'Lease end (Infoblox r-l-e events).' },
    { name: 'lease_state', type: 'string', doc: 'Lease state of an r-l-e event (Issued, Renewed, Freed, Abandoned, …).' },
    { name: 'client_id', type: 'string', doc: 'DHCP client identifier (`uid 01:…`).' },
    { name: 'transaction_id', type: 'string', doc: 'DHCP transaction id (`TransID 0x…`, Infoblox).' },
    { name: 'renew', type: 'boolean', doc: 'True when the message is marked `(RENEW)`.' },
    { name: 'detail', type: 'string', doc: 'Trailing status text: `found`, `no free leases`, `unknown lease 10.0.0.5.`, …' },
    { name: 'message', type: 'string', nullable: false, doc: 'The full syslog message text after the tag.' },
  ],
  expectations: [ipPresent, macPresent, ipFormat, macFormat, knownType],
};
