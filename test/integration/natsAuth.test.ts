// NATS credentials against a real nats-server: user/password, token, nkey seed file, creds file (operator mode with
// JWTs signed here with nkeys), TLS with a CA and server certificate made by openssl (and mutual TLS); a wrong
// secret or a missing file fails with a message naming the setting, never the secret. A service started with
// credentials from the environment becomes ready; one with a missing creds file exits 2.
import { jetstreamManager } from '@nats-io/jetstream';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, connectNats, natsConnectionOptions, type NatsConfig } from '@sluice/runtime';
import { findNatsServer } from '../../cli/natsBinary.ts';
import { REPO_ROOT } from '../../cli/pipeline.ts';
import { freePort, natsServerVersion, startConfiguredNatsServer, versionAtLeast, type ConfiguredNatsServer } from '../support/natsServer.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-natsauth-'));
const servers: ConfiguredNatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function server(config: string): Promise<ConfiguredNatsServer> {
  const s = await startConfiguredNatsServer({ config });
  servers.push(s);
  return s;
}

/** Connects, proves a request/reply and a JetStream call work on the connection, closes. */
async function roundTrip(cfg: NatsConfig, js = true): Promise<string> {
  const nc: NatsConnection = await connectNats(cfg, { timeout: 5000 });
  try {
    const sub = nc.subscribe('auth.echo', { callback: (_e, m) => void m.respond(m.data) });
    const reply = await nc.request('auth.echo', 'ping', { timeout: 2000 });
    sub.unsubscribe();
    if (js) await (await jetstreamManager(nc)).getAccountInfo();
    return reply.string();
  } finally {
    await nc.close();
  }
}

/** Rejects with an error whose message is returned (for assertions on what it names and hides). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

describe('NATS user/password and token', () => {
  const pass = secret('pw');
  const token = secret('tok');
  let up: ConfiguredNatsServer;
  let tk: ConfiguredNatsServer;
  beforeAll(async () => {
    up = await server(`authorization { users: [ { user: sluice, password: "${pass}" } ] }`);
    tk = await server(`authorization { token: "${token}" }`);
  });

  it('connects with the right password and names the user, not the password, when it is wrong', async () => {
    expect(await roundTrip({ url: up.url, user: 'sluice', pass })).toBe('ping');
    const msg = await failure(connectNats({ url: up.url, user: 'sluice', pass: 'wrong-password-123' }, { timeout: 5000 }));
    expect(msg).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+ \(user\/pass as user sluice\).*refused the credentials/i);
    expect(msg).not.toContain('wrong-password-123');
    expect(await failure(connectNats({ url: up.url }, { timeout: 5000 }))).toMatch(/no credentials/);
  });

  it('connects with the right token; a wrong one is refused without echoing it', async () => {
    expect(await roundTrip({ url: tk.url, token })).toBe('ping');
    const msg = await failure(connectNats({ url: tk.url, token: 'not-the-token-456' }, { timeout: 5000 }));
    expect(msg).toMatch(/\(token\).*refused the credentials/);
    expect(msg).not.toContain('not-the-token-456');
  });

  it('refuses ambiguous or unsafe settings before connecting', () => {
    expect(() => natsConnectionOptions({ url: up.url, user: 'a', pass: 'b', token: 'c' })).toThrow(/set one authentication method, not user\/pass \+ token/);
    expect(() => natsConnectionOptions({ url: up.url, user: 'a' })).toThrow(/nats\.pass is missing: set SLUICE__NATS__PASS/);
    const e = (() => {
      try {
        natsConnectionOptions({ url: `nats://sluice:${pass}@127.0.0.1:4222` });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e?.message).toMatch(/nats\.url: nats:\/\/sluice:\*\*\*@127\.0\.0\.1:4222 carries credentials/);
    expect(e?.message).not.toContain(pass);
  });
});

describe('NATS nkey seed file', () => {
  const user = createUser();
  const seedFile = join(dir, 'user.nk');
  let s: ConfiguredNatsServer;
  beforeAll(async () => {
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()) + '\n', { mode: 0o600 });
    s = await server(`authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`);
  });

  it('signs the server nonce with the seed', async () => {
    expect(await roundTrip({ url: s.url, nkeySeedFile: seedFile })).toBe('ping');
  });

  it('a missing file names nats.nkeySeedFile; another user key is refused', async () => {
    expect(() => natsConnectionOptions({ url: s.url, nkeySeedFile: join(dir, 'absent.nk') })).toThrow(/^nats\.nkeySeedFile: cannot read .*absent\.nk: ENOENT$/);
    writeFileSync(join(dir, 'junk.nk'), 'hello\n');
    expect(() => natsConnectionOptions({ url: s.url, nkeySeedFile: join(dir, 'junk.nk') })).toThrow(/does not hold a user nkey seed/);
    const other = join(dir, 'other.nk');
    writeFileSync(other, new TextDecoder().decode(createUser().getSeed()));
    expect(await failure(connectNats({ url: s.url, nkeySeedFile: other }, { timeout: 5000 }))).toMatch(/\(nkeySeedFile\).*refused the credentials/);
  });
});

// ---- decentralised auth: operator → account → user JWTs, as nsc makes them (header, claims, ed25519 signature) ----
const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims = { jti: randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  const body = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}
const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
function credsFile(userJwt: string, user: KeyPair): string {
  return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n\n*************************************************************\n`;
}

describe('NATS creds file (operator mode, memory resolver)', () => {
  const operator = createOperator();
  const account = createAccount();
  const sys = createAccount();
  const user = createUser();
  const creds = join(dir, 'sluice.creds');
  let s: ConfiguredNatsServer;
  beforeAll(async () => {
    const opJwt = jwt(operator, operator.getPublicKey(), 'sluice-op', { type: 'operator', system_account: sys.getPublicKey() });
    const accJwt = jwt(operator, account.getPublicKey(), 'SLUICE', { type: 'account', limits: unlimited, default_permissions: { pub: {}, sub: {} } });
    const sysJwt = jwt(operator, sys.getPublicKey(), 'SYS', { type: 'account', limits: { ...unlimited, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 } });
    const userJwt = jwt(account, user.getPublicKey(), 'sluice-services', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    writeFileSync(join(dir, 'op.jwt'), opJwt);
    writeFileSync(creds, credsFile(userJwt, user), { mode: 0o600 });
    s = await server(
      `operator: ${JSON.stringify(join(dir, 'op.jwt'))}\nsystem_account: ${sys.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${JSON.stringify(accJwt)}\n  ${sys.getPublicKey()}: ${JSON.stringify(sysJwt)}\n}`,
    );
  });

  it('connects with the user JWT and seed, JetStream included', async () => {
    expect(await roundTrip({ url: s.url, credsFile: creds })).toBe('ping');
  });

  it('a missing or malformed file names nats.credsFile; a user of an unknown account is refused', async () => {
    expect(() => natsConnectionOptions({ url: s.url, credsFile: join(dir, 'absent.creds') })).toThrow(/^nats\.credsFile: cannot read .*absent\.creds: ENOENT$/);
    writeFileSync(join(dir, 'bad.creds'), 'not creds');
    expect(() => natsConnectionOptions({ url: s.url, credsFile: join(dir, 'bad.creds') })).toThrow(/nats\.credsFile: .* is not a NATS credentials file/);
    const stranger = createUser();
    const foreign = join(dir, 'foreign.creds');
    writeFileSync(foreign, credsFile(jwt(createAccount(), stranger.getPublicKey(), 'x', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 }), stranger));
    expect(await failure(connectNats({ url: s.url, credsFile: foreign }, { timeout: 5000 }))).toMatch(/\(credsFile\)/);
  });
});

describe('NATS TLS', () => {
  const tlsDir = join(dir, 'tls');
  const f = (n: string) => join(tlsDir, n);
  let tlsOnly: ConfiguredNatsServer;
  let mutual: ConfiguredNatsServer;
  beforeAll(async () => {
    execFileSync('mkdir', ['-p', tlsDir]);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    // A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate for mutual TLS.
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=sluice-test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem'));
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
    ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('server.ext'), '-out', f('server.pem'));
    writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=sluice-client', '-keyout', f('client.key'), '-out', f('client.csr'));
    ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('client.ext'), '-out', f('client.pem'));
    tlsOnly = await server(`tls { cert_file: "${f('server.pem')}", key_file: "${f('server.key')}" }`);
    mutual = await server(`tls { cert_file: "${f('server.pem')}", key_file: "${f('server.key')}", ca_file: "${f('ca.pem')}", verify: true }`);
  });

  it('verifies the server against the configured CA', async () => {
    expect(await roundTrip({ url: tlsOnly.url, tls: { caFile: f('ca.pem') } })).toBe('ping');
    // Without the CA the self-made chain is untrusted: the client refuses the server.
    expect(await failure(connectNats({ url: tlsOnly.url }, { timeout: 5000 }))).toMatch(/certificate|self.signed|unable to verify/i);
  });

  it('mutual TLS: the client certificate is required and accepted', async () => {
    expect(await roundTrip({ url: mutual.url, tls: { caFile: f('ca.pem'), certFile: f('client.pem'), keyFile: f('client.key') } })).toBe('ping');
    expect(await failure(connectNats({ url: mutual.url, tls: { caFile: f('ca.pem') } }, { timeout: 5000 }))).toMatch(/cannot connect to NATS .*TLS/);
  });

  it('missing TLS files name their key', () => {
    expect(() => natsConnectionOptions({ url: mutual.url, tls: { caFile: f('nope.pem') } })).toThrow(/^nats\.tls\.caFile: cannot read .*nope\.pem: ENOENT$/);
    expect(() => natsConnectionOptions({ url: mutual.url, tls: { certFile: f('client.pem') } })).toThrow(/nats\.tls: certFile and keyFile go together \(keyFile is missing\)/);
  });

  it('deploy/nats/nats-server.conf is accepted by nats-server 2.10+ (with these certificates in place of the mounted ones)', (ctx) => {
    const bin = findNatsServer()!;
    if (!versionAtLeast(natsServerVersion(bin), 2, 10)) ctx.skip(); // 2.9 rejects sync_interval: the documented minimum is 2.10.23
    for (const [from, to] of [['ca.pem', 'ca.crt'], ['server.pem', 'tls.crt'], ['server.key', 'tls.key']] as const) writeFileSync(join(tlsDir, to), readFileSync(f(from)));
    const conf = readFileSync(join(REPO_ROOT, 'deploy/nats/nats-server.conf'), 'utf8').replaceAll('/etc/nats/tls/', `${tlsDir}/`).replaceAll('/etc/nats/cluster-tls/', `${tlsDir}/`);
    expect(conf).toMatch(/^\s*sync_interval: always$/m);
    writeFileSync(join(dir, 'prod.conf'), conf);
    const r = spawnSync(bin, ['-t', '-c', join(dir, 'prod.conf')], { env: { ...process.env, NATS_SERVER_NAME: 'n0', SLUICE_NATS_PASSWORD: 'p', NATS_SYSTEM_PASSWORD: 's' }, encoding: 'utf8' });
    expect(r.stderr + r.stdout).toMatch(/configuration file .* is valid/);
    expect(r.status).toBe(0);
  });

  it('handshakeFirst (TLS before INFO) where the server supports it (2.10.4+)', async (ctx) => {
    if (!versionAtLeast(tlsOnly.version, 2, 10, 4)) ctx.skip();
    const first = await server(`tls { cert_file: "${f('server.pem')}", key_file: "${f('server.key')}", handshake_first: true }`);
    expect(await roundTrip({ url: first.url, tls: { caFile: f('ca.pem'), handshakeFirst: true } })).toBe('ping');
  });
});

describe('a service process with NATS credentials', () => {
  const pass = secret('svc');
  let s: ConfiguredNatsServer;
  beforeAll(async () => {
    s = await server(`authorization { users: [ { user: sluice, password: "${pass}" } ] }`);
  });

  function runSplitter(env: Record<string, string>): { exited: Promise<number | null>; output: () => string; port: Promise<number>; kill: () => void } {
    const out: string[] = [];
    const port = freePort();
    const child = port.then((p) =>
      spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', 'splitter', 'main.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, SLUICE__NATS__URL: s.url, SLUICE__HTTP__PORT: String(p), SLUICE__HTTP__HOST: '127.0.0.1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const exited = child.then((c) => {
      c.stdout.on('data', (d: Buffer) => out.push(d.toString()));
      c.stderr.on('data', (d: Buffer) => out.push(d.toString()));
      return new Promise<number | null>((res) => c.once('exit', (code) => res(code)));
    });
    return { exited, output: () => out.join(''), port, kill: () => void child.then((c) => c.kill('SIGTERM')) };
  }

  it('reads user and password from SLUICE__NATS__USER / SLUICE__NATS__PASS and becomes ready', async () => {
    const svc = runSplitter({ SLUICE__NATS__USER: 'sluice', SLUICE__NATS__PASS: pass });
    const port = await svc.port;
    let ready = false;
    let exited = false;
    void svc.exited.then(() => (exited = true));
    for (let i = 0; i < 300 && !ready && !exited; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    svc.kill();
    expect(await svc.exited).toBe(0);
    expect(ready).toBe(true);
    expect(svc.output()).toMatch(/connected to NATS/);
    expect(svc.output()).not.toContain(pass);
  });

  it('exits 2 naming nats.credsFile when the file is missing, and 1 naming the user when the password is wrong', async () => {
    const missing = runSplitter({ SLUICE__NATS__CREDS_FILE: join(dir, 'missing.creds') });
    expect(await missing.exited).toBe(2);
    expect(missing.output()).toMatch(/nats\.credsFile: cannot read .*missing\.creds: ENOENT/);
    const wrong = runSplitter({ SLUICE__NATS__USER: 'sluice', SLUICE__NATS__PASS: 'definitely-wrong-pass' });
    expect(await wrong.exited).toBe(1);
    expect(wrong.output()).toMatch(/cannot connect to NATS .*as user sluice.*refused the credentials/);
    expect(wrong.output()).not.toContain('definitely-wrong-pass');
  });
});
