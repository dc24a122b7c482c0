// The one clock: every wait, poll, retry and elapsed-time figure goes through it, so that tests can
// drive time with a manual clock instead of sleeping (test/helpers/manual-clock.ts).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or as soon as `signal` aborts: a timeout raced against work
   * is cancelled when the work wins, so its timer neither fires late nor keeps the process alive.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
    }),
};

/**
 * `work`, or an error once `ms` have passed on the clock: a request that hangs must not outlive a
 * deadline kept on that clock. The timer is cancelled as soon as the work settles.
 */
export async function withinTime<T>(clock: Clock, work: Promise<T>, ms: number, message: string): Promise<T> {
  const settled = new AbortController();
  const expired = clock.sleep(Math.max(0, Math.ceil(ms)), settled.signal).then((): never => {
    throw new Error(message);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    settled.abort();
  }
}
