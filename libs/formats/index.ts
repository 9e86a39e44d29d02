export { firstInvalidJson, frameRecords, type FramedRecords, type Framing } from './framing.ts';
