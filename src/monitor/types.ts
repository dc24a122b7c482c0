// The monitor's vocabulary: a check (what to read and the threshold it must hold), a reading (what
// one request returned), a sample (a reading judged at a moment) and the report the action outputs.

export interface Threshold {
  /** The value must not be above this. */
  max?: number;
  /** The value must not be below this. */
  min?: number;
}

export interface PrometheusSource {
  kind: 'prometheus';
  /** PromQL, evaluated as an instant query. */
  query: string;
}

export interface CloudWatchSource {
  kind: 'cloudwatch';
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  /** Average, Sum, Maximum, p99 ... */
  stat: string;
  /** Seconds; CloudWatch's aggregation period for the statistic. */
  periodSeconds: number;
}

export interface Check {
  name: string;
  source: PrometheusSource | CloudWatchSource;
  threshold: Threshold;
}

/** What one request for one check returned: a number, or why there is none. */
export type Reading =
  | { kind: 'value'; value: number }
  /** The source answered but holds no number (no series, no datapoint, NaN, ±Inf). */
  | { kind: 'no-data'; reason: string }
  /** The source did not answer usefully (unreachable, timeout, 5xx, a query it rejects). */
  | { kind: 'error'; reason: string };

export type Verdict = 'pass' | 'fail' | 'no-data' | 'error';

export interface Sample {
  /** ISO 8601 time the sample was taken. */
  at: string;
  /** The number read; null when there was none. */
  value: number | null;
  verdict: Verdict;
  /** Why it did not pass: "above max 0.05", or what the source said (no series, a timeout, an HTTP 500). */
  message?: string;
}

export type CheckOutcome = 'passed' | 'failed' | 'inconclusive' | 'stopped';

export interface CheckReport {
  name: string;
  /** `prometheus: <query>` or `cloudwatch: <namespace> <metric> ...`, for tables and logs. */
  source: string;
  threshold: Threshold;
  /** passed; failed (past failure-limit); inconclusive (past inconclusive-limit); stopped (another check ended the watch). */
  outcome: CheckOutcome;
  failures: number;
  inconclusive: number;
  samples: Sample[];
}

export interface MonitorReport {
  passed: boolean;
  /** The message that failed the watch, naming the check, value, threshold and time; undefined when passed. */
  failure?: string;
  startedAt: string;
  endedAt: string;
  /** How many rounds of samples were taken. */
  rounds: number;
  checks: CheckReport[];
}
