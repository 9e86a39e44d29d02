// Table `process`: Sysmon process events (1 process create, 5 process terminated, 18 pipe connected) normalised to
// OSSEM-style common information model names, so every process source can land in one shape.
import type { TableDefinition } from '../tableDefinition.ts';
import { col, layoutColumn, processColumns, sysmonEventColumns } from './winlogColumns.ts';
import { eventIdIn, processGuidPresent } from './winlogExpectations.ts';

export const PROCESS_EVENT_IDS = [1, 5, 18] as const;

export const winlogProcess: TableDefinition = {
  name: 'process',
  layer: 'silver',
  doc: 'Sysmon process create (1), terminate (5) and pipe connected (18) events from winlogbeat, with OSSEM-style column names.',
  partitionBy: ['eventDate'],
  eventTime: 'event_time',
  columns: [
    ...sysmonEventColumns(),
    ...processColumns(),
    col('process_command_line', 'string', 'Command line (CommandLine).'),
    col('process_current_directory', 'string', 'Working directory (CurrentDirectory).'),
    col('process_integrity_level', 'string', 'Integrity level (IntegrityLevel).'),
    col('process_parent_guid', 'string', 'GUID of the parent (ParentProcessGuid).'),
    col('process_parent_id', 'long', 'Parent process id (ParentProcessId).'),
    col('process_parent_path', 'string', 'Image of the parent (ParentImage).'),
    col('process_parent_name', 'string', 'File name of the parent image.'),
    col('process_parent_command_line', 'string', 'Command line of the parent (ParentCommandLine).'),
    col('process_parent_user', 'string', 'Account of the parent process (ParentUser, Sysmon 13.30+).'),
    col('user_logon_guid', 'string', 'Logon GUID (LogonGuid).'),
    col('user_logon_id', 'string', 'Logon id, hex text (LogonId).'),
    col('user_session_id', 'long', 'Terminal session id (TerminalSessionId).'),
    col('file_version', 'string', 'Image file version (FileVersion).'),
    col('file_description', 'string', 'Image description (Description).'),
    col('file_product', 'string', 'Image product (Product).'),
    col('file_company', 'string', 'Image company (Company).'),
    col('file_original_name', 'string', 'Original file name from the PE header (OriginalFileName).'),
    col('file_hashes', 'string', 'Hashes as Sysmon wrote them (ALG=hex,…).'),
    col('hash_md5', 'string', 'MD5 from Hashes, lower-case hex.'),
    col('hash_sha1', 'string', 'SHA-1 from Hashes, lower-case hex.'),
    col('hash_sha256', 'string', 'SHA-256 from Hashes, lower-case hex.'),
    col('hash_imphash', 'string', 'Import hash from Hashes, lower-case hex.'),
    col('pipe_name', 'string', 'Named pipe (PipeName, event 18).'),
    col('pipe_event_type', 'string', 'EventType of event 18 (ConnectPipe).'),
    layoutColumn(),
  ],
  expectations: [eventIdIn(PROCESS_EVENT_IDS), processGuidPresent],
};
