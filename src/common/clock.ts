// The one clock: every wait, poll, retry and elapsed-time figure goes through it, so that tests can
// drive time with a manual clock instead of sleeping (test/helpers/manual-clock.ts).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
