// The cloud store classes (loading the AWS and Azure SDKs). openStore picks them by URL without this import.
export { S3Store } from './s3Store.ts';
export { AzureBlobStore } from './azureStore.ts';
