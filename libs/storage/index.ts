// Object stores behind one small interface, chosen by URL: file:// (or a plain path), s3://, az:// / abfss://.
export { openStore, type ListedObject, type ObjectInfo, type ObjectStore, type OpenStoreOptions } from './objectStore.ts';
export { StorageError, compareKeys } from './storeUtil.ts';
export { LocalStore } from './localStore.ts';
// The cloud stores' classes are not re-exported here (importing them loads their SDKs): openStore loads them on first
// use; code that needs a class itself imports '@sluice/storage/clouds'.
export type { S3StoreOptions } from './s3Store.ts';
export type { AzureStoreOptions } from './azureStore.ts';
export { parseAzureUrl, parseS3Url } from './storeUrls.ts';
