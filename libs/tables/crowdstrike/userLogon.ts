// Silver table crowdstrike_user_logon: successful and failed logons (UserLogon, UserLogonFailed, UserLogonFailed2).
import type { TableDefinition } from '../tableDefinition.ts';
import { eventColumns, fdr, rescuedColumn } from './crowdstrikeColumns.ts';
import { aidPresent, portInRange, simpleNameKnown } from './crowdstrikeExpectations.ts';

export const LOGON_EVENTS = ['UserLogon', 'UserLogonFailed', 'UserLogonFailed2'] as const;

export const crowdstrikeUserLogon: TableDefinition = {
  name: 'crowdstrike_user_logon',
  layer: 'silver',
  doc: 'CrowdStrike Falcon logons and failed logons (UserLogon, UserLogonFailed, UserLogonFailed2) from the Falcon Data Replicator.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...eventColumns(),
    fdr('UserName', 'string', 'Account name.'),
    fdr('UserSid', 'string', 'Account SID.'),
    fdr('UserPrincipal', 'string', 'User principal name.'),
    fdr('LogonDomain', 'string', 'Domain of the account.'),
    fdr('LogonServer', 'string', 'Server that authenticated the logon.'),
    fdr('LogonType', 'integer', 'Windows logon type (2 interactive, 3 network, 10 remote interactive, …).'),
    fdr('LogonTime', 'timestamp', 'Time of the logon (epoch seconds with fraction).', { unit: 's' }),
    fdr('AuthenticationId', 'string', 'Logon id (LUID).'),
    fdr('RemoteAddressIP4', 'string', 'Address the logon came from (GeoIP enriched).'),
    fdr('RemoteAddressIP6', 'string', 'IPv6 address the logon came from.'),
    fdr('RemotePort', 'integer', 'Port the logon came from.'),
    fdr('ClientComputerName', 'string', 'Name of the client computer.'),
    fdr('UserIsAdmin', 'boolean', 'Whether the account is an administrator ("1"/"0").'),
    fdr('PasswordLastSet', 'timestamp', 'When the password was last set (epoch seconds).', { unit: 's' }),
    fdr('UserLogonFlags', 'long', 'Logon flags.'),
    fdr('Status', 'long', 'NTSTATUS of a failed logon (decimal).'),
    fdr('SubStatus', 'long', 'NTSTATUS sub-status of a failed logon (decimal).'),
    rescuedColumn(),
  ],
  enrich: { geoip: ['aip', 'RemoteAddressIP4'] },
  expectations: [
    aidPresent,
    portInRange('RemotePort'),
    simpleNameKnown((n) => (LOGON_EVENTS as readonly string[]).includes(n), `event_simpleName is one of ${LOGON_EVENTS.join(', ')}`),
  ],
};
