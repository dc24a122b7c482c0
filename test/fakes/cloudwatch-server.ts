import { startHttpFake, type HttpFake, type RecordedRequest, type Reply } from './http-fake.js';

/**
 * A local stand-in for CloudWatch's GetMetricData, for the tests and the demo: the real
 * CloudWatchClient talks to it through `endpoint` (or AWS_ENDPOINT_URL_CLOUDWATCH). The protocol is
 * AWS JSON 1.0: POST /, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, a JSON body
 * whose times are epoch seconds, and errors as `{"__type", "message"}` with a 4xx.
 *
 * Datapoints are plain data the caller puts per metric (namespace, name, dimensions); a query
 * gets those inside its [StartTime, EndTime) window, newest first when ScanBy asks for it, as
 * CloudWatch answers. The statistic is not recomputed: a datapoint is the value of whatever
 * statistic was asked for.
 *
 * No jest here: the demo imports this file too.
 */

const TARGET = 'GraniteServiceVersion20100801.GetMetricData';

export interface MetricKey {
  namespace: string;
  metric: string;
  dimensions?: Record<string, string>;
}

export interface Datapoint {
  /** Epoch milliseconds. */
  at: number;
  value: number;
}

export interface CloudWatchFault {
  status: number;
  type: string;
  message: string;
}

interface MetricDataQuery {
  Id: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> };
    Period: number;
    Stat: string;
  };
}

export interface GetMetricDataCall {
  target: string;
  authorization: string;
  /** The window asked for, epoch milliseconds. */
  start: number;
  end: number;
  queries: MetricDataQuery[];
  scanBy?: string;
}

/** Datapoints computed at each request from the window asked for (live figures, a late publisher). */
export type PointSource = (window: { start: number; end: number }) => Datapoint[] | Promise<Datapoint[]>;

export interface FakeCloudWatch {
  url: string;
  calls: GetMetricDataCall[];
  /** Adds datapoints to a metric (a function computes them at each request, for live figures). */
  put(metric: MetricKey, points: Datapoint[] | PointSource): void;
  /** The next requests get these errors, in order. */
  fail(...faults: CloudWatchFault[]): void;
  /** Accept requests and never answer, until set back to false. */
  hang(on: boolean): void;
  http: HttpFake;
  close(): Promise<void>;
}

function keyOf(metric: MetricKey): string {
  const dimensions = Object.entries(metric.dimensions ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`);
  return `${metric.namespace}|${metric.metric}|${dimensions.join(',')}`;
}

export async function startFakeCloudWatch(): Promise<FakeCloudWatch> {
  const metrics = new Map<string, Array<Datapoint[] | PointSource>>();
  const faults: CloudWatchFault[] = [];
  const calls: GetMetricDataCall[] = [];
  let hanging = false;

  async function handle(request: RecordedRequest): Promise<Reply> {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (request.method !== 'POST' || target !== TARGET)
      return error(400, 'UnknownOperationException', `this fake speaks ${TARGET} only, not "${target}"`);
    const body = request.json as {
      StartTime: number;
      EndTime: number;
      MetricDataQueries: MetricDataQuery[];
      ScanBy?: string;
    };
    const call: GetMetricDataCall = {
      target,
      authorization: String(request.headers.authorization ?? ''),
      start: body.StartTime * 1000,
      end: body.EndTime * 1000,
      queries: body.MetricDataQueries,
      scanBy: body.ScanBy,
    };
    calls.push(call);
    if (hanging) return new Promise<Reply>(() => undefined);
    const fault = faults.shift();
    if (fault) return error(fault.status, fault.type, fault.message);
    const results = await Promise.all(
      call.queries.map(async (query) => {
        const stat = query.MetricStat!;
        const key = keyOf({
          namespace: stat.Metric.Namespace,
          metric: stat.Metric.MetricName,
          dimensions: Object.fromEntries((stat.Metric.Dimensions ?? []).map((entry) => [entry.Name, entry.Value])),
        });
        const window = { start: call.start, end: call.end };
        const sources = await Promise.all(
          (metrics.get(key) ?? []).map((source) =>
            typeof source === 'function' ? Promise.resolve(source(window)) : Promise.resolve(source),
          ),
        );
        const points = sources
          .flat()
          .filter((point) => point.at >= call.start && point.at < call.end)
          .sort((a, b) => (call.scanBy === 'TimestampAscending' ? a.at - b.at : b.at - a.at));
        return {
          Id: query.Id,
          Label: stat.Metric.MetricName,
          Timestamps: points.map((point) => point.at / 1000),
          Values: points.map((point) => point.value),
          StatusCode: 'Complete',
        };
      }),
    );
    return {
      status: 200,
      body: { MetricDataResults: results, Messages: [] },
      headers: { 'content-type': 'application/x-amz-json-1.0' },
    };
  }

  const http = await startHttpFake(handle);
  return {
    url: http.url,
    calls,
    put(metric, points) {
      const key = keyOf(metric);
      metrics.set(key, [...(metrics.get(key) ?? []), points]);
    },
    fail: (...list) => void faults.push(...list),
    hang: (on) => void (hanging = on),
    http,
    close: () => http.close(),
  };
}

function error(status: number, type: string, message: string): Reply {
  return {
    status,
    body: { __type: `com.amazonaws.cloudwatch#${type}`, message },
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};Sender` },
  };
}
