import type { Clock } from '../common/clock.js';
import { ConfigurationError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { validateSchedule } from './checks.js';
import { createCloudWatchReader, type CloudWatchOptions } from './cloudwatch.js';
import { queryEndpoint, readPrometheus, type PrometheusOptions } from './prometheus.js';
import type { Check, MonitorReport, Reading } from './types.js';
import { watch } from './watch.js';

export interface MonitorOptions {
  checks: readonly Check[];
  /** Needed when any check has a `query`. */
  prometheus?: Omit<PrometheusOptions, 'requestTimeoutMs'>;
  /** For the checks with `cloudwatch`; region and endpoint default to the SDK's chain. */
  cloudwatch?: Omit<CloudWatchOptions, 'requestTimeoutMs'>;
  durationMs: number;
  intervalMs: number;
  failureLimit: number;
  inconclusiveLimit: number;
  /** Longest wait for one answer from Prometheus or CloudWatch. */
  requestTimeoutMs: number;
  clock: Clock;
  logger: Logger;
}

/**
 * The monitor as the action, the demo and the tests run it: checks the schedule, connects each
 * check to its source and watches. Configuration mistakes throw before the first sample.
 */
export async function runMonitor(options: MonitorOptions): Promise<MonitorReport> {
  validateSchedule(options.checks, options);
  const prometheusChecks = options.checks.filter((check) => check.source.kind === 'prometheus');
  const prometheus = options.prometheus;
  if (prometheusChecks.length && !prometheus?.url) {
    throw new ConfigurationError(
      `Check "${prometheusChecks[0].name}" has a "query" but "prometheus-url" is not set: give the Prometheus server's base URL (https://prometheus.example.com).`,
    );
  }
  if (prometheus?.url) queryEndpoint(prometheus.url);
  const cloudwatch = options.checks.some((check) => check.source.kind === 'cloudwatch')
    ? createCloudWatchReader({ ...options.cloudwatch, requestTimeoutMs: options.requestTimeoutMs })
    : undefined;
  const read = (check: Check, now: number, signal: AbortSignal): Promise<Reading> => {
    if (check.source.kind === 'prometheus')
      return readPrometheus({ ...prometheus!, requestTimeoutMs: options.requestTimeoutMs }, check.source.query, signal);
    return cloudwatch!.read(check.source, now, signal);
  };
  try {
    return await watch({ ...options, read });
  } finally {
    cloudwatch?.close();
  }
}
