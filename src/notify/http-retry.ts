/**
 * POST/PATCH with bounded retries, for the chat and status-page APIs a rollback tells
 * people through. Slack and Statuspage both answer 429 with `Retry-After` when they
 * throttle and, now and then, a 5xx: both are worth waiting for. Everything else (a
 * wrong URL, a revoked token: 4xx) will not get better by retrying, so it is returned
 * at once. The whole exchange is bounded by `deadlineMs`: a notification must never
 * hold up the rollback it reports on.
 */
import { systemClock, type Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { parseRetryAfter, retryReport } from '../common/retry.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** First backoff when the server gives no Retry-After; doubles each time. */
  baseDelayMs?: number;
  /** The longest single wait, Retry-After included: a longer Retry-After ends the retries. */
  maxDelayMs?: number;
  /** The whole exchange, every attempt and wait included. */
  deadlineMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** The share of each backoff drawn at random (src/common/retry.ts); none by default. */
  jitter?: number;
  logger?: Logger;
  /** Injected in tests, which count the waits instead of sleeping them. */
  clock?: Clock;
  random?: () => number;
  /** What to call the target in log lines (never the URL: webhook URLs are secrets). */
  label?: string;
}

export interface HttpResult {
  ok: boolean;
  status: number;
  body: string;
  attempts: number;
  /** Set when no HTTP answer came back at all (connection refused, timeout). */
  error?: string;
  /** The waits between attempts, in ms, for the summary and the tests. */
  waits: number[];
}

export const defaultRetryOptions = {
  attempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  deadlineMs: 60_000,
  requestTimeoutMs: 10_000,
} as const;

/** True for the answers worth another attempt. */
export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export { parseRetryAfter };

type Answer = Omit<HttpResult, 'waits'> & { retryAfterMs?: number };

export async function requestWithRetry(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
  options: RetryOptions = {},
): Promise<HttpResult> {
  const clock = options.clock ?? systemClock;
  const attempts = Math.max(1, options.attempts ?? defaultRetryOptions.attempts);
  const maxDelay = options.maxDelayMs ?? defaultRetryOptions.maxDelayMs;
  const deadline = clock.now() + (options.deadlineMs ?? defaultRetryOptions.deadlineMs);
  const requestTimeout = options.requestTimeoutMs ?? defaultRetryOptions.requestTimeoutMs;
  const label = options.label ?? 'request';
  const log = (message: string) => options.logger?.info(message);

  const report = await retryReport(
    async (attempt): Promise<Answer> => {
      try {
        const remaining = Math.max(1, deadline - clock.now());
        const signal = AbortSignal.timeout(Math.min(requestTimeout, remaining));
        const response = await fetch(url, { ...init, signal });
        const body = await response.text();
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        return { ok: response.ok, status: response.status, body, attempts: attempt, retryAfterMs };
      } catch (error) {
        // No answer: refused, reset or timed out. As transient as a 503.
        return { ok: false, status: 0, body: '', attempts: attempt, error: describeFetchError(error) };
      }
    },
    {
      maxAttempts: attempts,
      deadline,
      atDeadline: 'stop',
      backoff: {
        initialMs: options.baseDelayMs ?? defaultRetryOptions.baseDelayMs,
        maxMs: maxDelay,
        jitter: options.jitter,
      },
      clock,
      random: options.random,
      isRetryable: (outcome) => {
        if (!outcome.ok) return true;
        const answer = outcome.value;
        if (answer.ok || (answer.status !== 0 && !isRetryable(answer.status))) return false;
        return answer.retryAfterMs === undefined ? true : { retryAfterMs: answer.retryAfterMs };
      },
      onRetry: ({ attempt, outcome, waitMs, retryAfter }) => {
        const answer = outcome.ok ? outcome.value : undefined;
        const why = answer?.status ? `HTTP ${answer.status}` : answer?.error;
        log(
          `${label}: attempt ${attempt} of ${attempts} got ${why}; retrying in ${(waitMs / 1000).toFixed(1)}s${retryAfter ? ' (Retry-After)' : ''}.`,
        );
      },
      onGiveUp: ({ reason, waitMs = 0 }) => {
        if (reason === 'retry-after-too-long')
          log(
            `${label}: the server asks to wait ${Math.ceil(waitMs / 1000)}s, longer than the ${Math.ceil(maxDelay / 1000)}s allowed; giving up.`,
          );
        if (reason === 'deadline') log(`${label}: no time left for another attempt within the deadline; giving up.`);
      },
    },
  );
  // The attempt catches everything, so the outcome is always a value.
  const { retryAfterMs: _retryAfterMs, ...last } = (report.outcome as { ok: true; value: Answer }).value;
  return { ...last, waits: report.waits };
}

function describeFetchError(error: unknown): string {
  // Duck-typed, not instanceof: fetch's errors may come from another realm (a vm context).
  const value = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | null;
  if (value && typeof value === 'object') {
    if (value.name === 'TimeoutError') return 'timed out';
    if (value.cause?.code) return value.cause.code;
    if (value.cause?.message) return value.cause.message;
    if (value.message) return value.message;
  }
  return String(error);
}
