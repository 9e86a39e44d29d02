// Registered domain (eTLD+1) and public suffix of DNS names, host names and URLs, from the Public Suffix List
// bundled in tldts. IP addresses, garbage and names under no known suffix (.local, .corp, single labels) get null:
// they have no registered domain.
import { parse } from 'tldts';

export interface DomainInfo {
  /** e.g. bbc.co.uk for www.bbc.co.uk; null when the name is itself a suffix or has no known suffix. */
  registeredDomain: string | null;
  /** e.g. co.uk; null when unknown. */
  publicSuffix: string | null;
}

export interface DomainOptions {
  /** Also use the PSL's private section (blogspot.com, s3.amazonaws.com, …). Default false: ICANN suffixes only. */
  privateSuffixes?: boolean;
}

const NONE: DomainInfo = Object.freeze({ registeredDomain: null, publicSuffix: null });
/** Longer inputs are not host names (a DNS name is at most 253 characters; URLs get some room). */
const MAX_INPUT = 2048;

/** Parses one value (a DNS name, host[:port], or URL); never throws. */
export function domainInfoOf(value: string | null | undefined, opts: DomainOptions = {}): DomainInfo {
  if (!value || value.length > MAX_INPUT) return NONE;
  const r = parse(value.trim(), { allowPrivateDomains: opts.privateSuffixes === true, validateHostname: true });
  if (!r.hostname || r.isIp || (!r.isIcann && !r.isPrivate)) return NONE;
  return Object.freeze({ registeredDomain: r.domain, publicSuffix: r.publicSuffix });
}

/** domainInfoOf with a bounded cache: names repeat a lot in DNS and proxy logs. */
export class DomainLookup {
  private cache = new Map<string, DomainInfo>();

  constructor(
    private readonly opts: DomainOptions = {},
    private readonly max = 100_000,
  ) {}

  lookup(value: string | null | undefined): DomainInfo | null {
    if (!value) return null;
    let r = this.cache.get(value);
    if (r) return r;
    r = domainInfoOf(value, this.opts);
    if (this.cache.size >= this.max) this.cache = new Map();
    this.cache.set(value, r);
    return r;
  }
}
