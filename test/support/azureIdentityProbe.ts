// Child process for the DefaultAzureCredential test: with no key, SAS or connection string in its environment, it
// creates a container and uses AzureBlobStore through @azure/identity's chain, then prints what it saw as JSON.
// Run as a child because the credential chain and NODE_EXTRA_CA_CERTS are read from the process environment.
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureBlobStore } from '../../libs/storage/azureStore.ts';

const [endpoint, container] = process.argv.slice(2) as [string, string];
await new BlobServiceClient(endpoint, new DefaultAzureCredential()).getContainerClient(container).createIfNotExists();
const store = new AzureBlobStore(`az://${container}/lake`, { endpoint });
const enc = new TextEncoder();
const first = await store.putIfAbsent('_delta_log/00000000000000000000.json', enc.encode('{"commitInfo":{}}\n'));
const second = await store.putIfAbsent('_delta_log/00000000000000000000.json', enc.encode('{"other":1}\n'));
const body = new TextDecoder().decode((await store.get('_delta_log/00000000000000000000.json')) ?? new Uint8Array());
const keys = (await store.list('')).map((o) => o.key);
console.log(JSON.stringify({ first, second, body, keys }));
