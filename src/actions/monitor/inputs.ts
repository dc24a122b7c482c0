import { ConfigurationError } from '../../common/errors.js';
import { parseChecks } from '../../monitor/checks.js';
import type { MonitorOptions } from '../../monitor/run.js';
import { headerSecrets, parseHeaders } from '../../smoke/headers.js';
import { custom, duration, integer, secret, splitLines, text, type ParsedInputs } from '../common/inputs.js';

/** The monitor action's inputs as action.yml declares them. */
export const inputs = {
  /** The checks: a YAML list, each with a name, one source and a threshold. */
  checks: custom(
    'checks',
    (value, name) => {
      if (value === undefined) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
      return parseChecks(value, name);
    },
    { required: true },
  ),
  /** Base URL of Prometheus or a compatible API; needed for `query` checks. */
  prometheusUrl: text('prometheus-url'),
  /** Sent as `Authorization: Bearer <token>`. */
  prometheusToken: secret('prometheus-token'),
  /** Extra request headers (a tenant header, say); their values are masked. */
  prometheusHeaders: custom('prometheus-headers', (value, name) => parseHeaders(splitLines(value ?? ''), name), {
    secret: true,
    derive: headerSecrets,
  }),
  /** How long to watch. */
  durationMs: duration('duration', '5m', { min: 1 }),
  /** Time between samples. */
  intervalMs: duration('interval', '30s', { min: 1 }),
  /** Failing samples tolerated per check. */
  failureLimit: integer('failure-limit', { min: 0, max: 1000, default: 0 }),
  /** Samples without data or with a query error tolerated per check. */
  inconclusiveLimit: integer('inconclusive-limit', { min: 0, max: 1000, default: 0 }),
  /** Longest wait for one answer from Prometheus or CloudWatch. */
  requestTimeoutMs: duration('request-timeout', '10s', { min: 1 }),
  /** Region of the CloudWatch metrics; AWS_REGION when empty. */
  awsRegion: text('aws-region'),
};

export type MonitorInputs = ParsedInputs<typeof inputs>;

/**
 * What the inputs must give together, as runMonitor takes them: one way to authenticate to
 * Prometheus, and a region for any CloudWatch check.
 */
export function monitorOptions(given: MonitorInputs): Omit<MonitorOptions, 'clock' | 'logger'> {
  const { checks, prometheusUrl: url, prometheusToken: token, prometheusHeaders: headers } = given;
  if (token && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    throw new ConfigurationError(`Give "prometheus-token" or an Authorization line in "prometheus-headers", not both.`);
  }
  const region = given.awsRegion ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const cloudwatchCheck = checks.find((check) => check.source.kind === 'cloudwatch');
  if (cloudwatchCheck && !region) {
    throw new ConfigurationError(
      `Check "${cloudwatchCheck.name}" reads CloudWatch but no region is known: set "aws-region" (or AWS_REGION, as aws-actions/configure-aws-credentials does).`,
    );
  }
  return {
    checks,
    prometheus: url ? { url, token, headers } : undefined,
    cloudwatch: { region },
    durationMs: given.durationMs,
    intervalMs: given.intervalMs,
    failureLimit: given.failureLimit,
    inconclusiveLimit: given.inconclusiveLimit,
    requestTimeoutMs: given.requestTimeoutMs,
  };
}
