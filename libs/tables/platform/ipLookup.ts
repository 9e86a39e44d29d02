// Gold IP attribution: who (MAC, user, host name) held an IP address during which interval, from DHCP leases and
// Cisco ISE sessions. Written by the detector's ip_attribution rule through the sink; `sluice query --ip --at` reads it.
// Rows are revisions of intervals: the row with the highest `revision` of an `interval_id` is the current truth
// (an interval is emitted when it opens, again when its user or host name becomes known, and when it closes).
import type { TableDefinition } from '../tableDefinition.ts';

export const ipLookupTable: TableDefinition = {
  name: 'ip_lookup',
  layer: 'gold',
  doc: 'Who held an IP address when: one row per revision of a holding interval (from dhcp, ise_posture, ise_profiler, ise_radius_accounting); the highest revision of an interval_id wins.',
  columns: [
    { name: 'ip', type: 'string', nullable: false, doc: 'The IP address.' },
    { name: 'mac', type: 'string', doc: 'Holder MAC, lower-case colon form (null when only a user is known).' },
    { name: 'user', type: 'string', doc: 'User seen on the address by ISE or RADIUS accounting (null for DHCP-only intervals).' },
    { name: 'hostname', type: 'string', doc: 'Client host name (DHCP client name, ISE profiler host-name or posture SystemName).' },
    { name: 'source', type: 'string', nullable: false, doc: '`dhcp`, `ise`, `radius` or `vpn` (RADIUS accounting, NAS-Port-Type Virtual): the input that opened the interval.' },
    { name: 'valid_from', type: 'timestamp', nullable: false, doc: 'Start of the interval (event time of the ACK / ISE event that opened it).' },
    { name: 'valid_to', type: 'timestamp', doc: 'End of the interval (exclusive); null = still open.' },
    { name: 'lease_expires', type: 'timestamp', doc: 'Expected lease end (ACK time + lease duration, or the Infoblox lease end) when known.' },
    { name: 'closed_by', type: 'string', doc: 'Why the interval closed: release, expire, stop (RADIUS), new_holder, lease_lapsed, silence (no event for maxSilenceHours); null while open.' },
    { name: 'interval_id', type: 'string', nullable: false, doc: 'Stable id of the interval (ip, holder, valid_from).' },
    { name: 'revision', type: 'integer', nullable: false, doc: 'Revision of the interval: 0 when opened, +1 per update; the highest is current.' },
    { name: 'emitted_time', type: 'timestamp', nullable: false, doc: 'When the detector emitted this revision.' },
    { name: 'evidence', type: 'json', doc: 'Lineage of the rows that opened / updated / closed the interval ([{table, source, object, raw_seq}]).' },
    { name: 'valid_from_date', type: 'date', nullable: false, doc: 'UTC date of valid_from (partition).' },
  ],
  partitionBy: ['valid_from_date'],
  eventTime: 'valid_from',
  expectations: [],
};
