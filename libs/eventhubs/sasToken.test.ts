// SAS tokens: the signature recomputed independently from the documented formula, and each rejection reason.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSasToken, parseConnectionString, verifySasToken } from './index.ts';

const uri = 'https://sluice-test.servicebus.windows.net/alerts';
const key = { keyName: 'send', key: 'c2x1aWNlLXRlc3Qta2V5LW5vdC1hLXNlY3JldA==' };
const NOW = 1_800_000_000;

describe('createSasToken', () => {
  it('signs urlencode(uri) + "\\n" + expiry with HMAC-SHA256 over the key string', () => {
    const token = createSasToken(uri, key, NOW + 3600);
    const sr = encodeURIComponent(uri);
    expect(sr).toBe('https%3A%2F%2Fsluice-test.servicebus.windows.net%2Falerts');
    const sig = createHmac('sha256', key.key).update(`${sr}\n${NOW + 3600}`).digest('base64');
    expect(token).toBe(`SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${NOW + 3600}&skn=send`);
  });
});

describe('verifySasToken', () => {
  const good = createSasToken(uri, key, NOW + 60);
  it('accepts a token for the hub or for its namespace', () => {
    expect(verifySasToken(good, uri, [key], NOW)).toEqual({ ok: true, keyName: 'send' });
    const nsToken = createSasToken('https://sluice-test.servicebus.windows.net/', key, NOW + 60);
    expect(verifySasToken(nsToken, uri, [key], NOW)).toEqual({ ok: true, keyName: 'send' });
  });
  it.each([
    ['a wrong key', createSasToken(uri, { keyName: 'send', key: 'other' }, NOW + 60), 'signature mismatch'],
    ['an expired token', createSasToken(uri, key, NOW - 1), 'token expired'],
    ['another hub', createSasToken('https://sluice-test.servicebus.windows.net/other', key, NOW + 60), `token is for https://sluice-test.servicebus.windows.net/other, not ${uri}`],
    ['an unknown key name', createSasToken(uri, { keyName: 'listen', key: key.key }, NOW + 60), 'unknown key name listen'],
    ['a changed expiry', good.replace(`se=${NOW + 60}`, `se=${NOW + 999}`), 'signature mismatch'],
    ['a bearer token', 'Bearer abc', 'not a SharedAccessSignature token'],
    ['no token', undefined, 'missing Authorization header'],
    ['a token without skn', good.replace(/&skn=.*/, ''), 'token needs sr, sig, se and skn'],
  ])('rejects %s', (_what, token, reason) => {
    expect(verifySasToken(token, uri, [key], NOW)).toEqual({ ok: false, reason });
  });
});

describe('parseConnectionString', () => {
  it('splits a namespace connection string, keeping "=" inside the key', () => {
    expect(parseConnectionString(`Endpoint=sb://sluice-test.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${key.key};EntityPath=alerts`)).toEqual({
      host: 'sluice-test.servicebus.windows.net',
      keyName: 'send',
      key: key.key,
      entityPath: 'alerts',
    });
  });
  it('names what is missing', () => {
    expect(() => parseConnectionString('Endpoint=sb://x/;SharedAccessKeyName=a')).toThrow('needs Endpoint, SharedAccessKeyName and SharedAccessKey');
    expect(() => parseConnectionString('garbage')).toThrow('is not key=value');
  });
});
