// One key per person whatever the source calls them: `CORP\alice` (Windows), `alice@corp.com` (UPN, Entra ID),
// `arn:aws:sts::…:assumed-role/Admin/alice@corp.com` (AWS) are the same user once the NetBIOS domain CORP is known
// to be corp.com. Keys are lower case: `<account>@<dns domain>` when the DNS domain is known, `<domain>\<account>`
// when only a NetBIOS name (or an unmapped AWS account, `aws:<id>`) is, the bare account when there is no domain.
// Machine accounts (`HOST$`, `host/…`) and well-known service identities (SYSTEM, LOCAL SERVICE, ANONYMOUS LOGON…)
// are recognised so rules about people can skip them.

export interface IdentityConfig {
  /** NetBIOS domain → DNS domain, e.g. `CORP` → `corp.com` (matched case-insensitively). */
  domains: Record<string, string>;
  /** AWS account id → DNS domain: IAM users and role sessions of that account are `<name>@<domain>`. */
  awsAccounts: Record<string, string>;
  /** Explicit aliases: an identity in any form (normalised first) → the key it is, e.g. `svc-alice` → `alice@corp.com`. */
  aliases: Record<string, string>;
}

export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = { domains: {}, awsAccounts: {}, aliases: {} };

export type IdentityKind = 'user' | 'machine' | 'service';

export interface Identity {
  /** The unified key (lower case). */
  key: string;
  /** The account part, lower case (`alice`, `ws-01$`, `system`). */
  account: string;
  /** The DNS domain when known, else the NetBIOS name or `aws:<account id>`, else ''. */
  domain: string;
  kind: IdentityKind;
}

/** Domains whose every account is a built-in service principal. */
const SERVICE_DOMAINS = new Set(['nt authority', 'nt service', 'window manager', 'font driver host', 'iis apppool', 'nt virtual machine']);
/** Well-known service accounts, by account name. */
const SERVICE_ACCOUNTS = new Set(['system', 'localsystem', 'local system', 'local service', 'localservice', 'network service', 'networkservice', 'anonymous logon', 'anonymous', 'iusr', 'defaultapppool']);
/** Well-known SIDs of the above (S-1-5-7 anonymous, -18 SYSTEM, -19 LOCAL SERVICE, -20 NETWORK SERVICE). */
const SERVICE_SIDS = new Set(['s-1-5-7', 's-1-5-18', 's-1-5-19', 's-1-5-20']);
/** Per-session desktop/font-driver accounts: DWM-3, UMFD-0. */
const SESSION_ACCOUNT = /^(dwm|umfd)-\d+$/;

const ARN = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(.+)$/;

/** A normaliser for one configuration: `(identity, domain column value?) → Identity | null` (null: no identity). */
export function identityNormaliser(cfg: IdentityConfig = DEFAULT_IDENTITY_CONFIG): (raw: string, domainHint?: string) => Identity | null {
  const dns = new Map(Object.entries(cfg.domains).map(([k, v]) => [k.trim().toLowerCase(), v.trim().toLowerCase()]));
  const aws = new Map(Object.entries(cfg.awsAccounts).map(([k, v]) => [k.trim(), v.trim().toLowerCase()]));
  const base = (raw: string, hint: string): Identity | null => parse(raw.trim().toLowerCase(), hint.trim().toLowerCase(), dns, aws);
  // Alias sources are normalised like identities, so `CORP\svc-alice` and `svc-alice@corp.com` hit the same alias.
  const aliases = new Map<string, string>();
  for (const [from, to] of Object.entries(cfg.aliases)) {
    const id = base(from, '');
    aliases.set(id?.key ?? from.trim().toLowerCase(), to.trim().toLowerCase());
  }
  return (raw, hint = '') => {
    const id = base(raw, hint);
    if (!id) return null;
    const alias = aliases.get(id.key);
    if (alias === undefined) return id;
    const to = base(alias, '');
    return to ? { ...to, kind: id.kind === 'user' ? to.kind : id.kind } : id;
  };
}

function parse(s: string, hint: string, dns: Map<string, string>, aws: Map<string, string>): Identity | null {
  if (!s || s === '-') return null;
  if (SERVICE_SIDS.has(s)) return { key: s, account: s, domain: '', kind: 'service' };
  const arn = ARN.exec(s);
  if (arn) return fromArn(arn[1]!, arn[2]!, arn[3]!, s, dns, aws);
  // Kerberos service principal names of machines: host/ws-01.corp.com(@CORP.COM).
  if (s.startsWith('host/')) {
    const [spn, realm = ''] = s.slice(5).split('@');
    const [host = '', ...rest] = spn!.split('.');
    return make(`${host}$`, rest.length ? rest.join('.') : realm, dns, 'machine');
  }
  const bs = s.indexOf('\\');
  if (bs >= 0) return make(s.slice(bs + 1), s.slice(0, bs), dns);
  const at = s.lastIndexOf('@');
  if (at > 0 && at < s.length - 1) return make(s.slice(0, at), s.slice(at + 1), dns);
  return make(s, hint === '-' ? '' : hint, dns);
}

function fromArn(service: string, accountId: string, resource: string, arn: string, dns: Map<string, string>, aws: Map<string, string>): Identity | null {
  const parts = resource.split('/');
  let name: string | undefined;
  if (service === 'iam' && parts[0] === 'user') name = parts[parts.length - 1];
  else if (service === 'iam' && resource === 'root') name = 'root';
  else if (service === 'sts' && parts[0] === 'assumed-role' && parts.length >= 3) name = parts.slice(2).join('/');
  else if (service === 'sts' && parts[0] === 'federated-user') name = parts[1];
  // A role or anything else that is not a person's session: the ARN itself.
  if (!name) return { key: arn, account: arn, domain: '', kind: 'service' };
  const at = name.lastIndexOf('@');
  if (at > 0 && at < name.length - 1) return make(name.slice(0, at), name.slice(at + 1), dns);
  const domain = aws.get(accountId);
  return domain ? make(name, domain, dns) : { key: `aws:${accountId}\\${name}`, account: name, domain: `aws:${accountId}`, kind: 'user' };
}

function make(account: string, domain: string, dns: Map<string, string>, kind?: IdentityKind): Identity | null {
  const a = account.trim();
  if (!a) return null;
  const d = domain.trim();
  const k: IdentityKind = kind ?? (SERVICE_DOMAINS.has(d) || SERVICE_ACCOUNTS.has(a) || SESSION_ACCOUNT.test(a) ? 'service' : a.endsWith('$') ? 'machine' : 'user');
  if (!d) return { key: a, account: a, domain: '', kind: k };
  // A domain with a dot is a DNS domain; a NetBIOS name is mapped when configured (a UPN suffix may be one too).
  const full = d.includes('.') ? d : dns.get(d);
  if (full) return { key: `${a}@${full}`, account: a, domain: full, kind: k };
  return { key: `${d}\\${a}`, account: a, domain: d, kind: k };
}
