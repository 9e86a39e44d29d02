// The threat-intelligence tables keyed by the category token the `threatintel` family routes to, and the IoC
// type vocabulary shared with the family and the detector.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { iocs } from './iocs.ts';

export { iocs, IOC_DATASETS } from './iocs.ts';
export { HASH_HEX_LENGTH, IOC_TYPES, ipTypeOf, isIocType, isWellFormedHash, isWellFormedIp, normaliseIndicator, type IocType } from './iocTypes.ts';

/** Category token of routed indicators. */
export const IOC_CATEGORY = 'ioc';

export const threatintelTables: Record<string, TableDefinition> = { [IOC_CATEGORY]: iocs };

for (const def of Object.values(threatintelTables)) assertValidDefinition(def);
