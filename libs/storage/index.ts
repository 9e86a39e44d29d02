// Object stores behind one small interface, chosen by URL: file:// (or a plain path), s3://, az:// / abfss://.
export { openStore, type ListedObject, type ObjectInfo, type ObjectStore, type OpenStoreOptions } from './objectStore.ts';
export { StorageError, compareKeys } from './storeUtil.ts';
export { LocalStore } from './localStore.ts';
export { S3Store, type S3StoreOptions } from './s3Store.ts';
export { AzureBlobStore, parseAzureUrl, type AzureStoreOptions } from './azureStore.ts';
