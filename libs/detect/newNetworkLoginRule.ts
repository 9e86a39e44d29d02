// Detection 2: a successful login from a network never seen for that user. Per user (the key): the networks used
// (AS organisation when enrichment found one, else the /24 or /64) with their last use, and the first login. During
// the user's learning period networks are learnt silently, so day one is not a flood. Alert id: (rule, user, network).
// The user is one key across sources (identity.ts: `CORP\alice`, `alice@corp.com` and an AWS session of
// alice@corp.com are the same person); machine accounts and built-in service identities are skipped by default.
import { ipScope } from '@sluice/geoip';
import { alertId, isoOfMs, sqlString } from './alertId.ts';
import { firstOf, str, type Cell, type EventBatch } from './eventBatch.ts';
import { DEFAULT_IDENTITY_CONFIG, identityNormaliser, type Identity, type IdentityConfig } from './identity.ts';
import { networkOf } from './network.ts';
import type { DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const NEW_NETWORK_RULE = 'login_from_new_network';

/** A row condition: the column equals one of `equals`, or its text contains `contains`. */
export interface RowCondition {
  column: string;
  equals?: string[];
  contains?: string;
}

export interface LoginSource {
  table: string;
  time: string;
  /** User columns, first non-empty wins; normalised to one key per person (identity.ts). */
  user: string[];
  /** Domain column for a bare account name (NetBIOS or DNS domain); ignored when the user is a UPN, `DOMAIN\user` or ARN. */
  domain?: string;
  /** Address columns, first non-empty wins. */
  ip: string[];
  /** All must hold for a row to count as a successful login. */
  where: RowCondition[];
}

export interface NewNetworkRuleConfig {
  /** New users learn silently for this long after their first login. */
  learningDays: number;
  /** A network unused for this long is forgotten (its next use alerts again). */
  networkTtlDays: number;
  /** Most networks kept per user; the least recently used go first. */
  maxNetworksPerUser: number;
  /** ASN columns are `<ip column><suffix>` (absent columns → /24 or /64). */
  asOrgSuffix: string;
  asNumberSuffix: string;
  /** Geo columns shown in the alert: `<ip column><suffix>`. */
  geoCountrySuffix: string;
  geoCitySuffix: string;
  /** Skip private (RFC 1918, CGNAT, ULA) addresses: internal hops are often not interesting. */
  skipPrivate: boolean;
  /** NetBIOS → DNS domains, AWS accounts and aliases that make one user key of every form (default: none). */
  identity?: IdentityConfig;
  /** Skip machine accounts (`HOST$`, `host/…`); default true. */
  skipMachineAccounts?: boolean;
  /** Skip built-in service identities (SYSTEM, LOCAL SERVICE, ANONYMOUS LOGON, DWM-n…); default true. */
  skipServiceAccounts?: boolean;
  sources: LoginSource[];
}

export const DEFAULT_LOGIN_SOURCES: LoginSource[] = [
  {
    table: 'defender_device_logon_events',
    time: 'Timestamp',
    user: ['AccountName'],
    domain: 'AccountDomain',
    ip: ['RemoteIP'],
    where: [{ column: 'ActionType', equals: ['LogonSuccess'] }],
  },
  {
    table: 'defender_identity_logon_events',
    time: 'Timestamp',
    user: ['AccountUpn', 'AccountName'],
    domain: 'AccountDomain',
    ip: ['IPAddress'],
    where: [{ column: 'ActionType', equals: ['LogonSuccess'] }],
  },
  {
    table: 'crowdstrike_user_logon',
    time: 'timestamp',
    user: ['UserPrincipal', 'UserName'],
    domain: 'LogonDomain',
    ip: ['RemoteAddressIP4', 'RemoteAddressIP6'],
    where: [{ column: 'event_simpleName', equals: ['UserLogon'] }],
  },
  {
    table: 'cloudtrail',
    time: 'eventTime',
    user: ['userIdentityArn', 'userIdentityUserName', 'userIdentityPrincipalId'],
    ip: ['sourceIPAddress'],
    where: [
      { column: 'eventName', equals: ['ConsoleLogin'] },
      { column: 'responseElements', contains: '"ConsoleLogin":"Success"' },
    ],
  },
];

export const DEFAULT_NEW_NETWORK_CONFIG: Omit<NewNetworkRuleConfig, 'sources'> = {
  learningDays: 7,
  networkTtlDays: 90,
  maxNetworksPerUser: 32,
  asOrgSuffix: '_as_org',
  asNumberSuffix: '_as_number',
  geoCountrySuffix: '_geo_country',
  geoCitySuffix: '_geo_city',
  skipPrivate: false,
  identity: DEFAULT_IDENTITY_CONFIG,
  skipMachineAccounts: true,
  skipServiceAccounts: true,
};

/**
 * A user's networks. `n[i]` was last used at `u[i]` (epoch seconds, to keep numbers small); `f` = first login (ms).
 * Parallel arrays instead of a Map per user: about a third of the memory at a million users.
 */
export interface UserNetworks extends KeyState {
  f: number;
  n: string[];
  u: number[];
}

const DAY_MS = 86_400_000;
// Shared empty arrays for new users (never mutated: networks are added by copying, see appended).
const EMPTY_N: string[] = [];
const EMPTY_U: number[] = [];

/** Shares network strings between users (AS organisations repeat a lot); capped so it cannot grow without bound. */
class Interner {
  private readonly pool = new Map<string, string>();
  constructor(private readonly max = 200_000) {}
  get(s: string): string {
    const hit = this.pool.get(s);
    if (hit !== undefined) return hit;
    if (this.pool.size < this.max) this.pool.set(s, s);
    return s;
  }
}

/**
 * A copy one longer, allocated at exactly that length: push and concat reserve spare slots (about 17), which at a
 * million users with one or two networks each is most of the state's memory.
 */
function appended<T>(a: readonly T[], v: T): T[] {
  const out = new Array<T>(a.length + 1);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  out[a.length] = v;
  return out;
}

function matches(cond: RowCondition, col: readonly Cell[] | undefined, r: number): boolean {
  const v = str(col?.[r]);
  if (cond.equals && !cond.equals.includes(v)) return false;
  if (cond.contains !== undefined && !v.replace(/\s+/g, '').includes(cond.contains)) return false;
  return true;
}

export function newNetworkLoginRule(cfg: NewNetworkRuleConfig): DetectionRule<UserNetworks> {
  const byTable = new Map(cfg.sources.map((s) => [s.table, s]));
  const learnMs = cfg.learningDays * DAY_MS;
  const ttlSec = cfg.networkTtlDays * 86_400;
  const intern = new Interner();
  const normalise = identityNormaliser(cfg.identity ?? DEFAULT_IDENTITY_CONFIG);
  const skipMachines = cfg.skipMachineAccounts ?? true;
  const skipServices = cfg.skipServiceAccounts ?? true;

  return {
    name: NEW_NETWORK_RULE,
    reads: 'events',
    inputs: cfg.sources.map((s) => s.table),
    encodeState: (s) => [s.t, s.f, s.n, s.u],
    decodeState(v) {
      const [t, f, n, u] = v as [number, number, string[], number[]];
      return { t, f, n: n.map((x) => (x.startsWith('as') ? intern.get(x) : x)), u };
    },
    prepare(batch: EventBatch): PreparedBatch<UserNetworks> | null {
      const src = byTable.get(batch.input);
      if (!src) return null;
      const conds = src.where.map((c) => [c, batch.column(c.column)] as const);
      if (conds.some(([, col]) => !col)) return null;
      const users = src.user.map((c) => batch.column(c));
      const domain = src.domain ? batch.column(src.domain) : undefined;
      const ipCols = src.ip.map((c) => ({
        name: c,
        ip: batch.column(c),
        org: batch.column(c + cfg.asOrgSuffix),
        asn: batch.column(c + cfg.asNumberSuffix),
        country: batch.column(c + cfg.geoCountrySuffix),
        city: batch.column(c + cfg.geoCitySuffix),
      }));
      const ts = batch.column(src.time);
      const source = batch.column('_source');
      const object = batch.column('_object');
      const rawSeq = batch.column('_raw_seq');

      // Per row: which address column and network (computed in key(), reused by apply()).
      let lastRow = -1;
      let lastCol = -1;
      let lastNet: string | null = null;
      const netOf = (r: number): string | null => {
        if (r === lastRow) return lastNet;
        lastRow = r;
        lastCol = -1;
        lastNet = null;
        for (let i = 0; i < ipCols.length; i++) {
          const c = ipCols[i]!;
          const ip = str(c.ip?.[r]);
          if (!ip) continue;
          const net = networkOf(ip, c.org?.[r] == null ? null : str(c.org[r]), c.asn?.[r] == null ? null : (c.asn[r] as string | number));
          if (net === null) continue;
          if (cfg.skipPrivate && !net.startsWith('as') && ipScope(ip) === 'private') continue;
          lastCol = i;
          // Only AS labels repeat across users; /24 and /64 strings would fill the pool with one-offs.
          lastNet = net.startsWith('as') ? intern.get(net) : net;
          break;
        }
        return lastNet;
      };

      // Per row: the user's identity (computed in key(), reused by apply()); null = no user, or one that is skipped.
      let idRow = -1;
      let idOf: Identity | null = null;
      const identityOf = (r: number): Identity | null => {
        if (r === idRow) return idOf;
        idRow = r;
        const raw = firstOf(users, r);
        const id = raw ? normalise(raw, str(domain?.[r])) : null;
        idOf = !id || (skipMachines && id.kind === 'machine') || (skipServices && id.kind === 'service') ? null : id;
        return idOf;
      };

      return {
        key(r) {
          for (const [c, col] of conds) if (!matches(c, col, r)) return null;
          const user = identityOf(r)?.key;
          return user && netOf(r) !== null ? user : null;
        },
        eventTimeMs: (r) => Number(ts?.[r] ?? 0),
        apply(prev, r, ctx) {
          const net = netOf(r)!;
          const ms = Number(ts?.[r] ?? 0);
          const sec = Math.floor(ms / 1000);
          const s: UserNetworks = prev ?? { t: ms, f: ms, n: EMPTY_N, u: EMPTY_U };
          s.t = Math.max(s.t, ms);
          s.f = Math.min(s.f, ms);
          // Forget networks unused for the TTL (on this user's clock).
          for (let i = s.n.length - 1; i >= 0; i--) {
            if (s.u[i]! < sec - ttlSec) {
              s.n.splice(i, 1);
              s.u.splice(i, 1);
            }
          }
          const i = s.n.indexOf(net);
          if (i >= 0) {
            if (sec > s.u[i]!) s.u[i] = sec;
            return s;
          }
          const learning = ms < s.f + learnMs;
          const known = s.n.length;
          s.n = appended(s.n, net);
          s.u = appended(s.u, sec);
          if (s.n.length > cfg.maxNetworksPerUser) {
            let lru = 0;
            for (let j = 1; j < s.u.length; j++) if (s.u[j]! < s.u[lru]!) lru = j;
            s.n.splice(lru, 1);
            s.u.splice(lru, 1);
          }
          if (learning) return s;
          const user = identityOf(r)!.key;
          const col = ipCols[lastCol]!;
          const ip = str(col.ip?.[r]);
          const eventTime = isoOfMs(ms);
          const day = eventTime.slice(0, 10);
          const label = net.startsWith('as:') ? net.slice(3) : net.startsWith('asn:') ? `AS${net.slice(4)}` : net;
          ctx.emit({
            alert_id: alertId(NEW_NETWORK_RULE, user, net),
            rule: NEW_NETWORK_RULE,
            severity: 'medium',
            title: `Login by ${user} from a new network: ${label}`,
            entity: user,
            event_time: eventTime,
            created_time: ctx.nowIso,
            detail: {
              table: batch.input,
              user,
              account: firstOf(users, r),
              network: label,
              ip,
              country: col.country?.[r] == null ? null : str(col.country[r]),
              city: col.city?.[r] == null ? null : str(col.city[r]),
              known_networks: known,
              first_login: isoOfMs(s.f),
            },
            evidence: [{ table: batch.input, source: str(source?.[r]), object: str(object?.[r]), raw_seq: rawSeq?.[r] == null ? null : Number(rawSeq[r]) }],
            next_query: `SELECT * FROM ${batch.input} WHERE ${col.name} = ${sqlString(ip)} AND eventDate = DATE '${day}'`,
          });
          return s;
        },
      };
    },
  };
}

