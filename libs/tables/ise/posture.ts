// Silver table for Cisco ISE posture and client provisioning audit events (CISE_Posture_and_Client_Provisioning_Audit):
// posture assessment results of endpoints and EPS/ANC operations.
import type { TableDefinition } from '../tableDefinition.ts';
import { attributesColumn, endpointColumns, ipFormat, iseHeaderColumns, macFormat } from './iseColumns.ts';

export const isePosture: TableDefinition = {
  name: 'ise_posture',
  layer: 'silver',
  doc: 'Cisco ISE posture and client provisioning audit events: posture status per endpoint and EPS operations.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...iseHeaderColumns(),
    ...endpointColumns(),
    { name: 'posture_status', type: 'string', doc: 'PostureStatus / PostureAssessmentStatus (Compliant, NonCompliant, Pending, …).' },
    { name: 'posture_policy', type: 'string', doc: 'PolicyName / PostureReport: the posture policy or report.' },
    { name: 'operating_system', type: 'string', doc: 'OperatingSystem of the endpoint.' },
    { name: 'system_name', type: 'string', doc: 'SystemName: endpoint host name reported by the posture agent.' },
    { name: 'system_domain', type: 'string', doc: 'SystemDomain reported by the posture agent.' },
    { name: 'operation_id', type: 'string', doc: 'OperationID of an EPS/ANC operation.' },
    { name: 'operation_type', type: 'string', doc: 'OperationType, e.g. CLEAR_POLICY_BY_IP:10.0.0.5 (the address also fills endpoint_ip/mac).' },
    { name: 'operation_status', type: 'string', doc: 'OperationStatus, e.g. RUNNING, SUCCESS, FAILURE.' },
    attributesColumn(),
  ],
  expectations: [
    {
      name: 'endpoint_identified',
      action: 'warn',
      description: 'endpoint_mac or endpoint_ip is present (the event can be attributed to an endpoint)',
      check: (row) => (typeof row.endpoint_mac === 'string' && row.endpoint_mac !== '') || (typeof row.endpoint_ip === 'string' && row.endpoint_ip !== ''),
    },
    macFormat,
    ipFormat,
  ],
};
