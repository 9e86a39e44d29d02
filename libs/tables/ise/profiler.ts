// Silver table for Cisco ISE profiler events (logging category CISE_Profiler): which endpoint (MAC, IP) was
// profiled as what (endpoint policy, identity group), seen by which probe and network device.
import type { TableDefinition } from '../tableDefinition.ts';
import { attributesColumn, endpointColumns, ipFormat, iseHeaderColumns, macFormat } from './iseColumns.ts';

export const iseProfiler: TableDefinition = {
  name: 'ise_profiler',
  layer: 'silver',
  doc: 'Cisco ISE profiler events (CISE_Profiler syslog category): endpoint MAC/IP and the profile ISE assigned.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...iseHeaderColumns(),
    ...endpointColumns(),
    { name: 'endpoint_policy', type: 'string', doc: 'EndpointPolicy: the profile assigned (e.g. Windows7-Workstation).' },
    { name: 'endpoint_matched_policy', type: 'string', doc: 'EndpointMatchedPolicy: the profiling policy that matched.' },
    { name: 'endpoint_certainty', type: 'integer', doc: 'EndpointCertainityMetric: certainty factor of the match.' },
    { name: 'endpoint_identity_group', type: 'string', doc: 'EndpointIdentityGroup of the endpoint.' },
    { name: 'endpoint_oui', type: 'string', doc: 'EndpointOUI: vendor of the MAC prefix.' },
    { name: 'endpoint_source_event', type: 'string', doc: 'EndpointSourceEvent: the probe that triggered profiling (RADIUS Probe, SNMPQuery Probe, …).' },
    { name: 'endpoint_hostname', type: 'string', doc: 'host-name reported by DHCP (from EndpointProperty), if any.' },
    { name: 'profiler_server', type: 'string', doc: 'ProfilerServer: ISE node that ran the profiler.' },
    { name: 'endpoint_properties', type: 'map', doc: 'EndpointProperty split into its own key=value map.' },
    attributesColumn(),
  ],
  expectations: [
    {
      name: 'endpoint_mac_present',
      action: 'quarantine',
      description: 'endpoint_mac is present (a profiling event is about one endpoint, identified by its MAC)',
      check: (row) => typeof row.endpoint_mac === 'string' && row.endpoint_mac !== '',
    },
    macFormat,
    ipFormat,
  ],
};
