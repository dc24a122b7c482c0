import type { Clock } from '../../src/common/clock.js';

/** The manual clock's extras: what the code under test asked for, and how far time moved. */
export interface ManualClock extends Clock {
  /** Every sleep asked for, in order. */
  readonly sleeps: number[];
  /** Time that passes while the code under test works (a slow request), not while it sleeps. */
  advance(ms: number): void;
  /** Milliseconds since the clock was made: "how long did it take" read from the clock, never the wall. */
  elapsed(): number;
}

/**
 * A clock that only moves when the code under test sleeps: no real waiting, no timed assertions.
 * A five-minute watch runs in milliseconds of real time. Pass `start` where the code reads the time
 * as a date (the monitor's query windows); the retry and poll tests count from 0.
 *
 * A sleep with a signal is a timeout raced against work (withinTime): it lets the work finish
 * what it can without real waiting (a turn of the event loop) and moves time to the timeout only
 * if the work is still out then. So work that answers at once beats it and time stands still, and
 * work that never answers times out at the timeout, at once. Work that needs real I/O to answer
 * loses the race: give such tests an API that answers in-process, or one that hangs.
 */
export function manualClock(start = 0): ManualClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      // A negative wait is no wait, as with the system clock: time never runs backwards.
      if (!signal) {
        now += Math.max(0, ms);
        return Promise.resolve();
      }
      return new Promise((resolve) =>
        setImmediate(() => {
          if (!signal.aborted) now += Math.max(0, ms);
          resolve();
        }),
      );
    },
    advance: (ms) => {
      now += ms;
    },
    elapsed: () => now - start,
  };
}
