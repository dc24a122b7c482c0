import { startHttpFake, type HttpFake, type RecordedRequest, type Reply } from './http-fake.js';

/**
 * A local server speaking Prometheus' HTTP API for instant queries (`/api/v1/query`, GET with
 * ?query= or POST with a form body, as Prometheus accepts both), for the tests and the demo.
 * Each query answers from a script: the n-th request for a query gets the n-th answer (the last
 * one repeats), or a function computes it (the demo serves live figures that way). A query with
 * no script returns an empty vector, as Prometheus does for a metric it has never seen.
 *
 * No jest here: the demo imports this file too.
 */

export type PrometheusAnswer =
  /** One series with this value; NaN and ±Infinity are written as Prometheus writes them. */
  | number
  /** A vector of several series. */
  | { series: Array<{ labels: Record<string, string>; value: number }> }
  | { scalar: number }
  /** A range vector, as `x[5m]` returns. */
  | { matrix: true }
  /** An HTTP error, with Prometheus' JSON error body unless `body` is given. */
  | { status: number; body?: string }
  /** Accept the request and never answer. */
  | { hang: true };

export type Script = PrometheusAnswer[] | ((request: number) => PrometheusAnswer | Promise<PrometheusAnswer>);

export interface FakePrometheusOptions {
  /** When set, requests without `Authorization: Bearer <token>` get a 401, as an auth proxy answers. */
  token?: string;
  /** Headers every request must carry (a tenant header, say); a missing one gets a 401. */
  requiredHeaders?: Record<string, string>;
  /** Answer POST with 405, as a GET-only proxy does. */
  getOnly?: boolean;
  /** The API under a prefix, as Grafana Cloud and Mimir serve it (`/api/prom`). */
  prefix?: string;
  script?: Record<string, Script>;
}

export interface QueryRequest {
  method: string;
  query: string;
  headers: RecordedRequest['headers'];
}

export interface FakePrometheus {
  /** The base URL to give as prometheus-url (the prefix included). */
  url: string;
  /** Every query request that reached the API, in order. */
  queries: QueryRequest[];
  /** Sets or replaces the script for a query; its next request gets the script's first answer. */
  script(query: string, script: Script): void;
  http: HttpFake;
  close(): Promise<void>;
}

export async function startFakePrometheus(options: FakePrometheusOptions = {}): Promise<FakePrometheus> {
  const scripts = new Map<string, Script>(Object.entries(options.script ?? {}));
  const counts = new Map<string, number>();
  const queries: QueryRequest[] = [];
  const prefix = options.prefix ?? '';

  async function handle(request: RecordedRequest): Promise<Reply> {
    const url = new URL(request.path, 'http://fake');
    if (url.pathname !== `${prefix}/api/v1/query`) return { status: 404, body: '404 page not found' };
    if (request.method === 'POST' && options.getOnly) return { status: 405, body: 'method not allowed' };
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`)
      return { status: 401, body: 'Unauthorized' };
    for (const [name, value] of Object.entries(options.requiredHeaders ?? {}))
      if (request.headers[name.toLowerCase()] !== value) return { status: 401, body: `missing ${name}` };
    const params = request.method === 'POST' ? new URLSearchParams(request.body) : url.searchParams;
    const query = params.get('query');
    if (!query) return apiError(400, 'bad_data', 'invalid parameter "query": query must not be empty');
    queries.push({ method: request.method, query, headers: request.headers });
    const count = counts.get(query) ?? 0;
    counts.set(query, count + 1);
    const script = scripts.get(query);
    const answer = !script
      ? { series: [] }
      : typeof script === 'function'
        ? await script(count)
        : script[Math.min(count, script.length - 1)];
    return reply(answer);
  }

  const http = await startHttpFake(handle);
  return {
    url: `${http.url}${prefix}`,
    queries,
    script(query, script) {
      scripts.set(query, script);
      counts.delete(query);
    },
    http,
    close: () => http.close(),
  };
}

function reply(answer: PrometheusAnswer): Reply | Promise<Reply> {
  const now = Date.now() / 1000;
  if (typeof answer === 'number') return vector([{ labels: {}, value: answer }], now);
  if ('hang' in answer) return new Promise<Reply>(() => undefined);
  if ('status' in answer)
    return answer.body === undefined
      ? apiError(answer.status, 'internal', 'scripted failure')
      : { status: answer.status, body: answer.body };
  if ('scalar' in answer)
    return {
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [now, text(answer.scalar)] } },
    };
  if ('matrix' in answer)
    return {
      status: 200,
      body: { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[now, '1']] }] } },
    };
  return vector(answer.series, now);
}

function vector(series: Array<{ labels: Record<string, string>; value: number }>, now: number): Reply {
  return {
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: series.map((entry) => ({ metric: entry.labels, value: [now, text(entry.value)] })),
      },
    },
  };
}

function apiError(status: number, errorType: string, error: string): Reply {
  return { status, body: { status: 'error', errorType, error } };
}

/** Prometheus' number format: "NaN", "+Inf", "-Inf", else the decimal. */
function text(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
