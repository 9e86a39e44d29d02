// Silver table crowdstrike_file_write: the *FileWritten events (NewExecutableWritten, PeFileWritten,
// SuspiciousPeFileWritten, ZipFileWritten, GzipFileWritten, …), matched by the suffix "Written".
import type { TableDefinition } from '../tableDefinition.ts';
import { eventColumns, fdr, hashColumns, rescuedColumn } from './crowdstrikeColumns.ts';
import { aidPresent, simpleNameKnown } from './crowdstrikeExpectations.ts';

/** Is this event_simpleName one of the file-written family (NewExecutableWritten, …FileWritten)? */
export function isFileWrittenEvent(simpleName: string): boolean {
  return simpleName.endsWith('FileWritten') || simpleName === 'NewExecutableWritten';
}

export const crowdstrikeFileWrite: TableDefinition = {
  name: 'crowdstrike_file_write',
  layer: 'silver',
  doc: 'CrowdStrike Falcon file writes (the *FileWritten family and NewExecutableWritten) from the Falcon Data Replicator.',
  partitionBy: ['eventDate'],
  eventTime: 'timestamp',
  columns: [
    ...eventColumns(),
    fdr('TargetFileName', 'string', 'Full path of the written file (IoC: file name).'),
    fdr('FileName', 'string', 'File name (newer sensors).'),
    fdr('FilePath', 'string', 'Directory of the file (newer sensors).'),
    fdr('Size', 'long', 'Size of the file in bytes.'),
    ...hashColumns(),
    fdr('FileIdentifier', 'string', 'Sensor file identifier.'),
    fdr('FileOperatorSid', 'string', 'SID of the account that wrote the file.'),
    fdr('AuthenticationId', 'string', 'Logon id (LUID) of the writer.'),
    fdr('TokenType', 'integer', 'Token type of the writer.'),
    fdr('FileWrittenFlags', 'long', 'Flags of the write.'),
    fdr('IsOnNetwork', 'boolean', 'Whether the file is on a network share ("1"/"0").'),
    fdr('IsOnRemovableDisk', 'boolean', 'Whether the file is on a removable disk ("1"/"0").'),
    fdr('DiskParentDeviceInstanceId', 'string', 'Device instance of the disk.'),
    rescuedColumn(),
  ],
  enrich: { geoip: ['aip'] },
  expectations: [aidPresent, simpleNameKnown(isFileWrittenEvent, 'event_simpleName ends with FileWritten (or is NewExecutableWritten)')],
};
