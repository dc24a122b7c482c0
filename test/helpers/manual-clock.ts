import type { Clock } from '../../src/common/clock.js';

/** A clock that only moves when the code under test sleeps: no real waiting, no timed assertions. */
export function manualClock(start = 0): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    /** Time that passes while the code under test works (a slow request), not while it sleeps. */
    advance: (ms) => {
      now += ms;
    },
  };
}
