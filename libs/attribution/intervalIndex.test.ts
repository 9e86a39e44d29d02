// The attribution interval index: intervals open, get revised and close; revisions arriving out of order (highest
// wins, equal or lower ignored); lookups at, before, inside and after boundaries (valid_to exclusive); overlapping
// intervals; pruning by retention; and ip_lookup rows in both their NDJSON (ISO) and Delta (µs) forms.
import { describe, expect, it } from 'vitest';
import { IntervalIndex, type HoldingRevision } from './intervalIndex.ts';
import { revisionOfRow } from './ipLookupRow.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 2, 13, 9, 0, 0);
const rev = (over: Partial<HoldingRevision> = {}): HoldingRevision => ({
  ip: '10.1.2.3',
  mac: 'aa:bb:cc:00:00:01',
  user: null,
  hostname: 'laptop-1',
  source: 'dhcp',
  validFrom: T0,
  validTo: null,
  intervalId: 'i1',
  revision: 0,
  ...over,
});
const who = (idx: IntervalIndex, ip: string, t: number) => {
  const h = idx.lookup(ip, t);
  return h === null ? null : `${h.mac ?? '-'} ${h.user ?? '-'} r${h.rev}`;
};

describe('IntervalIndex', () => {
  it('prunes by its own event-time clock, so a backfill of old logs stays attributable', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    idx.upsert(rev({ validTo: T0 + 2 * H, revision: 1 }));
    idx.upsert(rev({ ip: '10.1.2.4', intervalId: 'i2', validFrom: T0 + 30 * H, validTo: T0 + 40 * H, revision: 1 }));
    expect(idx.clock).toBe(T0 + 40 * H);
    // The wall clock is years later; only the interval closed more than 24 h before the newest revision goes.
    expect(idx.prune(idx.clock)).toBe(1);
    expect(who(idx, '10.1.2.3', T0 + H)).toBeNull();
    expect(who(idx, '10.1.2.4', T0 + 35 * H)).toBe('aa:bb:cc:00:00:01 - r1');
  });
  it('an open interval holds from valid_from on; a closing revision ends it (valid_to exclusive)', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    expect(idx.upsert(rev())).toBe('inserted');
    expect(who(idx, '10.1.2.3', T0 - 1)).toBeNull();
    expect(who(idx, '10.1.2.3', T0)).toBe('aa:bb:cc:00:00:01 - r0');
    expect(who(idx, '10.1.2.3', T0 + 100 * H)).toBe('aa:bb:cc:00:00:01 - r0');
    // ISE adds the user: revision 1 of the same interval.
    expect(idx.upsert(rev({ user: 'alice', revision: 1 }))).toBe('revised');
    expect(who(idx, '10.1.2.3', T0 + H)).toBe('aa:bb:cc:00:00:01 alice r1');
    expect(idx.upsert(rev({ user: 'alice', revision: 2, validTo: T0 + 2 * H }))).toBe('revised');
    expect(who(idx, '10.1.2.3', T0 + 2 * H - 1)).toBe('aa:bb:cc:00:00:01 alice r2');
    expect(who(idx, '10.1.2.3', T0 + 2 * H)).toBeNull();
    expect(who(idx, '10.9.9.9', T0 + H)).toBeNull();
    expect([idx.size, idx.addresses]).toEqual([1, 1]);
  });

  it('revisions in any order: the highest wins, equal and lower ones are stale', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    // The close (r2) arrives before the open (r0) and the user update (r1).
    expect(idx.upsert(rev({ user: 'alice', revision: 2, validTo: T0 + H }))).toBe('inserted');
    expect(idx.upsert(rev())).toBe('stale');
    expect(idx.upsert(rev({ user: 'alice', revision: 1 }))).toBe('stale');
    expect(idx.upsert(rev({ user: 'alice', revision: 2, validTo: T0 + H }))).toBe('stale');
    expect(who(idx, '10.1.2.3', T0 + H / 2)).toBe('aa:bb:cc:00:00:01 alice r2');
    expect(who(idx, '10.1.2.3', T0 + 2 * H)).toBeNull(); // not reopened by the late r0
  });

  it('a new holder after a handover answers from its start; a gap between intervals answers nobody', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    idx.upsert(rev({ revision: 1, validTo: T0 + H }));
    idx.upsert(rev({ intervalId: 'i2', mac: 'aa:bb:cc:00:00:02', validFrom: T0 + H }));
    idx.upsert(rev({ intervalId: 'i0', mac: 'aa:bb:cc:00:00:00', validFrom: T0 - 5 * H, validTo: T0 - 4 * H, revision: 1 }));
    expect(idx.intervalsOf('10.1.2.3').map((h) => h.id)).toEqual(['i0', 'i1', 'i2']);
    expect(who(idx, '10.1.2.3', T0 - 5 * H)).toBe('aa:bb:cc:00:00:00 - r1');
    expect(who(idx, '10.1.2.3', T0 - 4 * H)).toBeNull(); // the gap
    expect(who(idx, '10.1.2.3', T0 - 1)).toBeNull();
    expect(who(idx, '10.1.2.3', T0)).toBe('aa:bb:cc:00:00:01 - r1');
    expect(who(idx, '10.1.2.3', T0 + H - 1)).toBe('aa:bb:cc:00:00:01 - r1');
    expect(who(idx, '10.1.2.3', T0 + H)).toBe('aa:bb:cc:00:00:02 - r0');
    expect(idx.size).toBe(3);
  });

  it('overlapping intervals: the one that started last and still holds wins; an earlier open one covers the rest', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    idx.upsert(rev({ intervalId: 'long', user: 'bob', validFrom: T0 }));
    idx.upsert(rev({ intervalId: 'short', user: 'carol', validFrom: T0 + H, validTo: T0 + 2 * H, revision: 1 }));
    expect(who(idx, '10.1.2.3', T0 + 90 * 60_000)).toBe('aa:bb:cc:00:00:01 carol r1');
    expect(who(idx, '10.1.2.3', T0 + 3 * H)).toBe('aa:bb:cc:00:00:01 bob r0');
  });

  it('prunes intervals closed longer ago than the retention, keeps open ones, and refuses rows already past it', () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    idx.upsert(rev({ intervalId: 'old', validFrom: T0 - 50 * H, validTo: T0 - 30 * H, revision: 1 }));
    idx.upsert(rev({ intervalId: 'recent', validFrom: T0 - 30 * H, validTo: T0 - 2 * H, revision: 1 }));
    idx.upsert(rev({ intervalId: 'open', validFrom: T0 - 2 * H }));
    idx.upsert(rev({ ip: '10.0.0.9', intervalId: 'lone', validFrom: T0 - 50 * H, validTo: T0 - 40 * H, revision: 1 }));
    idx.upsert(rev({ ip: '10.0.0.8', intervalId: 'ancient-open', validFrom: T0 - 500 * H }));
    expect(idx.prune(T0)).toBe(2);
    expect(idx.intervalsOf('10.1.2.3').map((h) => h.id)).toEqual(['recent', 'open']);
    expect(idx.intervalsOf('10.0.0.9')).toEqual([]);
    expect([idx.size, idx.addresses]).toEqual([3, 2]);
    expect(who(idx, '10.0.0.8', T0)).not.toBeNull();
    // A closed interval that ended before the horizon is not taken; closing a kept one past it removes it.
    expect(idx.upsert(rev({ intervalId: 'late-old', validFrom: T0 - 60 * H, validTo: T0 - 59 * H, revision: 1 }))).toBe('expired');
    expect(idx.upsert(rev({ ip: '10.0.0.8', intervalId: 'ancient-open', validFrom: T0 - 500 * H, validTo: T0 - 499 * H, revision: 1 }))).toBe('expired');
    expect(idx.addresses).toBe(1);
    expect(idx.size).toBe(2);
  });
});

describe('IntervalIndex keys and strings', () => {
  it("matches the detector's 32-hex interval ids by their first 52 bits and keeps other ids as they are", () => {
    const idx = new IntervalIndex({ retentionHours: 24 });
    const hex = 'a3f1c2d4e5b60718293a4b5c6d7e8f90';
    idx.upsert(rev({ intervalId: hex }));
    expect(idx.upsert(rev({ intervalId: hex, revision: 1, user: 'alice' }))).toBe('revised');
    expect(idx.upsert(rev({ intervalId: 'b3f1c2d4e5b60718293a4b5c6d7e8f90', validFrom: T0 + H }))).toBe('inserted');
    expect(idx.intervalsOf('10.1.2.3').map((h) => h.id)).toEqual([parseInt(hex.slice(0, 13), 16), parseInt('b3f1c2d4e5b60', 16)]);
    // MACs and host names of different intervals are the same string objects (interned), also after a prune.
    const [a, b] = idx.intervalsOf('10.1.2.3');
    expect(a!.mac).toBe(b!.mac);
    idx.prune(T0);
    expect(idx.size).toBe(2);
  });
});

describe('revisionOfRow', () => {
  it('reads NDJSON rows (ISO times) and Delta rows (µs times)', () => {
    const fromBus = { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: '', source: 'radius', valid_from: '2024-03-13T09:00:00.000Z', valid_to: null, interval_id: 'x', revision: 3 };
    expect(revisionOfRow(fromBus)).toEqual({ ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: null, source: 'radius', validFrom: T0, validTo: null, intervalId: 'x', revision: 3 });
    const fromDelta = { ...fromBus, valid_from: T0 * 1000, valid_to: BigInt((T0 + H) * 1000), revision: 1 };
    expect(revisionOfRow(fromDelta)).toMatchObject({ validFrom: T0, validTo: T0 + H, revision: 1 });
  });

  it('refuses rows without ip, valid_from, interval_id or an integer revision, or with an unreadable valid_to', () => {
    const ok = { ip: '10.1.2.3', valid_from: '2024-03-13T09:00:00Z', interval_id: 'x', revision: 0 };
    expect(revisionOfRow(ok)).not.toBeNull();
    for (const bad of [{ ip: '' }, { valid_from: 'yesterday' }, { interval_id: null }, { revision: 1.5 }, { revision: '1' }, { valid_to: 'soon' }]) {
      expect(revisionOfRow({ ...ok, ...bad }), JSON.stringify(bad)).toBeNull();
    }
  });
});
