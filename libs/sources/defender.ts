// Microsoft Defender XDR streaming API (Event Hubs): `{"records":[{time, tenantId, category, properties}]}` payloads
// or single records; the category (`AdvancedHunting-DeviceNetworkEvents`) names the table.
import { defenderCategoryKey, defenderTables } from '@sluice/tables';
import { recordsArrayOf, routeJson } from './jsonRecords.ts';
import type { SourceFamily } from './sourceFamily.ts';

export const defenderFamily: SourceFamily = {
  name: 'defender',
  title: 'Microsoft Defender XDR AdvancedHunting events (streaming API through Event Hubs)',
  tables: defenderTables,
  route: (records) =>
    routeJson(
      records,
      (r) => {
        const c = r && typeof r === 'object' ? (r as Record<string, unknown>).category : undefined;
        if (typeof c !== 'string') return undefined;
        const key = defenderCategoryKey(c);
        return Object.hasOwn(defenderTables, key) ? key : undefined;
      },
      recordsArrayOf,
    ),
};
