export { alertsTable } from './alerts.ts';
export { bronzeTable } from './bronze.ts';
export { ipLookupTable } from './ipLookup.ts';
export { quarantineTable } from './quarantine.ts';
export { unroutedTable } from './unrouted.ts';
