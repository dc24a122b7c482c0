import { ConfigurationError } from '../../common/errors.js';
import { parseChecks } from '../../monitor/checks.js';
import type { MonitorOptions } from '../../monitor/run.js';
import { parseHeaders } from '../../smoke/headers.js';
import { getDuration, getInteger, getLines, getRequired, getSecret, getString } from '../common/inputs.js';
import { Inputs } from './constants.js';

export type MonitorInputs = Omit<MonitorOptions, 'clock' | 'logger'> & {
  /** Strings to scrub from every message: the token and the header values. */
  secrets: string[];
};

export function getInputs(): MonitorInputs {
  // Secrets first, so that nothing below (an error quoting a header line, say) can print them.
  const token = getSecret(Inputs.PrometheusToken);
  const headerLines = getLines(Inputs.PrometheusHeaders);
  const headers = parseHeaders(headerLines, Inputs.PrometheusHeaders);
  const secrets = [token ?? '', ...Object.values(headers)].filter((value) => value.length >= 3);
  if (token && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    throw new ConfigurationError(
      `Give "${Inputs.PrometheusToken}" or an Authorization line in "${Inputs.PrometheusHeaders}", not both.`,
    );
  }
  const checks = parseChecks(getRequired(Inputs.Checks), Inputs.Checks);
  const url = getString(Inputs.PrometheusUrl);
  const region = getString(Inputs.AwsRegion) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const cloudwatchCheck = checks.find((check) => check.source.kind === 'cloudwatch');
  if (cloudwatchCheck && !region) {
    throw new ConfigurationError(
      `Check "${cloudwatchCheck.name}" reads CloudWatch but no region is known: set "${Inputs.AwsRegion}" (or AWS_REGION, as aws-actions/configure-aws-credentials does).`,
    );
  }
  return {
    checks,
    prometheus: url ? { url, token, headers } : undefined,
    cloudwatch: { region },
    durationMs: getDuration(Inputs.Duration, '5m', { min: 1 }),
    intervalMs: getDuration(Inputs.Interval, '30s', { min: 1 }),
    failureLimit: getInteger(Inputs.FailureLimit, { min: 0, max: 1000 }) ?? 0,
    inconclusiveLimit: getInteger(Inputs.InconclusiveLimit, { min: 0, max: 1000 }) ?? 0,
    requestTimeoutMs: getDuration(Inputs.RequestTimeout, '10s', { min: 1 }),
    secrets,
  };
}
