import { ConfigurationError } from '../../src/common/errors.js';
import { describeSource, parseChecks, validateSchedule } from '../../src/monitor/checks.js';

const minute = 60_000;

function error(run: () => unknown): Error {
  try {
    run();
  } catch (caught) {
    return caught as Error;
  }
  throw new Error('expected an error');
}

describe('parseChecks', () => {
  it('reads Prometheus and CloudWatch checks with their thresholds and CloudWatch defaults', () => {
    const checks = parseChecks(`
- name: 5xx rate
  query: sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
  max: 0.05
- name: RDS connections
  cloudwatch:
    namespace: AWS/RDS
    metric: DatabaseConnections
    dimensions: { DBInstanceIdentifier: tickettoken-production }
  max: 80
  min: "1"
- name: p99 latency
  cloudwatch: { namespace: AWS/ApplicationELB, metric: TargetResponseTime, stat: p99, period: 5m }
  max: 0.5
`);
    expect(checks).toEqual([
      {
        name: '5xx rate',
        source: {
          kind: 'prometheus',
          query: 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
        },
        threshold: { max: 0.05 },
      },
      {
        name: 'RDS connections',
        source: {
          kind: 'cloudwatch',
          namespace: 'AWS/RDS',
          metric: 'DatabaseConnections',
          dimensions: { DBInstanceIdentifier: 'tickettoken-production' },
          stat: 'Average',
          periodSeconds: 60,
        },
        threshold: { max: 80, min: 1 },
      },
      {
        name: 'p99 latency',
        source: {
          kind: 'cloudwatch',
          namespace: 'AWS/ApplicationELB',
          metric: 'TargetResponseTime',
          dimensions: {},
          stat: 'p99',
          periodSeconds: 300,
        },
        threshold: { max: 0.5 },
      },
    ]);
    expect(describeSource(checks[1])).toBe(
      'cloudwatch: AWS/RDS DatabaseConnections {DBInstanceIdentifier=tickettoken-production} Average/60s',
    );
  });

  it.each([
    ['a check with no threshold', '- name: 5xx rate\n  query: up', /check "5xx rate" has no threshold: give "max"/],
    [
      'an unknown key',
      '- name: 5xx rate\n  query: up\n  maximum: 1',
      /check "5xx rate" has unknown key\(s\) "maximum"\. Valid keys are: \[name, query, cloudwatch, max, min\]/,
    ],
    [
      'an unknown cloudwatch key',
      '- name: conns\n  cloudwatch: { namespace: AWS/RDS, metric: DatabaseConnections, dimension: {} }\n  max: 1',
      /check "conns": "cloudwatch" has unknown key\(s\) "dimension"/,
    ],
    ['a mapping instead of a list', 'name: 5xx rate\nquery: up\nmax: 1', /must be a YAML list of checks/],
    ['an empty list', '[]', /must be a YAML list of checks/],
    ['a check without a name', '- query: up\n  max: 1', /check #1 has no "name"/],
    ['a check that is not a mapping', '- up', /check #1 is not a mapping/],
    ['no source', '- name: errors\n  max: 1', /check "errors" has no source: give "query"/],
    [
      'two sources',
      '- name: errors\n  query: up\n  cloudwatch: { namespace: a, metric: b }\n  max: 1',
      /check "errors" has both "query" and "cloudwatch"/,
    ],
    [
      'a threshold that is not a number',
      '- name: errors\n  query: up\n  max: lots',
      /check "errors": "max" is "lots", not a number/,
    ],
    ['min above max', '- name: errors\n  query: up\n  max: 1\n  min: 2', /"min" 2 is above "max" 1/],
    [
      'duplicate names',
      '- name: errors\n  query: up\n  max: 1\n- name: errors\n  query: down\n  max: 1',
      /two checks are named "errors"/,
    ],
    [
      'a CloudWatch check without a metric',
      '- name: conns\n  cloudwatch: { namespace: AWS/RDS }\n  max: 1',
      /check "conns": "cloudwatch.metric" is required/,
    ],
    [
      'an unknown statistic',
      '- name: conns\n  cloudwatch: { namespace: AWS/RDS, metric: X, stat: Mean }\n  max: 1',
      /"cloudwatch.stat" is "Mean"\. Valid values are: \[SampleCount, Average, Sum, Minimum, Maximum, IQM\] or a percentile/,
    ],
    [
      'a period CloudWatch does not accept',
      '- name: conns\n  cloudwatch: { namespace: AWS/RDS, metric: X, period: 90s }\n  max: 1',
      /"cloudwatch.period" is "90s": it must be 1s, 5s, 10s, 20s, 30s or a multiple of 60s/,
    ],
  ])('refuses %s with an error naming the check', (_case, text, message) => {
    const caught = error(() => parseChecks(text));
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect(caught.message).toMatch(message);
  });

  it.each([
    [
      'an unclosed flow sequence in the first check',
      '- name: 5xx rate\n  query: [unclosed\n  max: 1',
      'check "5xx rate" (line 3): Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a mis-indented key in the second check',
      '- name: p99 latency\n  query: up\n  max: 1\n- name: 5xx rate\n  query: up\n  max: 1\n   min: 2',
      'check "5xx rate" (line 6): Nested mappings are not allowed in compact mappings',
    ],
    [
      'an unterminated quote in a check with no name yet',
      '- name: errors\n  query: up\n  max: 1\n- query: "unterminated\n  max: 2',
      'check #2 (line 5): Missing closing "quote',
    ],
    [
      'a name that is itself broken',
      '- name: [oops',
      'check #1 (line 1): Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a duplicated key',
      '- name: errors\n  query: up\n  max: 1\n  max: 2',
      'check "errors" (line 4): Map keys must be unique',
    ],
  ])('names the check and the line of malformed YAML: %s', (_case, text, where) => {
    const caught = error(() => parseChecks(text));
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect(caught.message.split('\n')[0]).toBe(`Input "checks" is not valid YAML: ${where}. Write each check as:`);
  });

  it('gives the line of malformed YAML that is not a list of checks', () => {
    expect(error(() => parseChecks('name: [x\nmax: 1')).message).toMatch(
      /^Input "checks" is not valid YAML: line 2: Flow sequence in block collection/,
    );
  });

  it('accepts percentiles and periods in seconds', () => {
    const [check] = parseChecks(
      '- name: p\n  cloudwatch: { namespace: N, metric: M, stat: p99.9, period: 300 }\n  min: 0',
    );
    expect(check.source).toMatchObject({ stat: 'p99.9', periodSeconds: 300 });
  });
});

describe('validateSchedule', () => {
  const prometheus = parseChecks('- name: errors\n  query: up\n  max: 1');
  const cloudwatch = parseChecks(
    '- name: RDS connections\n  cloudwatch: { namespace: AWS/RDS, metric: M, period: 5m }\n  max: 1',
  );

  it('refuses an interval longer than the duration, naming both inputs', () => {
    expect(() => validateSchedule(prometheus, { durationMs: minute, intervalMs: 2 * minute })).toThrow(
      /Input "interval" \(2m 0s\) is longer than "duration" \(1m 0s\)/,
    );
  });

  it("refuses an interval shorter than a CloudWatch check's period, naming the check", () => {
    expect(() => validateSchedule(cloudwatch, { durationMs: 30 * minute, intervalMs: minute })).toThrow(
      /Check "RDS connections": "interval" \(1m 0s\) is shorter than its CloudWatch period \(5m 0s\).*at least 5m 0s/,
    );
    expect(() => validateSchedule(cloudwatch, { durationMs: 30 * minute, intervalMs: 5 * minute })).not.toThrow();
  });

  it('refuses a watch of more than 1000 samples per check', () => {
    expect(() => validateSchedule(prometheus, { durationMs: 24 * 60 * minute, intervalMs: 1000 })).toThrow(
      /makes 86401 samples per check; at most 1000/,
    );
  });

  it('accepts an interval equal to the duration', () => {
    expect(() => validateSchedule(prometheus, { durationMs: minute, intervalMs: minute })).not.toThrow();
  });
});
