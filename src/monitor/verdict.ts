import type { Reading, Sample, Threshold } from './types.js';

/**
 * Judges one reading against a threshold. A value must be finite to pass: an error rate with no
 * traffic is 0/0 = NaN, and a watch that passes on NaN passes on an outage, so NaN and ±Inf are
 * "no data", never a pass.
 */
export function judge(reading: Reading, threshold: Threshold, at: number): Sample {
  const time = new Date(at).toISOString();
  if (reading.kind === 'no-data') return { at: time, value: null, verdict: 'no-data', message: reading.reason };
  if (reading.kind === 'error') return { at: time, value: null, verdict: 'error', message: reading.reason };
  const value = reading.value;
  if (!Number.isFinite(value)) {
    return { at: time, value: null, verdict: 'no-data', message: `the value is ${formatValue(value)}` };
  }
  if (threshold.max !== undefined && value > threshold.max)
    return { at: time, value, verdict: 'fail', message: `above max ${threshold.max}` };
  if (threshold.min !== undefined && value < threshold.min)
    return { at: time, value, verdict: 'fail', message: `below min ${threshold.min}` };
  return { at: time, value, verdict: 'pass' };
}

/**
 * "error rate: 0.3 at 03:12:41Z, above max 0.05", "p99 latency: no data at 03:12:41Z (the query
 * returned no series from ...)": the line a person reads in the error and the log.
 */
export function describeSample(checkName: string, sample: Sample): string {
  const when = clockTime(sample.at);
  if (sample.verdict === 'no-data' || sample.verdict === 'error') {
    const label = sample.verdict === 'no-data' ? 'no data' : 'query error';
    return `${checkName}: ${label} at ${when}${sample.message ? ` (${sample.message})` : ''}`;
  }
  const verdict = sample.verdict === 'pass' ? 'within the threshold' : (sample.message ?? '');
  return `${checkName}: ${formatValue(sample.value ?? NaN)} at ${when}, ${verdict}`;
}

/** 0.30000000000000004 -> "0.3", 1234567.891 -> "1234567.891": short, never in exponent form for everyday figures. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value !== 0 && Math.abs(value) < 1e-6) return value.toExponential(3);
  return String(Number(value.toPrecision(10)));
}

/** "2026-11-29T03:12:41.123Z" -> "03:12:41Z". */
export function clockTime(iso: string): string {
  return `${iso.slice(11, 19)}Z`;
}
