import { actionDefaults, runBundle } from '../helpers/run-bundle.js';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus-server.js';
import { startFakeCloudWatch, type FakeCloudWatch } from '../fakes/cloudwatch-server.js';

// dist/monitor/index.js run as the runner runs it: Node 24, INPUT_* with the action.yml defaults,
// against a local Prometheus API and a local CloudWatch endpoint. The bundle runs on the real
// clock, so these watches are short; the timing behaviour is proven in test/monitor/ on a manual clock.
const TOKEN = 'prom-token-7f3a9c2e';
const TENANT = 'tenant-secret-4411';
const ERRORS = 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))';
const LATENCY = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))';
const CHECKS = `
- name: 5xx rate
  query: '${ERRORS}'
  max: 0.05
- name: p99 latency
  query: '${LATENCY}'
  max: 0.5
`;

let prometheus: FakePrometheus;
let cloudwatch: FakeCloudWatch;
beforeAll(async () => {
  prometheus = await startFakePrometheus({ token: TOKEN, requiredHeaders: { 'X-Scope-OrgID': TENANT } });
  cloudwatch = await startFakeCloudWatch();
});
afterAll(async () => {
  await prometheus.close();
  await cloudwatch.close();
});

const visible = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

function monitor(inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runBundle('monitor', {
    inputs: {
      ...actionDefaults('monitor'),
      'prometheus-url': prometheus.url,
      'prometheus-token': TOKEN,
      'prometheus-headers': `X-Scope-OrgID: ${TENANT}`,
      duration: '1s',
      interval: '250ms',
      'request-timeout': '2s',
      ...inputs,
    },
    env,
  });
}

describe('monitor bundle', () => {
  it('passes healthy checks after the duration, with the samples in results and a chart in the summary', async () => {
    prometheus.script(ERRORS, [0.01, 0.012, 0.011, 0.01, 0.009]);
    prometheus.script(LATENCY, [0.21]);
    const before = prometheus.queries.length;
    const run = await monitor({ checks: CHECKS });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.passed).toBe('true');
    expect(run.outputs.failure).toBe('');
    const results = JSON.parse(run.outputs.results) as Array<{
      name: string;
      outcome: string;
      samples: Array<{ at: string; value: number; verdict: string }>;
    }>;
    expect(results.map((check) => [check.name, check.outcome, check.samples.length])).toEqual([
      ['5xx rate', 'passed', 5],
      ['p99 latency', 'passed', 5],
    ]);
    expect(results[0].samples.map((sample) => sample.value)).toEqual([0.01, 0.012, 0.011, 0.01, 0.009]);
    expect(prometheus.queries.length - before).toBe(10);
    expect(prometheus.queries.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(run.summary).toContain('xychart-beta');
    expect(run.summary).toContain('  line [0.01, 0.012, 0.011, 0.01, 0.009]');
    expect(run.stdout).toContain('::group::Metric samples');
    expect(run.stdout).toMatch(/Sample 5\/5 at \d\d:\d\d:\d\dZ: 5xx rate 0\.009 ok; p99 latency 0\.21 ok/);
    // Masked for the runner's log, and never written anywhere in the clear.
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(run.stdout).toContain(`::add-mask::${TENANT}`);
    expect(visible(run.everything)).not.toContain(TOKEN);
    expect(visible(run.everything)).not.toContain(TENANT);
  });

  it('fails at the breaching sample, naming the check, value, threshold and time, and keeps the samples', async () => {
    prometheus.script(ERRORS, [0.01, 0.02, 0.3, 0.01]);
    prometheus.script(LATENCY, [0.21]);
    const run = await monitor({ checks: CHECKS, duration: '1m', interval: '100ms' });
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Monitor failed on sample 3 of 601, .* into a 1m 0s watch: 5xx rate: 0\.3 at \d\d:\d\d:\d\dZ, above max 0\.05 \(1 failing sample, failure-limit 0\)$/,
    );
    expect(run.outputs.failure).toBe(run.errors[0]);
    const results = JSON.parse(run.outputs.results) as Array<{ outcome: string; samples: unknown[] }>;
    expect(results.map((check) => check.outcome)).toEqual(['failed', 'stopped']);
    expect(results[0].samples).toHaveLength(3);
    // The breach ends the watch as it arrives: the other check's third answer may not be in yet.
    expect([2, 3]).toContain(results[1].samples.length);
    expect(run.summary).toContain('❌ Monitor failed on sample 3 of 601');
    expect(run.summary).toContain('<td>0.3</td><td>❌ fail</td><td>above max 0.05</td>');
  });

  it('fails on no data, naming the URL and not the token', async () => {
    const run = await monitor({ checks: `- name: queue depth\n  query: 'sum(ticket_queue_depth)'\n  max: 100` });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain(`queue depth: no data at `);
    expect(run.errors[0]).toContain(`(the query returned no series from ${prometheus.url}/api/v1/query)`);
    expect(visible(run.everything)).not.toContain(TOKEN);
  });

  it.each([
    ['a check with no threshold', { checks: `- name: 5xx rate\n  query: up` }, /check "5xx rate" has no threshold/],
    [
      'an unknown key',
      { checks: `- name: 5xx rate\n  query: up\n  threshold: 1` },
      /check "5xx rate" has unknown key\(s\) "threshold"/,
    ],
    [
      'interval longer than duration',
      { checks: CHECKS, interval: '2m', duration: '1m' },
      /"interval" \(2m 0s\) is longer than "duration"/,
    ],
    [
      'malformed YAML',
      { checks: `${CHECKS}- name: RDS connections\n  query: [unclosed\n  max: 80` },
      /^Input "checks" is not valid YAML: check "RDS connections" \(line 9\): Flow sequence in block collection/,
    ],
    [
      'a bad failure-limit',
      { checks: CHECKS, 'failure-limit': 'some' },
      /Input "failure-limit" is "some": it must be a whole number/,
    ],
    [
      'a CloudWatch check without a region',
      {
        checks: `- name: RDS connections\n  cloudwatch: { namespace: AWS/RDS, metric: DatabaseConnections }\n  max: 80`,
        interval: '1m',
        duration: '5m',
      },
      /Check "RDS connections" reads CloudWatch but no region is known: set "aws-region"/,
    ],
  ])('refuses %s before any query, with every output set', async (_case, inputs, message) => {
    const before = prometheus.queries.length;
    const run = await monitor(inputs);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(message);
    expect(run.outputs).toMatchObject({ passed: 'false', results: '[]', failure: '' });
    expect(prometheus.queries.length).toBe(before);
  });

  it('reads CloudWatch through AWS_ENDPOINT_URL_CLOUDWATCH with the job credentials, and escapes names in the summary', async () => {
    const dimensions = { DBInstanceIdentifier: 'tickettoken-production' };
    cloudwatch.put({ namespace: 'AWS/RDS', metric: 'DatabaseConnections', dimensions }, ({ end }) => [
      { at: end - 1500, value: 42 },
    ]);
    const run = await monitor(
      {
        checks: `- name: "RDS <connections>"\n  cloudwatch:\n    namespace: AWS/RDS\n    metric: DatabaseConnections\n    dimensions: { DBInstanceIdentifier: tickettoken-production }\n    stat: Maximum\n    period: 1s\n  max: 80`,
        'prometheus-url': '',
        duration: '2s',
        interval: '1s',
        'aws-region': 'eu-west-1',
      },
      {
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret-for-the-local-server',
        AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const [check] = JSON.parse(run.outputs.results) as Array<{ samples: Array<{ value: number }> }>;
    expect(check.samples.map((sample) => sample.value)).toEqual([42, 42, 42]);
    expect(cloudwatch.calls.at(-1)?.authorization).toMatch(/eu-west-1\/monitoring\/aws4_request/);
    expect(run.summary).toContain('&lt;connections&gt;');
    expect(run.summary).not.toContain('<connections>');
  });

  it('gives up on a Prometheus that never answers after request-timeout, naming the URL', async () => {
    prometheus.script(ERRORS, [{ hang: true }]);
    prometheus.script(LATENCY, [0.2]);
    const run = await monitor({ checks: CHECKS, 'request-timeout': '300ms', duration: '1m', interval: '1s' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain(`5xx rate: query error at `);
    expect(run.errors[0]).toContain(`(no answer within 300ms from ${prometheus.url}/api/v1/query)`);
    expect(run.errors[0]).toMatch(/^Monitor failed on sample 1 of 61/);
  });
});
