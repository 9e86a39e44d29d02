// Registry of the VPC flow log tables by category token (`flow`), validated at load.
import { assertValidDefinition, type TableDefinition } from '../tableDefinition.ts';
import { vpcFlow } from './vpcFlow.ts';

export { vpcFlow, VPC_FLOW_EXPECTATIONS } from './vpcFlow.ts';

/** Category token of flow records (subject `cat.<source>.flow`). */
export const VPC_FLOW_CATEGORY = 'flow';

export const vpcflowTables: Record<string, TableDefinition> = { [VPC_FLOW_CATEGORY]: vpcFlow };

for (const def of Object.values(vpcflowTables)) assertValidDefinition(def);
