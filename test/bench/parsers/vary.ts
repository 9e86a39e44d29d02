// Text-level variation of a fixture record for the parser benchmark: the same bytes layout (key order, quoting,
// escapes, separators) with other timestamps, IPs, ports, ids and host names, so one hand-written record yields
// many distinct ones with realistic cardinalities. Works on any format (JSON, TSV, syslog, key=value) because it
// rewrites recognisable tokens in place; one Variation keeps its mapping, so a value that appears twice in a record
// (or in the segments of one multi-part message) changes the same way everywhere.
import { Rng } from '../../fixtures/seededRng.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// One pass over the text; at a given position the first alternative that matches wins, so times come before ids.
const TOKEN = new RegExp(
  [
    String.raw`(?<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)`,
    String.raw`(?<sys>\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2})`,
    String.raw`(?<uuid>(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z]))`,
    String.raw`(?<mac>(?<![0-9A-Za-z:-])[0-9a-fA-F]{2}(?<msep>[:-])[0-9a-fA-F]{2}(?:\k<msep>[0-9a-fA-F]{2}){4}(?![0-9A-Za-z:-]))`,
    String.raw`(?<ip>(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d))`,
    String.raw`(?<ms>(?<![\w.])1\d{12}(?![\w.]))`,
    String.raw`(?<sec>(?<![\w.])1\d{9}(?:\.\d+)?(?![\w.]))`,
    String.raw`(?<uid>(?<![0-9A-Za-z])[CF][A-Za-z0-9]{14,17}(?![0-9A-Za-z]))`,
    String.raw`(?<hex>(?<![0-9A-Za-z])(?:[0-9a-f]{8,}|[0-9A-F]{8,})(?![0-9A-Za-z]))`,
    // Host names numbered with a leading zero (`ws-0142`, `WS-08`); `SHA-256`, `CVE-2024` are not hosts.
    String.raw`(?<host>(?<![0-9A-Za-z])[A-Za-z]{2,}-0\d+(?![0-9]))`,
  ].join('|'),
  'g',
);

/** Distinct values per fixture entity id (hex ids, MACs, hashes) and per long decimal id (accounts, process ids). */
const ENTITY_IDS = 1000;
const NUMERIC_IDS = 50;

/** `"SrcPort": 51544`, `"id.orig_p":49152`, `NAS-Port=50112`: ephemeral ports named by their key. */
const KEYED_PORT = /((?:"[\w.-]*(?:[Pp]ort|_p)"\s*:\s*"?)|(?:\b[\w-]*[Pp]ort=))(\d{4,5})(?!\d)/g;

/** Shared pools: internal hosts and public peers are drawn from fixed sets, as on a real network. */
export class Pools {
  readonly publicIps: string[] = [];
  /** Next value of zero-padded decimal counters. */
  counter = 0;
  /** Variants made so far of each entity id of the fixtures. */
  readonly variants = new Map<string, string[]>();
  constructor(
    readonly rng: Rng,
    readonly internalHosts = 4096,
    publicPeers = 20_000,
  ) {
    const firsts = [13, 20, 23, 31, 34, 35, 40, 45, 52, 54, 62, 64, 66, 72, 78, 81, 91, 93, 104, 142, 151, 157, 185, 195, 212];
    for (let i = 0; i < publicPeers; i++) this.publicIps.push(`${rng.pick(firsts)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`);
  }
}

/** One record instance's changes: a time shift and a memo of replaced values. */
export class Variation {
  private readonly memo = new Map<string, string>();
  /** Seconds added to every timestamp of the instance (relative times inside a record are kept). */
  readonly shift: number;
  constructor(
    private readonly pools: Pools,
    spreadSeconds = 86_400,
  ) {
    this.shift = pools.rng.int(-spreadSeconds / 2, spreadSeconds / 2 - 1);
  }

  private get rng(): Rng {
    return this.pools.rng;
  }

  /** `text` with its tokens varied; `ports` optionally names positional port columns of a separated line. */
  apply(text: string, ports?: { sep: string; columns: readonly number[] }): string {
    let out = text.replace(TOKEN, (m: string, ...args: unknown[]) => {
      const g = args[args.length - 1] as Record<string, string | undefined>;
      if (g.iso) return this.isoTime(m);
      if (g.sys) return this.syslogTime(m);
      if (g.ms) return String(Number(m) + this.shift * 1000);
      if (g.sec) return this.epochSeconds(m);
      if (g.ip) return this.memoised(m, () => this.ip(m));
      // Event ids (UUIDs, Zeek uids, zero-padded counters) are unique per record; entity ids (device, agent,
      // account, interface ids, MACs, hashes) repeat from a bounded set per fixture value, as on a real network.
      if (g.uid) return /\d/.test(m) && /[a-z]/.test(m) && /[A-Z]/.test(m.slice(1)) ? this.memoised(m, () => this.sameShape(m)) : m;
      if (g.hex) {
        if (!/^\d+$/.test(m)) return this.memoised(m, () => this.pooled(m, ENTITY_IDS, () => this.sameShape(m)));
        if (m.length < 10) return m;
        return this.memoised(m, () => (m.startsWith('00') ? this.digits(m) : this.pooled(m, NUMERIC_IDS, () => this.digits(m))));
      }
      if (g.uuid) return this.memoised(m, () => this.sameShape(m));
      if (g.mac) return this.memoised(m, () => this.pooled(m, ENTITY_IDS, () => this.sameShape(m)));
      if (g.host) return this.memoised(m, () => m.replace(/\d+$/, (d) => String(this.rng.int(1, 10 ** Math.min(d.length, 4) - 1)).padStart(d.length, '0')));
      return m;
    });
    out = out.replace(KEYED_PORT, (m: string, key: string, port: string) => key + this.port(port));
    if (ports && ports.columns.length > 0) {
      const cells = out.split(ports.sep);
      for (const c of ports.columns) if (c < cells.length && /^\d{4,5}$/.test(cells[c]!)) cells[c] = this.port(cells[c]!);
      out = cells.join(ports.sep);
    }
    return out;
  }

  /** One of at most `size` variants of `original`, shared by all instances. */
  private pooled(original: string, size: number, make: () => string): string {
    let variants = this.pools.variants.get(original);
    if (!variants) this.pools.variants.set(original, (variants = []));
    if (variants.length < size) {
      const v = make();
      variants.push(v);
      return v;
    }
    return this.rng.pick(variants);
  }

  private memoised(key: string, make: () => string): string {
    let v = this.memo.get(key);
    if (v === undefined) {
      v = make();
      this.memo.set(key, v);
    }
    return v;
  }

  /** Well-known ports stay; ephemeral ones are redrawn. */
  private port(p: string): string {
    return Number(p) >= 1024 ? String(this.rng.int(1024, 65535)) : p;
  }

  /** Same characters classes: digit → digit, a-f → a-f, A-F → A-F (other letters likewise), separators kept. */
  private sameShape(s: string): string {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (i === 0 && (c === 'C' || c === 'F') && s.length >= 15 && !/^[0-9a-fA-F-]+$/.test(s)) out += c;
      else if (c >= '0' && c <= '9') out += String(this.rng.int(0, 9));
      else if (c >= 'a' && c <= 'f') out += 'abcdef'[this.rng.int(0, 5)];
      else if (c >= 'A' && c <= 'F') out += 'ABCDEF'[this.rng.int(0, 5)];
      else if (c >= 'g' && c <= 'z') out += String.fromCharCode(97 + this.rng.int(0, 25));
      else if (c >= 'G' && c <= 'Z') out += String.fromCharCode(65 + this.rng.int(0, 25));
      else out += c;
    }
    return out;
  }

  /** A long decimal id: its last digits redrawn no higher than they were (keeps 2^64-1-style limits and widths). */
  private digits(s: string): string {
    // Zero-padded ids (`0000012345`, ISE message ids) are counters: unique, as a sender's sequence is.
    if (s.startsWith('00')) return String(++this.pools.counter).padStart(s.length, '0');
    const k = Math.min(6, s.length - 1);
    const tail = Number(s.slice(-k));
    return s.slice(0, -k) + String(this.rng.int(0, tail)).padStart(k, '0');
  }

  private ip(s: string): string {
    const o = s.split('.').map(Number);
    if (o.some((x) => x > 255)) return s;
    const [a, b] = o as [number, number];
    // Unspecified, loopback, link-local, multicast, broadcast and netmasks keep their meaning.
    if (a === 0 || a === 127 || a >= 224 || (a === 169 && b === 254)) return s;
    const n = this.rng.int(0, this.pools.internalHosts - 1);
    if (a === 10) return `10.${b}.${n >> 8}.${(n & 255) || 1}`;
    if (a === 192 && b === 168) return `192.168.${o[2]}.${(n & 253) + 1}`;
    if (a === 172 && b >= 16 && b < 32) return `172.${b}.${n >> 8}.${(n & 255) || 1}`;
    return this.rng.pick(this.pools.publicIps);
  }

  private epochSeconds(s: string): string {
    const dot = s.indexOf('.');
    const int = Number(dot === -1 ? s : s.slice(0, dot));
    return String(int + this.shift) + (dot === -1 ? '' : s.slice(dot));
  }

  /** `2024-03-11T00:00:00.1234567` / `2024-10-10 12:00:00.123`: wall-clock fields shifted, fraction and zone kept. */
  private isoTime(s: string): string {
    const t = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19)) + this.shift * 1000;
    const d = new Date(t);
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}${s[10]}${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${s.slice(19)}`;
  }

  /** `Oct 10 12:00:00` / `Oct  9 23:59:59` (year-less syslog time), day padding kept. */
  private syslogTime(s: string): string {
    const mon = MONTHS.indexOf(s.slice(0, 3));
    const day = Number(s.slice(4, 6).trim());
    const t = Date.UTC(2024, mon, day, +s.slice(7, 9), +s.slice(10, 12), +s.slice(13, 15)) + this.shift * 1000;
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    const dd = s[4] === ' ' ? String(d.getUTCDate()).padStart(2, ' ') : p(d.getUTCDate());
    return `${MONTHS[d.getUTCMonth()]} ${dd} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  }
}
