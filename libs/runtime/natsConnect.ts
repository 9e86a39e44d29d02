// One way to reach NATS for every service and command: the `nats` config section → nats.js ConnectionOptions
// (user/password, token, nkey seed file, creds file, TLS files), checked up front so a missing or unreadable file
// fails at start with a ConfigError naming the key (exit code 2), and a refused login names what was tried.
import { connect, credsAuthenticator, nkeyAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator, type Authenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { ConfigError, type NatsConfig } from './config.ts';

/** Reads a mounted secret; the error names the config key and the path, never the content. */
function readSecretFile(key: string, path: string): Uint8Array {
  try {
    const data = readFileSync(path);
    if (data.length === 0) throw Object.assign(new Error('empty'), { code: 'empty file' });
    return data;
  } catch (e) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The authentication methods set in `nats` (a server accepts one per connection; TLS client certificates combine with any). */
export function authMethods(cfg: NatsConfig): string[] {
  return [cfg.user !== undefined || cfg.pass !== undefined ? 'user/pass' : '', cfg.token !== undefined ? 'token' : '', cfg.nkeySeedFile ? 'nkeySeedFile' : '', cfg.credsFile ? 'credsFile' : ''].filter(Boolean);
}

/** `nats://user:secret@host` → `nats://user:***@host`, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/@:,]*):[^/@,]*@/g, '$1:***@').replace(/(\/\/)([^/@:,]+)@/g, '$1***@');
}

/**
 * ConnectionOptions for `cfg`. Files are checked now (a clear start-up error) and read again by the client on
 * every (re)connect, so rotated credentials and certificates are picked up without a restart.
 */
export function natsConnectionOptions(cfg: NatsConfig, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  const methods = authMethods(cfg);
  if (methods.length > 1) throw new ConfigError(`nats: set one authentication method, not ${methods.join(' + ')}`);
  if (/\/\/[^/]*@/.test(cfg.url)) throw new ConfigError(`nats.url: ${redactUrl(cfg.url)} carries credentials: set nats.user and SLUICE__NATS__PASS (or nats.token) instead`);
  let authenticator: Authenticator | undefined;
  if (cfg.user !== undefined || cfg.pass !== undefined) {
    if (!cfg.user || !cfg.pass) throw new ConfigError(`nats: user and pass go together (${cfg.user ? 'nats.pass is missing: set SLUICE__NATS__PASS' : 'nats.user is missing'})`);
    authenticator = usernamePasswordAuthenticator(cfg.user, cfg.pass);
  } else if (cfg.token !== undefined) {
    authenticator = tokenAuthenticator(cfg.token);
  } else if (cfg.nkeySeedFile) {
    const file = cfg.nkeySeedFile;
    const seed = readSecretFile('nats.nkeySeedFile', file);
    if (!/^\s*SU[A-Z2-7]+\s*$/.test(Buffer.from(seed).toString('latin1'))) throw new ConfigError(`nats.nkeySeedFile: ${file} does not hold a user nkey seed (one line starting with SU)`);
    authenticator = nkeyAuthenticator(() => new TextEncoder().encode(Buffer.from(readSecretFile('nats.nkeySeedFile', file)).toString('latin1').trim()));
  } else if (cfg.credsFile) {
    const file = cfg.credsFile;
    const creds = Buffer.from(readSecretFile('nats.credsFile', file)).toString('latin1');
    if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds)) throw new ConfigError(`nats.credsFile: ${file} is not a NATS credentials file (a user JWT and an nkey seed block)`);
    authenticator = credsAuthenticator(() => readSecretFile('nats.credsFile', file));
  }
  const opts: ConnectionOptions = { servers: cfg.url.split(',').map((s) => s.trim()), ...extra };
  if (cfg.name) opts.name = cfg.name;
  if (authenticator) opts.authenticator = authenticator;
  if (cfg.tls) {
    const t = cfg.tls;
    if (!!t.certFile !== !!t.keyFile) throw new ConfigError(`nats.tls: certFile and keyFile go together (${t.certFile ? 'keyFile' : 'certFile'} is missing)`);
    for (const k of ['caFile', 'certFile', 'keyFile'] as const) if (t[k]) readSecretFile(`nats.tls.${k}`, t[k]);
    opts.tls = { ...(t.caFile ? { caFile: t.caFile } : {}), ...(t.certFile ? { certFile: t.certFile, keyFile: t.keyFile } : {}), ...(t.handshakeFirst ? { handshakeFirst: true } : {}) };
  }
  return opts;
}

/**
 * Connects with `cfg` (and `extra`, e.g. reconnect settings). A refused login or TLS failure is rethrown with the
 * server and the method tried, so the operator knows which setting to fix; secrets are never part of the message.
 */
export async function connectNats(cfg: NatsConfig, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const opts = natsConnectionOptions(cfg, extra);
  try {
    return await connect(opts);
  } catch (e) {
    const methods = authMethods(cfg);
    const how = `${methods.length ? methods.join('') : 'no credentials'}${cfg.user ? ` as user ${cfg.user}` : ''}${cfg.tls ? ', TLS' : ''}`;
    throw new Error(`cannot connect to NATS at ${redactUrl(cfg.url)} (${how}): ${describe(e)}`, { cause: e });
  }
}

function describe(e: unknown): string {
  const err = e as Error & { code?: string };
  const msg = err?.message ?? String(e);
  if (/authorization violation|authentication/i.test(msg)) return `${msg}: the server refused the credentials (check nats.user/SLUICE__NATS__PASS, SLUICE__NATS__TOKEN, nats.nkeySeedFile or nats.credsFile)`;
  return msg;
}
