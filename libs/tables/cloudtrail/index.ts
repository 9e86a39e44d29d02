// Registry of the CloudTrail tables by category token (`event`), validated at load.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { cloudtrail } from './cloudtrail.ts';

export { cloudtrail, CLOUDTRAIL_EVENT_TYPES, CLOUDTRAIL_EXPECTATIONS } from './cloudtrail.ts';

/** Category token of CloudTrail records (subject `cat.<source>.event`). */
export const CLOUDTRAIL_CATEGORY = 'event';

export const cloudtrailTables: Record<string, TableDefinition> = { [CLOUDTRAIL_CATEGORY]: cloudtrail };

for (const def of Object.values(cloudtrailTables)) assertValidDefinition(def);
