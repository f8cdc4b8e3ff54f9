/**
 * Emulated time. Every duration in the emulator (updates, cluster creation, credential expiry, event
 * times) is measured on one of these, so tests can step time and the demo can run it fast.
 */
export type Clock = {
  /** Emulated time, epoch milliseconds. */
  now(): number;
  /** Moves emulated time forward; negative steps are refused because updates never un-finish. */
  advance(ms: number): void;
};

/** A fixed, recognisable default start for tests' virtual time: 2026-01-01T00:00:00Z. */
export const DEFAULT_MANUAL_START_MS = Date.UTC(2026, 0, 1);

function checkStep(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only advance by a finite, non-negative step, got ${ms}`);
}

/** Wall-clock time; `advance` adds a permanent offset (useful to skip an update's wait in a demo). */
export function realClock(): Clock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      checkStep(ms);
      offset += ms;
    },
  };
}

/** Virtual time that stands still until advanced: tests drive it and get deterministic results. */
export function manualClock(startMs: number = DEFAULT_MANUAL_START_MS): Clock {
  let now = startMs;
  return {
    now: () => now,
    advance(ms) {
      checkStep(ms);
      now += ms;
    },
  };
}

/**
 * Time that runs `factor` times faster than the wall clock (a 10-minute update takes 6 s at 100x),
 * and can still be advanced. Based on the monotonic clock so wall-clock adjustments cannot move it back.
 */
export function scaledClock(factor: number, startMs: number = Date.now()): Clock {
  if (!Number.isFinite(factor) || factor <= 0) throw new RangeError(`clock speed must be a positive number, got ${factor}`);
  const realStart = performance.now();
  let offset = 0;
  return {
    now: () => Math.floor(startMs + (performance.now() - realStart) * factor + offset),
    advance(ms) {
      checkStep(ms);
      offset += ms;
    },
  };
}
