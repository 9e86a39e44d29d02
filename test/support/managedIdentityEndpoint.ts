// A local token endpoint that implements Azure App Service's managed-identity contract (the one
// @azure/identity's ManagedIdentityCredential uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set):
// GET <endpoint>?resource=<aud>&api-version=2019-08-01 with header X-IDENTITY-HEADER → {access_token, expires_on,
// resource, token_type}. The token is an unsigned JWT with the claims Azurite's `--oauth basic` mode checks
// (iss, aud, nbf, exp, iat); no Entra ID is reachable offline, and Azurite does not verify signatures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequest {
  resource: string | null;
  apiVersion: string | null;
  identityHeader: string | undefined;
}

export interface ManagedIdentityEndpoint {
  url: string;
  identityHeader: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

export async function startManagedIdentityEndpoint(tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'): Promise<ManagedIdentityEndpoint> {
  const identityHeader = 'sluice-test-identity-header';
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const r: TokenRequest = { resource: u.searchParams.get('resource'), apiVersion: u.searchParams.get('api-version'), identityHeader: req.headers['x-identity-header'] as string | undefined };
    requests.push(r);
    if (r.identityHeader !== identityHeader) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid identity header' }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const aud = (r.resource ?? '').replace(/\/\.default$/, '');
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ aud, iss: `https://sts.windows.net/${tenant}/`, iat: now - 60, nbf: now - 60, exp: now + 3600, oid: 'sluice-test', tid: tenant })}.`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_on: String(now + 3600), resource: aud, token_type: 'Bearer', client_id: 'sluice-test-client' }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    identityHeader,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
