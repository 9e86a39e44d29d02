// ISO-8601 text → epoch microseconds without Date.parse (which truncates to milliseconds), and epoch days.
// Hand-rolled over char codes: it runs once per timestamp column per row.

const MICROS_PER_DAY = 86_400_000_000;

/** Epoch days (UTC date) of an epoch-microseconds instant. */
export function eventDateOf(micros: number): number {
  return Math.floor(micros / MICROS_PER_DAY);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Two ASCII digits at i as a number, or -1 (also past the end of the string). */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Parses `YYYY-MM-DD`, or `YYYY-MM-DD[T| ]hh:mm[:ss[.f…]][Z|±hh[:mm]|±hhmm]` into epoch microseconds.
 * Any number of fraction digits is accepted; digits past the sixth are truncated. Text without a zone is UTC.
 * Returns null when the text is not such a timestamp or names an impossible date or time.
 */
export function parseTimestampMicros(s: string): number | null {
  const n = s.length;
  if (n < 10) return null;
  const c1 = two(s, 0);
  const c2 = two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (c1 < 0 || c2 < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const year = c1 * 100 + c2;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  const dayMicros = daysFromCivil(year, month, day) * MICROS_PER_DAY;
  if (n === 10) return dayMicros;

  const sep = s.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32) return null;
  const hh = two(s, 11);
  const mm = two(s, 14);
  if (hh < 0 || hh > 23 || s.charCodeAt(13) !== 58 || mm < 0 || mm > 59) return null;
  let i = 16;
  let ss = 0;
  if (i < n && s.charCodeAt(i) === 58) {
    ss = two(s, i + 1);
    if (ss < 0 || ss > 59) return null;
    i += 3;
  }
  let frac = 0;
  if (i < n && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
    i++;
    let digits = 0;
    for (; i < n; i++, digits++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (digits < 6) frac = frac * 10 + d;
    }
    if (digits === 0) return null;
    for (let k = digits; k < 6; k++) frac *= 10;
  }
  let offsetMinutes = 0;
  if (i < n) {
    const z = s.charCodeAt(i);
    if (z === 90 /* Z */ || z === 122 /* z */) {
      i++;
    } else if (z === 43 /* + */ || z === 45 /* - */) {
      const oh = two(s, i + 1);
      if (oh < 0 || oh > 23) return null;
      i += 3;
      let om = 0;
      if (i < n) {
        if (s.charCodeAt(i) === 58) i++;
        om = two(s, i);
        if (om < 0 || om > 59) return null;
        i += 2;
      }
      offsetMinutes = z === 45 ? -(oh * 60 + om) : oh * 60 + om;
    } else return null;
  }
  if (i !== n) return null;
  return dayMicros + ((hh * 60 + mm - offsetMinutes) * 60 + ss) * 1_000_000 + frac;
}
