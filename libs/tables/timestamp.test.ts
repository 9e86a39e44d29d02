// Tests of ISO-8601 → epoch-microsecond parsing (fractions beyond ms, offsets, invalid dates) and eventDateOf.
// Cross-checked against Date.UTC / Date.parse where those are exact.
import { describe, expect, it } from 'vitest';
import { daysFromCivil, eventDateOf, parseTimestampMicros } from './timestamp.ts';

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) * 1000;

describe('parseTimestampMicros', () => {
  it('keeps microseconds of 7-digit Defender fractions (truncating the 7th digit)', () => {
    expect(parseTimestampMicros('2023-01-04T14:07:32.6213639Z')).toBe(utc(2023, 1, 4, 14, 7, 32) + 621_363);
    expect(parseTimestampMicros('2023-01-04T13:25:36.1936997Z')).toBe(utc(2023, 1, 4, 13, 25, 36) + 193_699);
  });

  it('reads 1 to 9 fraction digits', () => {
    const base = utc(2024, 10, 22, 15, 9, 44);
    expect(parseTimestampMicros('2024-10-22T15:09:44.5Z')).toBe(base + 500_000);
    expect(parseTimestampMicros('2024-10-22T15:09:44.59Z')).toBe(base + 590_000);
    expect(parseTimestampMicros('2024-10-22T15:09:44.594Z')).toBe(base + 594_000);
    expect(parseTimestampMicros('2024-10-22T15:09:44.594155Z')).toBe(base + 594_155);
    expect(parseTimestampMicros('2024-10-22T15:09:44.594155999Z')).toBe(base + 594_155);
    expect(parseTimestampMicros('2024-10-22T15:09:44,25Z')).toBe(base + 250_000);
  });

  it('applies offsets in ±hh:mm, ±hhmm and ±hh form; no zone means UTC', () => {
    const t = utc(2023, 1, 4, 12, 0, 0) + 123_456;
    expect(parseTimestampMicros('2023-01-04T14:00:00.123456+02:00')).toBe(t);
    expect(parseTimestampMicros('2023-01-04T14:00:00.123456+0200')).toBe(t);
    expect(parseTimestampMicros('2023-01-04T14:00:00.123456+02')).toBe(t);
    expect(parseTimestampMicros('2023-01-04T06:30:00.123456-05:30')).toBe(t);
    expect(parseTimestampMicros('2023-01-04T12:00:00.123456')).toBe(t);
    expect(parseTimestampMicros('2023-01-04 12:00:00.123456z')).toBe(t);
    expect(parseTimestampMicros('2023-01-05T00:30:00+12:30')).toBe(utc(2023, 1, 4, 12, 0, 0));
  });

  it('reads dates and minute-precision times', () => {
    expect(parseTimestampMicros('2024-02-29')).toBe(utc(2024, 2, 29));
    expect(parseTimestampMicros('2024-02-29T08:15Z')).toBe(utc(2024, 2, 29, 8, 15));
    expect(parseTimestampMicros('1969-12-31T23:59:59.999999Z')).toBe(-1);
    expect(parseTimestampMicros('1970-01-01T00:00:00Z')).toBe(0);
  });

  it('rejects impossible or malformed text', () => {
    for (const bad of [
      '',
      'yesterday',
      '2023-02-29T00:00:00Z',
      '1900-02-29',
      '2023-13-01T00:00:00Z',
      '2023-00-10',
      '2023-04-31',
      '2023-01-04T24:00:00Z',
      '2023-01-04T12:60:00Z',
      '2023-01-04T12:00:61Z',
      '2023-01-04T12:00:00.Z',
      '2023-01-04T12:00:00Zjunk',
      '2023-01-04T12:00:00+25:00',
      '2023-01-04T12:00:00+02:7',
      '2023-1-04T12:00:00Z',
      '2023-01-04X12:00:00Z',
      '2023-01-04T12',
      '１２３４-01-04',
    ]) {
      expect(parseTimestampMicros(bad), bad).toBeNull();
    }
    expect(parseTimestampMicros('2000-02-29')).not.toBeNull();
  });

  it('agrees with Date.parse at millisecond precision over many instants', () => {
    let seed = 12345;
    const next = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor((next() * 2 - 0.5) * 4_000_000_000_000);
      const iso = new Date(ms).toISOString();
      expect(parseTimestampMicros(iso), iso).toBe(Date.parse(iso) * 1000);
    }
  });
});

describe('eventDateOf and daysFromCivil', () => {
  it('gives UTC epoch days, flooring before 1970', () => {
    expect(eventDateOf(0)).toBe(0);
    expect(eventDateOf(86_400_000_000 - 1)).toBe(0);
    expect(eventDateOf(86_400_000_000)).toBe(1);
    expect(eventDateOf(-1)).toBe(-1);
    expect(eventDateOf(utc(2023, 1, 4, 23, 59, 59) + 999_999)).toBe(19_361);
    expect(daysFromCivil(2023, 1, 4)).toBe(19_361);
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(Date.UTC(2000, 2, 1) / 86_400_000);
  });
});
