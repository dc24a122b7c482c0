import { ConfigurationError } from '../common/errors.js';
import { networkError } from '../smoke/http-check.js';
import type { Reading } from './types.js';

export interface PrometheusOptions {
  /** The server's base URL (https://prometheus.example.com, or a prefix such as .../api/prom). */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; never printed. */
  token?: string;
  /** Extra headers (a tenant header, say); their values are secrets to the caller. */
  headers?: Record<string, string>;
  /** Longest wait for one answer. */
  requestTimeoutMs: number;
}

interface ApiAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

interface Series {
  metric?: Record<string, string>;
  value?: [number, string];
}

const MAX_LABELS_SHOWN = 5;

/**
 * The instant-query endpoint for a base URL. A URL with credentials is refused: it would be
 * printed in every error, and the token and headers inputs exist to keep them masked.
 */
export function queryEndpoint(base: string, input = 'prometheus-url'): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigurationError(
      `Input "${input}" is "${base}", which is not a URL such as https://prometheus.example.com.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigurationError(
      `Input "${input}" has scheme "${url.protocol.replace(/:$/, '')}". Valid values are: [http, https].`,
    );
  if (url.username || url.password)
    throw new ConfigurationError(
      `Input "${input}" has credentials in it (${url.host}); pass them in "prometheus-token" or "prometheus-headers", where they are masked.`,
    );
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/api/v1/query') ? path : `${path}/api/v1/query`;
  return url.toString();
}

/**
 * Runs one instant query (POST, as Grafana does, so a long PromQL expression fits; GET when the
 * server refuses POST) and reduces the answer to one number. Every failure is a Reading that
 * names the endpoint, never the token: the sampler decides what a failure costs. `stop` aborts
 * the request when its answer is no longer wanted (another check ended the watch).
 *
 * No `time` parameter: Prometheus then evaluates at its own "now", the moment the sample is taken,
 * and a runner whose clock is off does not ask for an instant the server has not reached yet.
 */
export async function readPrometheus(options: PrometheusOptions, query: string, stop?: AbortSignal): Promise<Reading> {
  const endpoint = queryEndpoint(options.url);
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const timeout = AbortSignal.timeout(options.requestTimeoutMs);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  let response: Response;
  let body: string;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }).toString(),
      signal,
    });
    if (response.status === 405) {
      await response.body?.cancel();
      response = await fetch(`${endpoint}?${new URLSearchParams({ query }).toString()}`, { headers, signal });
    }
    body = await response.text();
  } catch (error) {
    if (stop?.aborted) return { kind: 'error', reason: `stopped before ${endpoint} answered` };
    if (timeout.aborted)
      return { kind: 'error', reason: `no answer within ${options.requestTimeoutMs}ms from ${endpoint}` };
    return { kind: 'error', reason: `${networkError(error)} from ${endpoint}` };
  }
  return interpret(response.status, body, endpoint);
}

function interpret(status: number, body: string, endpoint: string): Reading {
  let answer: ApiAnswer | undefined;
  try {
    answer = JSON.parse(body) as ApiAnswer;
  } catch {
    answer = undefined;
  }
  if (status < 200 || status >= 300 || answer?.status === 'error') {
    const detail = answer?.error
      ? `${answer.errorType ?? 'error'}: ${answer.error}`
      : body.trim().slice(0, 200) || 'empty body';
    const hint = status === 401 || status === 403 ? ' (check prometheus-token and prometheus-headers)' : '';
    return { kind: 'error', reason: `HTTP ${status} from ${endpoint}: ${detail}${hint}` };
  }
  if (!answer?.data)
    return { kind: 'error', reason: `not a Prometheus API answer from ${endpoint}: ${body.trim().slice(0, 200)}` };
  const { resultType, result } = answer.data;
  if (resultType === 'scalar') return valueOf((result as [number, string])[1]);
  if (resultType === 'vector' && Array.isArray(result)) {
    const series = result as Series[];
    if (series.length === 0) return { kind: 'no-data', reason: `the query returned no series from ${endpoint}` };
    if (series.length > 1) {
      const shown = series.slice(0, MAX_LABELS_SHOWN).map((entry) => labels(entry.metric ?? {}));
      const more = series.length > MAX_LABELS_SHOWN ? `, and ${series.length - MAX_LABELS_SHOWN} more` : '';
      return {
        kind: 'error',
        reason: `the query returned ${series.length} series from ${endpoint}, expected one number: ${shown.join(', ')}${more}. Aggregate it, e.g. sum(...) or max(...)`,
      };
    }
    return valueOf(series[0].value?.[1]);
  }
  if (resultType === 'matrix')
    return {
      kind: 'error',
      reason: `the query returned a range vector from ${endpoint}; write an instant query (rate(x[5m]), not x[5m])`,
    };
  return {
    kind: 'error',
    reason: `the query returned a ${resultType ?? 'missing'} result from ${endpoint}, not a number`,
  };
}

/** Prometheus writes sample values as strings, "NaN", "+Inf" and "-Inf" included. */
function valueOf(text: string | undefined): Reading {
  if (text === undefined) return { kind: 'no-data', reason: 'the series has no value' };
  const infinity = /^([+-]?)inf$/i.exec(text.trim());
  if (infinity) return { kind: 'value', value: infinity[1] === '-' ? -Infinity : Infinity };
  return { kind: 'value', value: Number(text) };
}

/** {status="500", route="/tickets"}: a series as PromQL writes it, so the user can aggregate it away. */
function labels(metric: Record<string, string>): string {
  const pairs = Object.entries(metric).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return `{${pairs.join(', ')}}`;
}
