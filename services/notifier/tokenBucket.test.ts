// Token bucket pacing on a fake clock: burst, steady rate, FIFO order, drain after a 429.
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './tokenBucket.ts';

function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), at: () => t };
}

describe('TokenBucket', () => {
  it('lets a burst through, then one take per 1/rate seconds', async () => {
    const c = fakeClock();
    const b = new TokenBucket(1, 2, c.now, c.sleep);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await b.take();
      times.push(c.at());
    }
    expect(times).toEqual([0, 0, 1000, 2000, 3000]);
  });

  it('serves concurrent callers in order, paced', async () => {
    const c = fakeClock();
    const b = new TokenBucket(2, 1, c.now, c.sleep);
    const order: [number, number][] = [];
    await Promise.all([0, 1, 2, 3].map((i) => b.take().then(() => order.push([i, c.at()]))));
    expect(order).toEqual([
      [0, 0],
      [1, 500],
      [2, 1000],
      [3, 1500],
    ]);
  });

  it('drain() removes the burst allowance', async () => {
    const c = fakeClock();
    const b = new TokenBucket(1, 3, c.now, c.sleep);
    b.drain();
    await b.take();
    expect(c.at()).toBe(1000);
  });

  it('refuses a zero rate', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
  });
});
