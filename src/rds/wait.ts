// Our own poll loop instead of the SDK waiters. The waiters start at 30 s and back off up to
// 30 min, so a snapshot that completes is noticed up to minutes late; and
// waitUntilDBSnapshotAvailable keeps retrying while the snapshot does not exist, so one that
// vanished is only reported at the timeout. Here each poll is one Describe call, a fixed
// interval (default 5 s) bounds the delay in noticing completion, and the caller's check
// throws at once on `failed` or not-found.
import { formatDuration } from '../common/duration.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The default interval: completion noticed within 5 s, one call per 5 s. */
export const DEFAULT_POLL_INTERVAL_MS = 5_000;

export interface PollSchedule {
  /** Time between two Describe calls. */
  intervalMs: number;
  /** Give up after this long (measured from the start of the wait). */
  timeoutMs: number;
  /** Check once before the first sleep (for something that may already be done). */
  checkFirst?: boolean;
}

export type PollResult<T> = { done: true; value: T } | { done: false; progress: string };

export interface WaitOutcome<T> {
  value: T;
  waitedMs: number;
  polls: number;
}

export class WaitTimeoutError extends Error {
  constructor(
    message: string,
    readonly waitedMs: number,
    readonly lastProgress: string,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Calls `check` on the schedule until it reports done, throws, or the timeout passes.
 * `what` names the thing in the timeout message; `onPoll` receives each progress line.
 */
export async function pollUntil<T>(options: {
  what: string;
  check: () => Promise<PollResult<T>>;
  schedule: PollSchedule;
  clock?: Clock;
  onPoll?: (progress: string, elapsedMs: number) => void;
}): Promise<WaitOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const { intervalMs, timeoutMs, checkFirst } = options.schedule;
  const started = clock.now();
  const deadline = started + timeoutMs;
  let polls = 0;
  let lastProgress = 'not checked yet';
  for (let first = true; ; first = false) {
    if (!(first && checkFirst)) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) {
        const waitedMs = clock.now() - started;
        throw new WaitTimeoutError(
          `Timed out after ${formatDuration(waitedMs)} waiting for ${options.what}; last seen: ${lastProgress}.`,
          waitedMs,
          lastProgress,
        );
      }
      // The last sleep is cut to the deadline so the final check happens at the timeout, not after it.
      await clock.sleep(Math.min(intervalMs, remaining));
    }
    polls += 1;
    const result = await options.check();
    const elapsedMs = clock.now() - started;
    if (result.done) return { value: result.value, waitedMs: elapsedMs, polls };
    lastProgress = result.progress;
    options.onPoll?.(result.progress, elapsedMs);
  }
}
