import type { Clock } from '../../src/rds/wait.js';

/** A clock that only moves when the code under test sleeps: no real waiting, no timed assertions. */
export function manualClock(start = 0): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
