// The one way to wait for something: `retry` repeats an attempt that failed (a throttled webhook, a
// health URL still coming up, a lock held by someone else) with exponential backoff, jitter, a
// deadline and the server's Retry-After; `poll` reads a status on a fixed interval until it is done
// (an RDS snapshot, a Kubernetes rollout). Both take the clock and the random source, so tests
// drive time with a manual clock instead of sleeping (test/helpers/manual-clock.ts).
import { systemClock, type Clock } from './clock.js';
import { formatDuration } from './duration.js';

export interface Backoff {
  /** The wait before the first retry. */
  initialMs: number;
  /** The longest wait. A Retry-After longer than this ends the retries instead of stalling. */
  maxMs: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /**
   * The share of each wait drawn at random, 0 (none, the default) to 1 ("full jitter"), so that
   * callers that failed together do not come back together.
   */
  jitter?: number;
}

/** The wait before retry number `retry` (1 for the first): initial × factor^(retry−1), capped, jittered down. */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const cap = Math.max(backoff.maxMs, backoff.initialMs);
  const grown = Math.min(cap, backoff.initialMs * (backoff.factor ?? 2) ** Math.max(0, retry - 1));
  const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0));
  return Math.round(grown * (1 - jitter * random()));
}

/** What one attempt came to: the value it returned, or the error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** false: final. true: retry after the backoff. `{ retryAfterMs }`: retry after what the server asked. */
export type RetryDecision = boolean | { retryAfterMs?: number };

export type GiveUpReason = 'not-retryable' | 'attempts' | 'deadline' | 'retry-after-too-long';

export interface RetryOptions<T> {
  /** Whether an outcome is worth another attempt. Default: retry every thrown error, accept every value. */
  isRetryable?: (outcome: Outcome<T>) => RetryDecision;
  /** Attempts in all, the first included (default unbounded: give a deadline then). */
  maxAttempts?: number;
  /** Clock time (clock.now()) after which no wait begins. */
  deadline?: number;
  /**
   * At the deadline: `stop` gives up when the next wait would reach it (a notification must not
   * hold up what it reports on); `cut` shortens the last wait to end at it and tries once more.
   */
  atDeadline?: 'stop' | 'cut';
  backoff: Backoff;
  clock?: Clock;
  random?: () => number;
  /** Told before each wait: for the progress line. */
  onRetry?: (event: { attempt: number; outcome: Outcome<T>; waitMs: number; retryAfter: boolean }) => void;
  /** Told once when retrying stops on a retryable outcome. */
  onGiveUp?: (event: { attempt: number; outcome: Outcome<T>; reason: GiveUpReason; waitMs?: number }) => void;
}

export interface RetryReport<T> {
  /** The last attempt's outcome. */
  outcome: Outcome<T>;
  attempts: number;
  /** Every wait between two attempts, in ms. */
  waits: number[];
  /** Why it stopped: `done` when the last outcome was not retryable... and was a success or a final answer. */
  stopped: 'done' | Exclude<GiveUpReason, 'not-retryable'>;
}

const defaultIsRetryable = (outcome: Outcome<unknown>): RetryDecision => !outcome.ok;

/** Runs `attempt` until its outcome is final, attempts run out, or the deadline passes; never throws what `attempt` threw. */
export async function retryReport<T>(
  attempt: (attempt: number) => Promise<T>,
  options: RetryOptions<T>,
): Promise<RetryReport<T>> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const isRetryable = options.isRetryable ?? defaultIsRetryable;
  const maxAttempts = Math.max(1, options.maxAttempts ?? Number.POSITIVE_INFINITY);
  const waits: number[] = [];
  for (let number = 1; ; number++) {
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await attempt(number) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const decision = isRetryable(outcome);
    if (decision === false) return { outcome, attempts: number, waits, stopped: 'done' };
    const giveUp = (reason: Exclude<GiveUpReason, 'not-retryable'>, waitMs?: number): RetryReport<T> => {
      options.onGiveUp?.({ attempt: number, outcome, reason, waitMs });
      return { outcome, attempts: number, waits, stopped: reason };
    };
    if (number >= maxAttempts) return giveUp('attempts');
    const retryAfterMs = typeof decision === 'object' ? decision.retryAfterMs : undefined;
    let waitMs = retryAfterMs ?? backoffDelay(number, options.backoff, random);
    if (retryAfterMs !== undefined && retryAfterMs > options.backoff.maxMs)
      return giveUp('retry-after-too-long', waitMs);
    if (options.deadline !== undefined) {
      const left = options.deadline - clock.now();
      if (options.atDeadline === 'cut') {
        if (left <= 0) return giveUp('deadline', waitMs);
        waitMs = Math.min(waitMs, left);
      } else if (waitMs >= left) return giveUp('deadline', waitMs);
    }
    options.onRetry?.({ attempt: number, outcome, waitMs, retryAfter: retryAfterMs !== undefined });
    waits.push(waitMs);
    await clock.sleep(waitMs);
  }
}

/** `retryReport`, for callers that want the value: returns the last value, or throws the last error. */
export async function retry<T>(attempt: (attempt: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const { outcome } = await retryReport(attempt, options);
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 10.2.3): milliseconds to wait, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface PollSchedule {
  /** Time between two checks. */
  intervalMs: number;
  /** Give up after this long (measured from the start of the wait). */
  timeoutMs: number;
  /** Check once before the first sleep (for something that may already be done). */
  checkFirst?: boolean;
  /**
   * Count the intervals from the start, as a sampler does: the n-th check is due at start + n ×
   * interval, so a slow check does not push the rest back (one that ran past its successor's
   * time is followed at once), and the checks are evenly spaced samples of the timeout. No check
   * is due after the timeout, and the last sleep is not cut to it.
   */
  fixedRate?: boolean;
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

export interface PollOptions extends PollSchedule {
  /** Names the thing in the timeout message: `snapshot "s"`. */
  what: string;
  clock?: Clock;
  /** Each progress line, with the time since the wait began. */
  onPoll?: (progress: string, elapsedMs: number) => void;
}

/**
 * Calls `check` every interval until it reports done, throws, or the timeout passes (then a
 * WaitTimeoutError with the last progress). The last sleep is cut to the deadline so the final
 * check happens at the timeout, not after it (with `fixedRate`, at the last slot before it).
 */
export async function poll<T>(check: () => Promise<PollResult<T>>, options: PollOptions): Promise<WaitOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  let polls = 0;
  let lastProgress = 'not checked yet';
  for (let first = true; ; first = false) {
    if (!(first && options.checkFirst)) {
      const now = clock.now();
      const due = options.fixedRate
        ? started + (polls + (options.checkFirst ? 0 : 1)) * options.intervalMs
        : Math.min(now + options.intervalMs, deadline);
      if (options.fixedRate ? due > deadline : deadline <= now) {
        const waitedMs = now - started;
        throw new WaitTimeoutError(
          `Timed out after ${formatDuration(waitedMs)} waiting for ${options.what}; last seen: ${lastProgress}.`,
          waitedMs,
          lastProgress,
        );
      }
      if (due > now || !options.fixedRate) await clock.sleep(due - now);
    }
    polls += 1;
    const result = await check();
    const elapsedMs = clock.now() - started;
    if (result.done) return { value: result.value, waitedMs: elapsedMs, polls };
    lastProgress = result.progress;
    options.onPoll?.(result.progress, elapsedMs);
  }
}
