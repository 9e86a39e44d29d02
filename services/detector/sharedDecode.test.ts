// Shared decodes: a message read by two rule hosts is decoded once; the entry goes when both took it, or when the
// cache is over capacity (a lagging host decodes again); a table read by one host is never cached.
import { describe, expect, it } from 'vitest';
import { objectBatch, type EventBatch } from '@sluice/detect';
import { SharedDecode } from './sharedDecode.ts';

describe('SharedDecode', () => {
  const decoder = () => {
    let calls = 0;
    return { decode: (): EventBatch => (calls++, objectBatch('t', [{ a: calls }])), calls: () => calls };
  };

  it('decodes once for the hosts reading the input, then forgets the message', () => {
    const s = new SharedDecode();
    s.register('t');
    s.register('t');
    const d = decoder();
    const a = s.get('EVENTS', 7, 't', d.decode);
    expect(s.size).toBe(1);
    const b = s.get('EVENTS', 7, 't', d.decode);
    expect(b).toBe(a);
    expect([d.calls(), s.size, s.stats.decoded, s.stats.shared]).toEqual([1, 0, 1, 1]);
    // Another sequence is another message.
    expect(s.get('EVENTS', 8, 't', d.decode)).not.toBe(a);
    expect(d.calls()).toBe(2);
  });

  it('holds at most capacity entries: a host far behind decodes for itself', () => {
    const s = new SharedDecode(2);
    s.register('t');
    s.register('t');
    const d = decoder();
    for (const seq of [1, 2, 3]) s.get('EVENTS', seq, 't', d.decode);
    expect(s.size).toBe(2);
    s.get('EVENTS', 1, 't', d.decode); // evicted: decoded again
    s.get('EVENTS', 3, 't', d.decode); // still held: shared
    expect([d.calls(), s.stats.shared]).toEqual([4, 1]);
  });

  it('does not cache an input only one host reads', () => {
    const s = new SharedDecode();
    s.register('t');
    const d = decoder();
    s.get('EVENTS', 1, 't', d.decode);
    s.get('EVENTS', 1, 'u', d.decode);
    expect([d.calls(), s.size]).toEqual([2, 0]);
  });
});
