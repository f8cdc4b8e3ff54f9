/**
 * Waits between polls (src/workflow/backoff.ts). A Standard workflow bills per state transition, so the wait
 * grows from 30 s to a cap: 180 s while following an update, 300 s while a cluster is busy with another one.
 */
import fc from 'fast-check';
import { busyWaitSeconds, pollWaitSeconds } from '../../src/workflow/backoff';

describe('pollWaitSeconds', () => {
  it('doubles from 30 s after the first poll and stays at 180 s', () => {
    const waits = [1, 2, 3, 4, 5, 6, 20, 1000].map((polls) => pollWaitSeconds(polls));

    expect(waits).toEqual([30, 60, 120, 180, 180, 180, 180, 180]);
  });

  it('waits the base before any poll was counted', () => {
    expect(pollWaitSeconds(0)).toBe(30);
  });

  it('sees a 10-minute update done within 3 minutes of its end, in at most 7 polls', () => {
    let elapsed = 0;
    let polls = 0;
    while (elapsed < 600) {
      polls += 1;
      elapsed += pollWaitSeconds(polls);
    }

    expect(polls).toBeLessThanOrEqual(7);
    expect(elapsed - 600).toBeLessThan(180);
  });

  it('takes another base and cap', () => {
    expect([1, 2, 3, 4].map((n) => pollWaitSeconds(n, 10, 50))).toEqual([10, 20, 40, 50]);
  });
});

describe('busyWaitSeconds', () => {
  it('doubles from 30 s and is capped at 300 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((attempt) => busyWaitSeconds(attempt))).toEqual([30, 60, 120, 240, 300, 300, 300]);
  });
});

describe('properties', () => {
  const count = fc.integer({ min: 0, max: 10_000 });

  it.each<[string, (n: number) => number, number, number]>([
    ['pollWaitSeconds', (n) => pollWaitSeconds(n), 30, 180],
    ['busyWaitSeconds', busyWaitSeconds, 30, 300],
  ])('%s is a whole number of seconds within [%p, %p] and never decreases', (_name, wait, base, cap) => {
    fc.assert(
      fc.property(count, count, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(Number.isInteger(wait(lo))).toBe(true);
        expect(wait(lo)).toBeGreaterThanOrEqual(base);
        expect(wait(hi)).toBeLessThanOrEqual(cap);
        expect(wait(lo)).toBeLessThanOrEqual(wait(hi));
      }),
    );
  });

  it('pollWaitSeconds stays within [base, cap] for any base and cap', () => {
    fc.assert(
      fc.property(count, fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 3600 }), (polls, base, extra) => {
        const cap = base + extra;
        const wait = pollWaitSeconds(polls, base, cap);
        expect(wait).toBeGreaterThanOrEqual(base);
        expect(wait).toBeLessThanOrEqual(cap);
        expect(pollWaitSeconds(polls + 1, base, cap)).toBeGreaterThanOrEqual(wait);
      }),
    );
  });
});
