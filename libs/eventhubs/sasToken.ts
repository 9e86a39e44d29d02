// Shared Access Signature tokens as Event Hubs / Service Bus compute them, and their verification (for the local
// test endpoint). sig = base64(HMAC-SHA256(key, urlencode(resourceUri) + "\n" + expiry)); the key string's UTF-8
// bytes are the HMAC key (not its base64 decoding), exactly like Azure's own SDKs.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SasKey {
  keyName: string;
  key: string;
}

function sign(encodedUri: string, expiry: number, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(`${encodedUri}\n${expiry}`, 'utf8').digest('base64');
}

/** `SharedAccessSignature sr=…&sig=…&se=…&skn=…` valid until `expiry` (Unix seconds). */
export function createSasToken(resourceUri: string, { keyName, key }: SasKey, expiry: number): string {
  const sr = encodeURIComponent(resourceUri);
  const sig = encodeURIComponent(sign(sr, expiry, key));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiry}&skn=${encodeURIComponent(keyName)}`;
}

export type SasVerdict = { ok: true; keyName: string } | { ok: false; reason: string };

/**
 * Checks an Authorization header the way Event Hubs does: well-formed, for this resource (or a parent of it), signed
 * with a known key, not expired.
 */
export function verifySasToken(header: string | undefined, resourceUri: string, keys: SasKey[], nowSeconds = Math.floor(Date.now() / 1000)): SasVerdict {
  if (!header) return { ok: false, reason: 'missing Authorization header' };
  const prefix = 'SharedAccessSignature ';
  if (!header.startsWith(prefix)) return { ok: false, reason: 'not a SharedAccessSignature token' };
  const fields = new Map<string, string>();
  for (const pair of header.slice(prefix.length).split('&')) {
    const i = pair.indexOf('=');
    if (i <= 0) return { ok: false, reason: `malformed token field "${pair.slice(0, 20)}"` };
    fields.set(pair.slice(0, i), pair.slice(i + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) return { ok: false, reason: 'token needs sr, sig, se and skn' };
  if (!/^\d+$/.test(se)) return { ok: false, reason: 'se is not a Unix time' };
  if (Number(se) <= nowSeconds) return { ok: false, reason: 'token expired' };
  let audience: string;
  let keyName: string;
  let signature: Buffer;
  try {
    audience = decodeURIComponent(sr).toLowerCase().replace(/\/+$/, '');
    keyName = decodeURIComponent(skn);
    signature = Buffer.from(decodeURIComponent(sig), 'base64');
  } catch {
    return { ok: false, reason: 'token is not URL-encoded correctly' };
  }
  const target = resourceUri.toLowerCase().replace(/\/+$/, '');
  if (target !== audience && !target.startsWith(`${audience}/`)) return { ok: false, reason: `token is for ${audience}, not ${target}` };
  const known = keys.find((k) => k.keyName === keyName);
  if (!known) return { ok: false, reason: `unknown key name ${keyName}` };
  // The signature covers sr exactly as sent (encoded), so recompute over the received text, not a re-encoding.
  const expected = Buffer.from(sign(sr, Number(se), known.key), 'base64');
  if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, keyName };
}
