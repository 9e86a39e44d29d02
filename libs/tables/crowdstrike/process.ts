// Silver table crowdstrike_process: process start and end events of the Falcon sensor (ProcessRollup2,
// SyntheticProcessRollup2, EndOfProcess).
import type { TableDefinition } from '../tableDefinition.ts';
import { eventColumns, fdr, hashColumns, rescuedColumn } from './crowdstrikeColumns.ts';
import { aidPresent, simpleNameKnown } from './crowdstrikeExpectations.ts';

export const PROCESS_EVENTS = ['ProcessRollup2', 'SyntheticProcessRollup2', 'EndOfProcess'] as const;

export const crowdstrikeProcess: TableDefinition = {
  name: 'crowdstrike_process',
  layer: 'silver',
  doc: 'CrowdStrike Falcon process starts (ProcessRollup2, SyntheticProcessRollup2) and ends (EndOfProcess) from the Falcon Data Replicator.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...eventColumns(),
    fdr('TargetProcessId', 'string', 'UPID of the process (64-bit, text); joins with ContextProcessId of other events.'),
    fdr('RawProcessId', 'long', 'Operating-system process id.'),
    fdr('ParentProcessId', 'string', 'UPID of the parent process.'),
    fdr('SourceProcessId', 'string', 'UPID of the process that caused the creation.'),
    fdr('SourceThreadId', 'string', 'Thread that caused the creation.'),
    fdr('ImageFileName', 'string', 'Full path of the process image.'),
    fdr('CommandLine', 'string', 'Command line of the process.'),
    fdr('ParentBaseFileName', 'string', 'File name of the parent image.'),
    fdr('GrandParentBaseFileName', 'string', 'File name of the grandparent image.'),
    fdr('UserSid', 'string', 'SID of the user the process runs as.'),
    fdr('UserName', 'string', 'User name (Mac/Linux events).'),
    fdr('SessionId', 'long', 'Windows session id.'),
    fdr('AuthenticationId', 'string', 'Logon id (LUID) of the process token.'),
    fdr('ParentAuthenticationId', 'string', 'Logon id of the parent token.'),
    fdr('IntegrityLevel', 'long', 'Windows integrity level RID (4096 low … 16384 system).'),
    fdr('TokenType', 'integer', 'Token type (1 primary, 2 impersonation).'),
    fdr('ProcessStartTime', 'timestamp', 'Process start (epoch seconds with fraction).', { unit: 's' }),
    fdr('ProcessEndTime', 'timestamp', 'Process end (epoch seconds with fraction; EndOfProcess).', { unit: 's' }),
    fdr('ProcessCreateFlags', 'long', 'Windows process creation flags.'),
    fdr('ImageSubsystem', 'integer', 'PE subsystem (2 GUI, 3 console).'),
    ...hashColumns(),
    fdr('AuthenticodeHashData', 'string', 'Authenticode hash of the image.'),
    fdr('SignInfoFlags', 'long', 'Signature information flags.'),
    fdr('ExitCode', 'long', 'Exit code (EndOfProcess).'),
    fdr('UserTime', 'long', 'User-mode CPU time in 100 ns units (EndOfProcess).'),
    fdr('KernelTime', 'long', 'Kernel-mode CPU time in 100 ns units (EndOfProcess).'),
    fdr('CycleTime', 'long', 'CPU cycles (EndOfProcess).'),
    fdr('RpcClientProcessId', 'string', 'UPID of the RPC client that asked for the process.'),
    fdr('Tags', 'string', 'Comma-separated Falcon tag ids.'),
    rescuedColumn(),
  ],
  enrich: { geoip: ['aip'] },
  expectations: [aidPresent, simpleNameKnown((n) => (PROCESS_EVENTS as readonly string[]).includes(n), `event_simpleName is one of ${PROCESS_EVENTS.join(', ')}`)],
};
