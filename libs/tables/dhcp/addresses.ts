// MAC and IP address helpers shared by the DHCP and Cisco ISE tables: one canonical MAC form (lower-case,
// colon-separated) so leases, ISE sessions and the gold IP lookup join on equal strings.

const HEX_PAIRS = /^[0-9a-f]{1,2}(?:([:-])[0-9a-f]{1,2})+$/;
const CISCO_DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;
const BARE_HEX = /^[0-9a-f]{12}$/;

/**
 * `3C:97:0E:C3:F8:F1`, `3c-a9-f4-46-75-cc`, `3ca9.f446.75cc`, `3ca9f44675cc`, `0:1e:3:...` → `3c:97:0e:c3:f8:f1`.
 * Colon/hyphen forms of other lengths (DHCP client ids, 20-byte InfiniBand addresses) are normalised the same way.
 * Returns undefined for text that is not a hardware address.
 */
export function normalizeMac(text: string): string | undefined {
  const s = text.trim().toLowerCase();
  if (HEX_PAIRS.test(s)) {
    const sep = s.includes(':') ? ':' : '-';
    if (s.includes(sep === ':' ? '-' : ':')) return undefined;
    return s
      .split(sep)
      .map((p) => p.padStart(2, '0'))
      .join(':');
  }
  if (CISCO_DOTTED.test(s)) return pairs(s.replaceAll('.', ''));
  if (BARE_HEX.test(s)) return pairs(s);
  return undefined;
}

function pairs(hex: string): string {
  return hex.match(/../g)!.join(':');
}

/** The normalised MAC, or the original text when it is not one (kept rather than lost; an expectation flags it). */
export function macOrText(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return normalizeMac(text) ?? text.trim();
}

/** Canonical 48-bit MAC: six lower-case hex pairs separated by colons. */
export const MAC48 = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Dotted-quad IPv4 or an IPv6 address (checked by shape: hex groups, one `::` at most, optional IPv4 tail). */
export function isIpAddress(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = s.split(':').filter((g) => g !== '');
  let n = groups.length;
  const last = groups[groups.length - 1];
  if (last?.includes('.')) {
    if (!IPV4.test(last)) return false;
    n += 1; // an IPv4 tail fills two groups
    groups.pop();
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? n <= 7 : n === 8;
}
