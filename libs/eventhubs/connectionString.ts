// Azure Event Hubs connection strings: `Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;
// SharedAccessKey=…[;EntityPath=<hub>]`, split into the parts the Kafka endpoint and the HTTPS send API need.

export interface EventHubsConnection {
  /** `<ns>.servicebus.windows.net` */
  host: string;
  keyName: string;
  key: string;
  /** The event hub, when the string is scoped to one (EntityPath). */
  entityPath?: string;
}

export function parseConnectionString(cs: string): EventHubsConnection {
  const parts = new Map<string, string>();
  for (const [n, piece] of cs.trim().split(';').entries()) {
    if (piece === '') continue;
    const i = piece.indexOf('=');
    // Keys are base64 and may end in '=': split at the first '=' only.
    // The piece itself is not quoted: it may be the secret key pasted alone.
    if (i <= 0) throw new Error(`connection string: part ${n + 1} (separated by ';') is not key=value`);
    parts.set(piece.slice(0, i).trim().toLowerCase(), piece.slice(i + 1).trim());
  }
  const endpoint = parts.get('endpoint');
  const keyName = parts.get('sharedaccesskeyname');
  const key = parts.get('sharedaccesskey');
  if (!endpoint || !keyName || !key) throw new Error('connection string needs Endpoint, SharedAccessKeyName and SharedAccessKey');
  let host: string;
  try {
    host = new URL(endpoint).host;
  } catch {
    throw new Error(`connection string: Endpoint "${endpoint}" is not a URL`);
  }
  if (host === '') throw new Error(`connection string: Endpoint "${endpoint}" has no host`);
  const entityPath = parts.get('entitypath');
  return { host, keyName, key, ...(entityPath ? { entityPath } : {}) };
}
