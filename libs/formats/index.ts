export { firstInvalidJson, frameRecords, type FramedRecords, type Framing } from './framing.ts';
export * from './syslog.ts';
export * from './keyValue.ts';
export * from './zeekTsv.ts';
export * from './vpcFlow.ts';
export * from './csvLine.ts';
