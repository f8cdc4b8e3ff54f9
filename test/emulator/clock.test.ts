import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MANUAL_START_MS, manualClock, realClock, scaledClock } from '../../src/emulator';

describe('clocks', () => {
  it('manual clock moves only when advanced', async () => {
    const clock = manualClock();
    expect(clock.now()).toBe(DEFAULT_MANUAL_START_MS);
    await sleep(20);
    expect(clock.now()).toBe(DEFAULT_MANUAL_START_MS);
    clock.advance(10_000);
    expect(clock.now()).toBe(DEFAULT_MANUAL_START_MS + 10_000);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('refuses to advance by %p', (ms) => {
    expect(() => manualClock(0).advance(ms)).toThrow(RangeError);
  });

  it('real clock follows the wall clock plus any advance', () => {
    const clock = realClock();
    clock.advance(60_000);
    expect(clock.now() - Date.now()).toBeGreaterThanOrEqual(59_000);
  });

  it('scaled clock runs factor times faster and can be advanced', async () => {
    const clock = scaledClock(1000, 0);
    await sleep(50);
    const elapsed = clock.now();
    expect(elapsed).toBeGreaterThanOrEqual(45_000);
    expect(elapsed).toBeLessThan(50_000_000);
    clock.advance(1_000_000);
    expect(clock.now()).toBeGreaterThanOrEqual(elapsed + 1_000_000);
  });

  it('refuses a non-positive speed', () => {
    expect(() => scaledClock(0)).toThrow(RangeError);
  });
});
