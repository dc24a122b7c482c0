import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { formatDuration } from '../common/duration.js';
import { errorMessage } from '../common/errors.js';
import type { CloudWatchSource, Reading } from './types.js';

export interface CloudWatchOptions {
  /** Default: the SDK's chain (AWS_REGION, the profile). */
  region?: string;
  /** Default: the SDK's (AWS_ENDPOINT_URL_CLOUDWATCH, or CloudWatch's regional endpoint). */
  endpoint?: string;
  /** Longest wait for one answer, retries included. */
  requestTimeoutMs: number;
}

/**
 * CloudWatch publishes a period's datapoint after the period ends, often a minute or two later:
 * reading only the current period would see "no data" on a healthy metric. So each sample reads
 * the newest datapoint within the last LOOKBACK_PERIODS periods.
 */
export const LOOKBACK_PERIODS = 3;

/** `stop` aborts the request when its answer is no longer wanted (another check ended the watch). */
export type CloudWatchReader = (source: CloudWatchSource, now: number, stop?: AbortSignal) => Promise<Reading>;

/** One client for the whole watch; each read is one GetMetricData with the job's AWS credentials. */
export function createCloudWatchReader(options: CloudWatchOptions): { read: CloudWatchReader; close(): void } {
  const client = new CloudWatchClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    retryMode: 'standard',
    maxAttempts: 3,
  });
  const where = async (): Promise<string> => {
    const region = await client.config.region().catch(() => undefined);
    return `CloudWatch GetMetricData${region ? ` in ${region}` : ''}`;
  };
  const read: CloudWatchReader = async (source, now, stop) => {
    const periodMs = source.periodSeconds * 1000;
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
    try {
      const answer = await client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - LOOKBACK_PERIODS * periodMs),
          EndTime: new Date(now),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            {
              Id: 'm0',
              ReturnData: true,
              MetricStat: {
                Metric: {
                  Namespace: source.namespace,
                  MetricName: source.metric,
                  Dimensions: Object.entries(source.dimensions).map(([Name, Value]) => ({ Name, Value })),
                },
                Period: source.periodSeconds,
                Stat: source.stat,
              },
            },
          ],
        }),
        { abortSignal: signal },
      );
      const result = answer.MetricDataResults?.find((entry) => entry.Id === 'm0');
      const problem = [...(answer.Messages ?? []), ...(result?.Messages ?? [])].find((message) => message.Code);
      if (result?.StatusCode === 'InternalError' || (problem && !result?.Values?.length)) {
        return {
          kind: 'error',
          reason: `${problem?.Code ?? 'InternalError'}: ${problem?.Value ?? ''} from ${await where()}`,
        };
      }
      const points = (result?.Timestamps ?? []).map((time, index) => ({ time, value: result?.Values?.[index] }));
      const newest = points
        .filter((point): point is { time: Date; value: number } => point.value !== undefined)
        .sort((a, b) => b.time.getTime() - a.time.getTime())[0];
      if (!newest) {
        return {
          kind: 'no-data',
          reason: `no datapoint in the last ${LOOKBACK_PERIODS} periods (${formatDuration(LOOKBACK_PERIODS * periodMs)}) from ${await where()}`,
        };
      }
      return { kind: 'value', value: newest.value };
    } catch (error) {
      if (stop?.aborted) return { kind: 'error', reason: `stopped before ${await where()} answered` };
      if (timeout.aborted)
        return { kind: 'error', reason: `no answer within ${options.requestTimeoutMs}ms from ${await where()}` };
      const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
      const hint = /AccessDenied|not authorized/i.test(errorMessage(error))
        ? ' (the job role needs cloudwatch:GetMetricData)'
        : '';
      return { kind: 'error', reason: `${name}${errorMessage(error)} from ${await where()}${hint}` };
    }
  };
  return { read, close: () => client.destroy() };
}
