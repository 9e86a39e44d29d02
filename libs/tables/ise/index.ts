// Registry of the Cisco ISE silver tables keyed by the category token the `ise` family routes to.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { isePosture } from './posture.ts';
import { iseProfiler } from './profiler.ts';
import { iseRadiusAccounting } from './radiusAccounting.ts';

export { isePosture } from './posture.ts';
export { iseProfiler } from './profiler.ts';
export { ACCT_STATUS_TYPES, iseRadiusAccounting } from './radiusAccounting.ts';

/** ISE logging category (syslog header) → category token. Other categories route to `_unknown`. */
export const ISE_CATEGORY_TOKENS: Readonly<Record<string, string>> = {
  CISE_Posture_and_Client_Provisioning_Audit: 'posture',
  CISE_Profiler: 'profiler',
  CISE_RADIUS_Accounting: 'radius_accounting',
};

/** Category token → table. */
export const iseTables: Record<string, TableDefinition> = {
  posture: isePosture,
  profiler: iseProfiler,
  radius_accounting: iseRadiusAccounting,
};

for (const def of Object.values(iseTables)) assertValidDefinition(def);
