/**
 * POST/PATCH with bounded retries, for the chat and status-page APIs a rollback tells
 * people through. Slack and Statuspage both answer 429 with `Retry-After` when they
 * throttle and, now and then, a 5xx: both are worth waiting for. Everything else (a
 * wrong URL, a revoked token: 4xx) will not get better by retrying, so it is returned
 * at once. The whole exchange is bounded by `deadlineMs`: a notification must never
 * hold up the rollback it reports on.
 */

export interface RetryLogger {
  info(message: string): void;
}

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
  logger?: RetryLogger;
  /** Injected in tests that count waits; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
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

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3).
 * Returns milliseconds to wait, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export async function requestWithRetry(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
  options: RetryOptions = {},
): Promise<HttpResult> {
  const attempts = Math.max(1, options.attempts ?? defaultRetryOptions.attempts);
  const baseDelay = options.baseDelayMs ?? defaultRetryOptions.baseDelayMs;
  const maxDelay = options.maxDelayMs ?? defaultRetryOptions.maxDelayMs;
  const deadline = Date.now() + (options.deadlineMs ?? defaultRetryOptions.deadlineMs);
  const requestTimeout = options.requestTimeoutMs ?? defaultRetryOptions.requestTimeoutMs;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const label = options.label ?? 'request';
  const waits: number[] = [];
  let last: HttpResult = { ok: false, status: 0, body: '', attempts: 0, waits };

  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryAfter: number | undefined;
    try {
      const remaining = Math.max(1, deadline - Date.now());
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(Math.min(requestTimeout, remaining)) });
      const body = await response.text();
      last = { ok: response.ok, status: response.status, body, attempts: attempt, waits };
      if (response.ok || !isRetryable(response.status)) return last;
      retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    } catch (error) {
      // No answer: refused, reset or timed out. As transient as a 503.
      last = { ok: false, status: 0, body: '', attempts: attempt, waits, error: describeFetchError(error) };
    }
    if (attempt === attempts) break;

    const backoff = baseDelay * 2 ** (attempt - 1);
    const wait = retryAfter ?? Math.min(backoff, maxDelay);
    if (wait > maxDelay) {
      options.logger?.info(
        `${label}: the server asks to wait ${Math.ceil(wait / 1000)}s, longer than the ${Math.ceil(maxDelay / 1000)}s allowed; giving up.`,
      );
      break;
    }
    if (Date.now() + wait >= deadline) {
      options.logger?.info(`${label}: no time left for another attempt within the deadline; giving up.`);
      break;
    }
    const why = last.status ? `HTTP ${last.status}` : last.error;
    options.logger?.info(
      `${label}: attempt ${attempt} of ${attempts} got ${why}; retrying in ${(wait / 1000).toFixed(1)}s${retryAfter !== undefined ? ' (Retry-After)' : ''}.`,
    );
    waits.push(wait);
    await sleep(wait);
  }
  return last;
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
