import net, { type AddressInfo } from 'node:net';
import { silentLogger } from '../../src/common/logger.js';
import { parseChecks } from '../../src/monitor/checks.js';
import { createCloudWatchReader } from '../../src/monitor/cloudwatch.js';
import { runMonitor } from '../../src/monitor/run.js';
import type { CloudWatchSource } from '../../src/monitor/types.js';
import { startFakeCloudWatch, type FakeCloudWatch } from '../fakes/cloudwatch-server.js';
import { manualClock } from '../helpers/manual-clock.js';

// The real CloudWatchClient (AWS JSON 1.0, SigV4) against a local GetMetricData endpoint.
const RDS = {
  namespace: 'AWS/RDS',
  metric: 'DatabaseConnections',
  dimensions: { DBInstanceIdentifier: 'tickettoken-production' },
};
const CHECKS = `
- name: RDS connections
  cloudwatch:
    namespace: AWS/RDS
    metric: DatabaseConnections
    dimensions: { DBInstanceIdentifier: tickettoken-production }
    stat: Maximum
    period: 60
  max: 80
`;
const minute = 60_000;
// A real date: the watch asks CloudWatch for datapoints by timestamp.
const WATCH_START = Date.parse('2026-11-29T03:10:00Z');

let cloudwatch: FakeCloudWatch;
const saved = { ...process.env };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-the-local-server';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterAll(() => {
  process.env = saved;
});
beforeEach(async () => {
  cloudwatch = await startFakeCloudWatch();
});
afterEach(() => cloudwatch.close());

function source(): CloudWatchSource {
  return parseChecks(CHECKS)[0].source as CloudWatchSource;
}

describe('CloudWatch GetMetricData through the SDK', () => {
  it('asks for the last three periods, newest first, and reads the newest datapoint', async () => {
    const now = Date.parse('2026-11-29T03:10:00Z');
    cloudwatch.put(RDS, [
      { at: now - 4 * minute, value: 99 },
      { at: now - 150_000, value: 40 },
      { at: now - 90_000, value: 42 },
    ]);
    const reader = createCloudWatchReader({ region: 'eu-west-1', endpoint: cloudwatch.url, requestTimeoutMs: 5000 });
    try {
      expect(await reader.read(source(), now)).toEqual({ kind: 'value', value: 42 });
    } finally {
      reader.close();
    }
    const [call] = cloudwatch.calls;
    expect(call.target).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(call.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/monitoring\/aws4_request/,
    );
    expect([call.start, call.end]).toEqual([now - 3 * minute, now]);
    expect(call.scanBy).toBe('TimestampDescending');
    expect(call.queries).toEqual([
      {
        Id: 'm0',
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: 'DatabaseConnections',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'tickettoken-production' }],
          },
          Period: 60,
          Stat: 'Maximum',
        },
      },
    ]);
  });

  it('is no data when the newest datapoint is older than three periods', async () => {
    const now = Date.parse('2026-11-29T03:10:00Z');
    cloudwatch.put(RDS, [{ at: now - 4 * minute, value: 12 }]);
    const reader = createCloudWatchReader({ region: 'eu-west-1', endpoint: cloudwatch.url, requestTimeoutMs: 5000 });
    try {
      expect(await reader.read(source(), now)).toEqual({
        kind: 'no-data',
        reason: 'no datapoint in the last 3 periods (3m 0s) from CloudWatch GetMetricData in eu-west-1',
      });
    } finally {
      reader.close();
    }
  });

  it('watches RDS connections and fails fast on a breach, naming the check, value and threshold', async () => {
    const clock = manualClock(WATCH_START);
    const start = clock.now();
    // A datapoint a minute, published a minute late, as CloudWatch does: 30, 35, then 95 connections.
    const series = [30, 35, 95, 40, 40, 40];
    cloudwatch.put(RDS, ({ end }) =>
      series
        .map((value, index) => ({ at: start - minute + index * minute, value }))
        .filter((point) => point.at <= end - minute),
    );
    const report = await runMonitor({
      checks: parseChecks(CHECKS),
      cloudwatch: { region: 'eu-west-1', endpoint: cloudwatch.url },
      durationMs: 5 * minute,
      intervalMs: minute,
      failureLimit: 0,
      inconclusiveLimit: 0,
      requestTimeoutMs: 5000,
      clock,
      logger: silentLogger,
    });
    expect(report.passed).toBe(false);
    expect(report.checks[0].samples.map((sample) => sample.value)).toEqual([30, 35, 95]);
    expect(report.failure).toContain(
      'RDS connections: 95 at 03:12:00Z, above max 80 (1 failing sample, failure-limit 0)',
    );
    expect(clock.elapsed()).toBe(2 * minute);
    expect(cloudwatch.calls).toHaveLength(3);
  });

  it('reports an access denial as a query error with the permission the role needs', async () => {
    cloudwatch.fail({
      status: 400,
      type: 'AccessDenied',
      message:
        'User: arn:aws:sts::123456789012:assumed-role/rollback is not authorized to perform: cloudwatch:GetMetricData',
    });
    const reader = createCloudWatchReader({ region: 'eu-west-1', endpoint: cloudwatch.url, requestTimeoutMs: 5000 });
    try {
      const reading = await reader.read(source(), Date.now());
      expect(reading.kind).toBe('error');
      expect(reading.kind === 'error' && reading.reason).toMatch(
        /^AccessDenied: User: .*not authorized to perform: cloudwatch:GetMetricData from CloudWatch GetMetricData in eu-west-1 \(the job role needs cloudwatch:GetMetricData\)/,
      );
    } finally {
      reader.close();
    }
  });

  it('reads an unreachable CloudWatch (a closed port) as a query error that names it, within the request timeout', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const reader = createCloudWatchReader({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      requestTimeoutMs: 10_000,
    });
    try {
      const reading = await reader.read(source(), Date.now());
      expect(reading.kind).toBe('error');
      // The SDK retries a refused connection (maxAttempts 3), then gives up long before the timeout.
      expect(reading.kind === 'error' && reading.reason).toMatch(
        /connect ECONNREFUSED 127\.0\.0\.1:\d+ from CloudWatch GetMetricData in eu-west-1$/,
      );
    } finally {
      reader.close();
    }
  });

  it('abandons a request once the watch no longer wants its answer', async () => {
    cloudwatch.hang(true);
    const reader = createCloudWatchReader({ region: 'eu-west-1', endpoint: cloudwatch.url, requestTimeoutMs: 20_000 });
    const stop = new AbortController();
    try {
      const reading = reader.read(source(), Date.now(), stop.signal);
      stop.abort();
      expect(await reading).toEqual({
        kind: 'error',
        reason: 'stopped before CloudWatch GetMetricData in eu-west-1 answered',
      });
    } finally {
      reader.close();
    }
  });

  it('gives up on a CloudWatch that never answers after the request timeout', async () => {
    cloudwatch.hang(true);
    const reader = createCloudWatchReader({ region: 'eu-west-1', endpoint: cloudwatch.url, requestTimeoutMs: 150 });
    try {
      expect(await reader.read(source(), Date.now())).toEqual({
        kind: 'error',
        reason: 'no answer within 150ms from CloudWatch GetMetricData in eu-west-1',
      });
    } finally {
      reader.close();
    }
  });
});
