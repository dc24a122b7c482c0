import { systemClock, type Clock } from '../common/clock.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { retryReport } from '../common/retry.js';
import type { BodyExpectation } from './expect-body.js';
import type { StatusMatcher } from './expected-status.js';
import type { CheckResult } from './types.js';

export interface UrlCheckOptions {
  url: string;
  headers?: Record<string, string>;
  expectedStatus: StatusMatcher;
  expectBody?: BodyExpectation;
  /** Most requests to make, the first included. */
  attempts: number;
  /** First pause between attempts; it doubles up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs: number;
  requestTimeoutMs: number;
  /** clock.now() after which no attempt starts and none is waited for. */
  deadline: number;
  /** Retry a 4xx other than 429 instead of failing at once. */
  retryOn4xx?: boolean;
  logger?: Logger;
  clock?: Clock;
}

type Attempt =
  | { ok: true; status: number; latencyMs: number }
  | { ok: false; retry: boolean; error: string; status?: number; latencyMs: number; snippet?: string };

const SNIPPET = 300;

/**
 * Requests one URL until it answers as expected, as a person with curl would: a refused
 * connection, a timeout, a 5xx or a 429 is a service still coming back and is retried
 * with backoff; a wrong 4xx is a wrong URL or credentials and fails at once (unless
 * retryOn4xx), because retrying it only delays the bad news.
 */
export async function checkUrl(options: UrlCheckOptions): Promise<CheckResult> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const report = await retryReport(
    async (number) => {
      const left = options.deadline - clock.now();
      const result = await attempt(options, Math.max(1, Math.ceil(Math.min(options.requestTimeoutMs, left))));
      if (result.ok)
        logger.info(`${options.url}: ${result.status} in ${Math.round(result.latencyMs)}ms (attempt ${number})`);
      else logger.info(`${options.url}: attempt ${number}/${options.attempts} failed: ${result.error}`);
      return result;
    },
    {
      maxAttempts: options.attempts,
      deadline: options.deadline,
      // A pause that would reach the deadline is not slept: the verdict is the same, only later.
      atDeadline: 'stop',
      backoff: { initialMs: options.intervalMs, maxMs: options.maxIntervalMs },
      clock,
      isRetryable: (outcome) => outcome.ok && !outcome.value.ok && outcome.value.retry,
    },
  );
  // `attempt` catches everything: the outcome is always a value.
  const last = (report.outcome as { ok: true; value: Attempt }).value;
  const attempts = report.attempts;
  if (last.ok) {
    return {
      check: options.url,
      kind: 'url',
      passed: true,
      attempts,
      lastStatus: last.status,
      latencyMs: Math.round(last.latencyMs),
    };
  }
  const why = !last.retry
    ? ''
    : report.stopped === 'attempts'
      ? ` (gave up after ${attempts} attempts)`
      : ` (overall deadline reached after ${attempts} attempts)`;
  return {
    check: options.url,
    kind: 'url',
    passed: false,
    attempts,
    lastStatus: last.status,
    latencyMs: Math.round(last.latencyMs),
    error: `${last.error}${why}`,
    snippet: last.snippet,
  };
}

async function attempt(options: UrlCheckOptions, timeoutMs: number): Promise<Attempt> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // No redirects followed: like the runbook's plain curl, a redirect is an answer to judge, not to chase.
    const response = await fetch(options.url, { headers: options.headers, redirect: 'manual', signal });
    const body = await response.text();
    const latencyMs = performance.now() - started;
    const status = response.status;
    const snippet = body.slice(0, SNIPPET);
    if (options.expectedStatus.matches(status)) {
      const complaint = options.expectBody?.check(body);
      // A healthy status with the wrong body is a service still warming up ("starting"): retry it.
      if (complaint)
        return { ok: false, retry: true, error: `${status}, but ${complaint}`, status, latencyMs, snippet };
      return { ok: true, status, latencyMs };
    }
    const wrong4xx = status >= 400 && status < 500 && status !== 429;
    const retry = !wrong4xx || Boolean(options.retryOn4xx);
    return {
      ok: false,
      retry,
      error: `status ${status}, expected ${options.expectedStatus.text}${wrong4xx && !retry ? ' (a 4xx is not retried unless retry-on-4xx is set)' : ''}`,
      status,
      latencyMs,
      snippet,
    };
  } catch (error) {
    const latencyMs = performance.now() - started;
    if (signal.aborted) {
      const limit = timeoutMs < options.requestTimeoutMs ? 'cut short by the overall deadline' : 'request timeout';
      return { ok: false, retry: true, error: `no answer within ${timeoutMs}ms (${limit})`, latencyMs };
    }
    return { ok: false, retry: true, error: networkError(error), latencyMs };
  }
}

/** A fetch failure as a person reads it: "connection refused (ECONNREFUSED)". */
export function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (cause?.code === 'ENOTFOUND') return `host not found (ENOTFOUND)`;
  if (cause?.code) return `${cause.message ?? 'network error'} (${cause.code})`;
  return error instanceof Error ? (cause?.message ?? error.message) : String(error);
}
