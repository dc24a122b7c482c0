import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../src/common/logger.js';
import { parseChecks } from '../../src/monitor/checks.js';
import { readPrometheus } from '../../src/monitor/prometheus.js';
import { runMonitor, type MonitorOptions } from '../../src/monitor/run.js';
import { startFakePrometheus, type FakePrometheus, type Script } from '../fakes/prometheus-server.js';
import { manualClock, type ManualClock } from '../helpers/manual-clock.js';

// A real date, so the samples' times in the report and the messages are known. It is not sent:
// the watch asks for no `time`, and Prometheus evaluates each instant query at its own now.
const WATCH_START = Date.parse('2026-11-29T03:10:00Z');

const ERRORS =
  'sum(rate(http_requests_total{job="ticket-service",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="ticket-service"}[5m]))';
const LATENCY =
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="ticket-service"}[5m])))';
const CHECKS = `
- name: 5xx rate
  query: '${ERRORS}'
  max: 0.05
- name: p99 latency
  query: '${LATENCY}'
  max: 0.5
`;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (line) => lines.push(line),
    info: (line) => lines.push(line),
    warning: (line) => lines.push(line),
    error: (line) => lines.push(line),
    group: (_name, body) => body(),
  };
}

let prometheus: FakePrometheus;
afterEach(() => prometheus?.close());

async function watchWith(
  scripts: Record<string, Script>,
  options: Partial<MonitorOptions> = {},
  checks = CHECKS,
): Promise<{
  report: Awaited<ReturnType<typeof runMonitor>>;
  clock: ManualClock;
  logger: ReturnType<typeof recordingLogger>;
}> {
  prometheus ??= await startFakePrometheus();
  for (const [query, script] of Object.entries(scripts)) prometheus.script(query, script);
  const clock = manualClock(WATCH_START);
  const logger = recordingLogger();
  const report = await runMonitor({
    checks: parseChecks(checks),
    prometheus: { url: prometheus.url },
    durationMs: 5 * 60_000,
    intervalMs: 30_000,
    failureLimit: 0,
    inconclusiveLimit: 0,
    requestTimeoutMs: 2000,
    clock,
    logger,
    ...options,
  });
  return { report, clock, logger };
}

describe('the monitor against a Prometheus HTTP API', () => {
  beforeEach(async () => {
    prometheus = await startFakePrometheus();
  });

  it('passes healthy checks after the whole duration, sampling both every interval', async () => {
    const { report, clock, logger } = await watchWith({ [ERRORS]: [0.01], [LATENCY]: [0.21] });
    expect(report.passed).toBe(true);
    expect(report.failure).toBeUndefined();
    expect(report.rounds).toBe(11);
    expect(clock.elapsed()).toBe(5 * 60_000);
    expect(report.checks.map((check) => [check.name, check.outcome, check.samples.length])).toEqual([
      ['5xx rate', 'passed', 11],
      ['p99 latency', 'passed', 11],
    ]);
    expect(report.checks[0].samples[2]).toEqual({ at: '2026-11-29T03:11:00.000Z', value: 0.01, verdict: 'pass' });
    expect(prometheus.queries.filter((query) => query.query === ERRORS)).toHaveLength(11);
    expect(prometheus.queries.every((query) => query.method === 'POST')).toBe(true);
    expect(prometheus.http.requests.filter((request) => new URLSearchParams(request.body).has('time'))).toEqual([]);
    expect(logger.lines[0]).toBe('Sample 1/11 at 03:10:00Z: 5xx rate 0.01 ok; p99 latency 0.21 ok');
  });

  it('samples the checks of a round in parallel', async () => {
    // Each answer waits for the other check's request of the same round: read one after the
    // other, the first would wait for a request that never comes and time out.
    const rounds = new Map<number, { arrived: number; release: () => void; met: Promise<void> }>();
    const meet = async (round: number): Promise<number> => {
      let entry = rounds.get(round);
      if (!entry) {
        let release = () => undefined as void;
        const met = new Promise<void>((resolve) => (release = resolve));
        entry = { arrived: 0, release, met };
        rounds.set(round, entry);
      }
      entry.arrived += 1;
      if (entry.arrived === 2) entry.release();
      await entry.met;
      return 0.01;
    };
    const { report } = await watchWith(
      { [ERRORS]: meet, [LATENCY]: meet },
      { durationMs: 30_000, requestTimeoutMs: 1000 },
    );
    expect(report.checks.flatMap((check) => check.samples.map((sample) => sample.verdict))).toEqual([
      'pass',
      'pass',
      'pass',
      'pass',
    ]);
  });

  it('fails fast at the sample that breaches, naming the check, value, threshold and time', async () => {
    const { report, clock } = await watchWith({ [ERRORS]: [0.01, 0.02, 0.3, 0.01], [LATENCY]: [0.2] });
    expect(report.passed).toBe(false);
    expect(report.rounds).toBe(3);
    expect(clock.elapsed()).toBe(60_000);
    expect(report.failure).toBe(
      'Monitor failed on sample 3 of 11, 1m 0s into a 5m 0s watch: 5xx rate: 0.3 at 03:11:00Z, above max 0.05 (1 failing sample, failure-limit 0)',
    );
    expect(report.checks.map((check) => check.outcome)).toEqual(['failed', 'stopped']);
    expect(report.checks[0].samples[2]).toMatchObject({ value: 0.3, verdict: 'fail', message: 'above max 0.05' });
    expect(prometheus.queries.filter((query) => query.query === ERRORS)).toHaveLength(3);
  });

  it('fails on a breach without waiting for a sibling whose request hangs', async () => {
    // Were the round to wait for every answer, the hanging query would end in its request timeout
    // (real time: 20s) and the failure would name it too.
    const { report, clock, logger } = await watchWith(
      { [ERRORS]: [0.01, 0.3], [LATENCY]: [0.2, { hang: true }] },
      { requestTimeoutMs: 20_000 },
    );
    expect(report.passed).toBe(false);
    expect(report.rounds).toBe(2);
    expect(clock.elapsed()).toBe(30_000);
    expect(report.failure).toBe(
      'Monitor failed on sample 2 of 11, 30s into a 5m 0s watch: 5xx rate: 0.3 at 03:10:30Z, above max 0.05 (1 failing sample, failure-limit 0)',
    );
    expect(report.checks.map((check) => [check.outcome, check.samples.length])).toEqual([
      ['failed', 2],
      ['stopped', 1],
    ]);
    expect(logger.lines[1]).toBe(
      'Sample 2/11 at 03:10:30Z: 5xx rate 0.3 above max 0.05 (1/0 tolerated); p99 latency not read (stopped while its request was out)',
    );
  });

  it('abandons a request in flight once its answer is no longer wanted', async () => {
    const stop = new AbortController();
    prometheus.script(ERRORS, () => {
      stop.abort();
      return { hang: true };
    });
    const reading = await readPrometheus({ url: prometheus.url, requestTimeoutMs: 20_000 }, ERRORS, stop.signal);
    expect(reading).toEqual({ kind: 'error', reason: `stopped before ${prometheus.url}/api/v1/query answered` });
    expect(prometheus.queries).toHaveLength(1);
  });

  it('tolerates one bad sample with failure-limit 1, and fails on the second', async () => {
    const once = await watchWith({ [ERRORS]: [0.01, 0.2, 0.01], [LATENCY]: [0.2] }, { failureLimit: 1 });
    expect(once.report.passed).toBe(true);
    expect(once.report.checks[0]).toMatchObject({ outcome: 'passed', failures: 1 });
    expect(once.report.checks[0].samples).toHaveLength(11);

    await prometheus.close();
    prometheus = await startFakePrometheus();
    const twice = await watchWith({ [ERRORS]: [0.01, 0.2, 0.01, 0.07, 0.01], [LATENCY]: [0.2] }, { failureLimit: 1 });
    expect(twice.report.passed).toBe(false);
    expect(twice.report.rounds).toBe(4);
    expect(twice.report.failure).toMatch(
      /5xx rate: 0\.07 at 03:11:30Z, above max 0\.05 \(2 failing samples, failure-limit 1\)/,
    );
  });

  it('fails on no data, saying "no data" and naming the URL', async () => {
    const { report } = await watchWith({ [ERRORS]: [0.01] });
    expect(report.passed).toBe(false);
    expect(report.rounds).toBe(1);
    expect(report.failure).toContain(
      `p99 latency: no data at 03:10:00Z (the query returned no series from ${prometheus.url}/api/v1/query)`,
    );
    expect(report.failure).toContain('1 sample without data, inconclusive-limit 0');
    expect(report.checks[1]).toMatchObject({ outcome: 'inconclusive', inconclusive: 1 });
    expect(report.checks[1].samples[0]).toMatchObject({ value: null, verdict: 'no-data' });
  });

  it.each([
    ['NaN (an error rate with no traffic is 0/0)', NaN, 'the value is NaN'],
    ['+Inf', Infinity, 'the value is +Inf'],
    ['-Inf', -Infinity, 'the value is -Inf'],
  ])('counts %s as no data, never as a pass', async (_case, value, reason) => {
    const { report } = await watchWith({ [ERRORS]: [value], [LATENCY]: [0.2] });
    expect(report.passed).toBe(false);
    expect(report.failure).toContain(`5xx rate: no data at 03:10:00Z (${reason})`);
    expect(report.checks[0].samples[0]).toEqual({
      at: '2026-11-29T03:10:00.000Z',
      value: null,
      verdict: 'no-data',
      message: reason,
    });
  });

  it('tolerates samples without data up to inconclusive-limit', async () => {
    const { report } = await watchWith({ [ERRORS]: [NaN, NaN, 0.01], [LATENCY]: [0.2] }, { inconclusiveLimit: 2 });
    expect(report.passed).toBe(true);
    expect(report.checks[0]).toMatchObject({ outcome: 'passed', inconclusive: 2, failures: 0 });
  });

  it('reports a 500 as a query error with the status and the URL', async () => {
    const { report } = await watchWith({ [ERRORS]: [{ status: 500, body: 'upstream exploded' }], [LATENCY]: [0.2] });
    expect(report.passed).toBe(false);
    expect(report.failure).toContain(
      `5xx rate: query error at 03:10:00Z (HTTP 500 from ${prometheus.url}/api/v1/query: upstream exploded)`,
    );
    expect(report.checks[0].samples[0].verdict).toBe('error');
  });

  it("reports Prometheus' own error for a query it rejects", async () => {
    const { report } = await watchWith({}, {}, `- name: broken\n  query: 'sum(rate(x[5m])'\n  max: 1`);
    // The fake answers an unscripted query with an empty vector, as Prometheus does for an unknown metric.
    expect(report.failure).toContain('broken: no data');
    prometheus.script('bad(', [{ status: 400 }]);
    const second = await watchWith({}, {}, `- name: broken\n  query: 'bad('\n  max: 1`);
    expect(second.report.failure).toContain('HTTP 400 from');
    expect(second.report.failure).toContain('internal: scripted failure');
  });

  it('fails on an unreachable URL, naming it', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { report } = await watchWith({}, { prometheus: { url: `http://127.0.0.1:${port}` } });
    expect(report.passed).toBe(false);
    expect(report.rounds).toBe(1);
    expect(report.failure).toContain(
      `5xx rate: query error at 03:10:00Z (connection refused (ECONNREFUSED) from http://127.0.0.1:${port}/api/v1/query)`,
    );
  });

  it('gives up on a server that never answers after the request timeout, naming the URL', async () => {
    const { report } = await watchWith({ [ERRORS]: [{ hang: true }], [LATENCY]: [0.2] }, { requestTimeoutMs: 150 });
    expect(report.passed).toBe(false);
    expect(report.failure).toContain(
      `5xx rate: query error at 03:10:00Z (no answer within 150ms from ${prometheus.url}/api/v1/query)`,
    );
  });

  it('refuses several series as an error naming their labels', async () => {
    const { report } = await watchWith({
      [ERRORS]: [
        {
          series: [
            { labels: { status: '500', route: '/tickets' }, value: 0.1 },
            { labels: { status: '502', route: '/tickets' }, value: 0.01 },
          ],
        },
      ],
      [LATENCY]: [0.2],
    });
    expect(report.passed).toBe(false);
    expect(report.failure).toContain(
      'the query returned 2 series from ' +
        `${prometheus.url}/api/v1/query, expected one number: {status="500", route="/tickets"}, {status="502", route="/tickets"}. Aggregate it, e.g. sum(...) or max(...)`,
    );
  });

  it('reads a scalar, refuses a range vector and checks a min threshold', async () => {
    const checks = `- name: throughput\n  query: scalar(sum(rate(x[1m])))\n  min: 10\n- name: raw\n  query: 'x[5m]'\n  max: 1`;
    const { report } = await watchWith(
      { 'scalar(sum(rate(x[1m])))': [{ scalar: 12 }, { scalar: 4 }], 'x[5m]': [{ matrix: true }] },
      { inconclusiveLimit: 5 },
      checks,
    );
    expect(report.checks[0].samples.map((sample) => [sample.value, sample.verdict, sample.message])).toEqual([
      [12, 'pass', undefined],
      [4, 'fail', 'below min 10'],
    ]);
    expect(report.checks[1].samples[0].message).toContain('returned a range vector');
  });

  it('sends the token as a Bearer header and the extra headers, to a prefixed API', async () => {
    await prometheus.close();
    prometheus = await startFakePrometheus({
      token: 'prom-token-s3cret',
      requiredHeaders: { 'X-Scope-OrgID': 'tenant-42' },
      prefix: '/api/prom',
    });
    const { report } = await watchWith(
      { [ERRORS]: [0.01], [LATENCY]: [0.2] },
      {
        prometheus: {
          url: `${prometheus.url}/`,
          token: 'prom-token-s3cret',
          headers: { 'X-Scope-OrgID': 'tenant-42' },
        },
        durationMs: 60_000,
      },
    );
    expect(report.passed).toBe(true);
    expect(prometheus.queries[0].headers.authorization).toBe('Bearer prom-token-s3cret');
    expect(prometheus.queries[0].headers['x-scope-orgid']).toBe('tenant-42');
    expect(JSON.stringify(report)).not.toContain('prom-token-s3cret');
  });

  it('names the URL but not the token when the token is refused', async () => {
    await prometheus.close();
    prometheus = await startFakePrometheus({ token: 'the-right-token' });
    const { report } = await watchWith({}, { prometheus: { url: prometheus.url, token: 'a-wrong-token' } });
    expect(report.failure).toContain(
      `HTTP 401 from ${prometheus.url}/api/v1/query: Unauthorized (check prometheus-token and prometheus-headers)`,
    );
    expect(JSON.stringify(report)).not.toContain('a-wrong-token');
  });

  it('falls back to GET when the server refuses POST', async () => {
    await prometheus.close();
    prometheus = await startFakePrometheus({ getOnly: true });
    const { report } = await watchWith({ [ERRORS]: [0.01], [LATENCY]: [0.2] }, { durationMs: 30_000 });
    expect(report.passed).toBe(true);
    expect(prometheus.queries.map((query) => query.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
  });

  it('refuses a query check without prometheus-url, and a URL with credentials, before any sample', async () => {
    const clock = manualClock(WATCH_START);
    const base = {
      checks: parseChecks(CHECKS),
      durationMs: 60_000,
      intervalMs: 30_000,
      failureLimit: 0,
      inconclusiveLimit: 0,
      requestTimeoutMs: 1000,
      clock,
      logger: recordingLogger(),
    };
    await expect(runMonitor(base)).rejects.toThrow(/Check "5xx rate" has a "query" but "prometheus-url" is not set/);
    await expect(runMonitor({ ...base, prometheus: { url: 'https://user:pw@prom.example.com' } })).rejects.toThrow(
      /"prometheus-url" has credentials in it \(prom\.example\.com\)/,
    );
    expect(clock.elapsed()).toBe(0);
  });
});
