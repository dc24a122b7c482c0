import YAML from 'yaml';
import { formatDuration, parseDuration } from '../common/duration.js';
import { ConfigurationError } from '../common/errors.js';
import type { Check, CloudWatchSource, Threshold } from './types.js';

const CHECK_KEYS = ['name', 'query', 'cloudwatch', 'max', 'min'];
const CLOUDWATCH_KEYS = ['namespace', 'metric', 'dimensions', 'stat', 'period'];
const NAMED_STATS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum', 'IQM'];
/** Percentiles and the other extended statistics CloudWatch accepts: p99, p99.9, tm90, TM(10%:90%), ... */
const EXTENDED_STAT = /^(p|tm|wm|tc|ts)\d{1,2}(\.\d{1,10})?$|^(p|tm|wm|tc|ts)100$|^(TM|WM|TC|TS|PR)\(.+\)$/;
/** The most samples a check may take: the results output and the summary stay readable and small. */
export const MAX_ROUNDS = 1000;

const EXAMPLE = `- name: 5xx rate
  query: sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
  max: 0.05`;

/**
 * Parses the `checks` input: a YAML list of checks, each a name, one source (a Prometheus `query`
 * or a `cloudwatch` metric) and a threshold (`max`, `min` or both). Every mistake is a
 * ConfigurationError that names the check, so a typo is fixed before anything is watched.
 */
export function parseChecks(text: string, input = 'checks'): Check[] {
  const parsed = YAML.parseDocument(text);
  const [syntax] = parsed.errors;
  if (syntax) {
    const reason = syntax.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigurationError(
      `Input "${input}" is not valid YAML: ${locate(parsed, syntax)}: ${reason}. Write each check as:\n${EXAMPLE}`,
    );
  }
  const document: unknown = parsed.toJS();
  if (!Array.isArray(document) || document.length === 0) {
    throw new ConfigurationError(`Input "${input}" must be a YAML list of checks, such as:\n${EXAMPLE}`);
  }
  const checks = document.map((entry, index) => parseCheck(entry, index, input));
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name))
      throw new ConfigurationError(`Input "${input}": two checks are named "${check.name}"; give each a unique name.`);
    seen.add(check.name);
  }
  return checks;
}

/**
 * Where a syntax error is, in the user's terms: the check it falls in (the last list item that
 * starts before it, named by its `name` when that much parsed, else by its position) and the line.
 */
function locate(parsed: YAML.Document, error: YAML.YAMLError): string {
  const line = error.linePos ? `line ${error.linePos[0].line}` : `offset ${error.pos[0]}`;
  if (!YAML.isSeq(parsed.contents)) return line;
  const items = parsed.contents.items;
  const index = items.findLastIndex((item) => YAML.isNode(item) && item.range && item.range[0] <= error.pos[0]);
  if (index < 0) return line;
  const item = items[index];
  const name: unknown = YAML.isMap(item) ? item.get('name') : undefined;
  const named = typeof name === 'string' || typeof name === 'number' ? String(name).trim() : '';
  return `${named ? `check "${named}"` : `check #${index + 1}`} (${line})`;
}

function parseCheck(entry: unknown, index: number, input: string): Check {
  const position = `check #${index + 1}`;
  if (!isMapping(entry)) {
    throw new ConfigurationError(
      `Input "${input}": ${position} is not a mapping (name, query or cloudwatch, max and/or min).`,
    );
  }
  const name = typeof entry.name === 'string' || typeof entry.name === 'number' ? String(entry.name).trim() : '';
  if (!name) throw new ConfigurationError(`Input "${input}": ${position} has no "name".`);
  const where = `Input "${input}": check "${name}"`;
  const unknown = Object.keys(entry).filter((key) => !CHECK_KEYS.includes(key));
  if (unknown.length) {
    throw new ConfigurationError(
      `${where} has unknown key(s) ${unknown.map((key) => `"${key}"`).join(', ')}. Valid keys are: [${CHECK_KEYS.join(', ')}].`,
    );
  }
  const threshold = parseThreshold(entry, where);
  if (entry.query !== undefined && entry.cloudwatch !== undefined)
    throw new ConfigurationError(`${where} has both "query" and "cloudwatch"; give one source per check.`);
  if (entry.query !== undefined) {
    if (typeof entry.query !== 'string' || !entry.query.trim())
      throw new ConfigurationError(`${where}: "query" must be a PromQL expression.`);
    return { name, source: { kind: 'prometheus', query: entry.query.trim() }, threshold };
  }
  if (entry.cloudwatch !== undefined) return { name, source: parseCloudWatch(entry.cloudwatch, where), threshold };
  throw new ConfigurationError(
    `${where} has no source: give "query" (PromQL) or "cloudwatch" ({namespace, metric, dimensions, stat, period}).`,
  );
}

function parseThreshold(entry: Record<string, unknown>, where: string): Threshold {
  const threshold: Threshold = {};
  for (const key of ['max', 'min'] as const) {
    const raw = entry[key];
    if (raw === undefined || raw === null) continue;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() ? Number(raw) : NaN;
    if (!Number.isFinite(value)) throw new ConfigurationError(`${where}: "${key}" is ${show(raw)}, not a number.`);
    threshold[key] = value;
  }
  if (threshold.max === undefined && threshold.min === undefined)
    throw new ConfigurationError(
      `${where} has no threshold: give "max" (the value must not be above it), "min", or both.`,
    );
  if (threshold.max !== undefined && threshold.min !== undefined && threshold.min > threshold.max)
    throw new ConfigurationError(
      `${where}: "min" ${threshold.min} is above "max" ${threshold.max}; no value could pass.`,
    );
  return threshold;
}

function parseCloudWatch(raw: unknown, where: string): CloudWatchSource {
  if (!isMapping(raw))
    throw new ConfigurationError(`${where}: "cloudwatch" must be a mapping of ${CLOUDWATCH_KEYS.join(', ')}.`);
  const unknown = Object.keys(raw).filter((key) => !CLOUDWATCH_KEYS.includes(key));
  if (unknown.length) {
    throw new ConfigurationError(
      `${where}: "cloudwatch" has unknown key(s) ${unknown.map((key) => `"${key}"`).join(', ')}. Valid keys are: [${CLOUDWATCH_KEYS.join(', ')}].`,
    );
  }
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value !== 'string' || !value.trim())
      throw new ConfigurationError(`${where}: "cloudwatch.${key}" is required (such as AWS/RDS, DatabaseConnections).`);
    return value.trim();
  };
  const stat = raw.stat === undefined ? 'Average' : typeof raw.stat === 'string' ? raw.stat.trim() : show(raw.stat);
  if (!NAMED_STATS.includes(stat) && !EXTENDED_STAT.test(stat)) {
    throw new ConfigurationError(
      `${where}: "cloudwatch.stat" is "${stat}". Valid values are: [${NAMED_STATS.join(', ')}] or a percentile such as p99.`,
    );
  }
  return {
    kind: 'cloudwatch',
    namespace: text('namespace'),
    metric: text('metric'),
    dimensions: parseDimensions(raw.dimensions, where),
    stat,
    periodSeconds: parsePeriod(raw.period, where),
  };
}

function parseDimensions(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isMapping(raw))
    throw new ConfigurationError(
      `${where}: "cloudwatch.dimensions" must be a mapping of name to value, such as {DBInstanceIdentifier: tickettoken-production}.`,
    );
  const dimensions: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new ConfigurationError(`${where}: dimension "${key}" must have a text value.`);
    dimensions[key] = String(value);
  }
  return dimensions;
}

/** CloudWatch accepts 1, 5, 10, 20 or 30 seconds (high-resolution metrics) or a multiple of 60. */
function parsePeriod(raw: unknown, where: string): number {
  if (raw === undefined || raw === null) return 60;
  const ms = typeof raw === 'number' ? raw * 1000 : typeof raw === 'string' ? parseDuration(raw) : undefined;
  const seconds = ms === undefined ? NaN : ms / 1000;
  if (!Number.isInteger(seconds) || !(seconds % 60 === 0 || [1, 5, 10, 20, 30].includes(seconds)) || seconds <= 0) {
    throw new ConfigurationError(
      `${where}: "cloudwatch.period" is ${show(raw)}: it must be 1s, 5s, 10s, 20s, 30s or a multiple of 60s (such as 60, 1m, 5m).`,
    );
  }
  return seconds;
}

/**
 * The watch as a whole must make sense: an interval no longer than the duration, none shorter
 * than a CloudWatch check's period (a new sample would read the same datapoint again), and a
 * bounded number of samples.
 */
export function validateSchedule(
  checks: readonly Check[],
  schedule: { durationMs: number; intervalMs: number },
  names = { duration: 'duration', interval: 'interval' },
): void {
  const { durationMs, intervalMs } = schedule;
  if (intervalMs <= 0) throw new ConfigurationError(`Input "${names.interval}" must be longer than 0.`);
  if (intervalMs > durationMs) {
    throw new ConfigurationError(
      `Input "${names.interval}" (${formatDuration(intervalMs)}) is longer than "${names.duration}" (${formatDuration(durationMs)}): the watch would take one sample. Make the interval shorter or the duration longer.`,
    );
  }
  for (const check of checks) {
    if (check.source.kind !== 'cloudwatch') continue;
    const periodMs = check.source.periodSeconds * 1000;
    if (intervalMs < periodMs) {
      throw new ConfigurationError(
        `Check "${check.name}": "${names.interval}" (${formatDuration(intervalMs)}) is shorter than its CloudWatch period (${formatDuration(periodMs)}); samples would read the same datapoint again. Set "${names.interval}" to at least ${formatDuration(periodMs)}.`,
      );
    }
  }
  const rounds = Math.floor(durationMs / intervalMs) + 1;
  if (rounds > MAX_ROUNDS) {
    throw new ConfigurationError(
      `"${names.duration}" ${formatDuration(durationMs)} at "${names.interval}" ${formatDuration(intervalMs)} makes ${rounds} samples per check; at most ${MAX_ROUNDS}. Lengthen the interval.`,
    );
  }
}

/** How a check's source reads in a table or a log line. */
export function describeSource(check: Check): string {
  const source = check.source;
  if (source.kind === 'prometheus') return `prometheus: ${source.query}`;
  const dimensions = Object.entries(source.dimensions)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  return `cloudwatch: ${source.namespace} ${source.metric}${dimensions ? ` {${dimensions}}` : ''} ${source.stat}/${source.periodSeconds}s`;
}

export function describeThreshold(threshold: Threshold): string {
  return [
    threshold.min === undefined ? '' : `min ${threshold.min}`,
    threshold.max === undefined ? '' : `max ${threshold.max}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** A YAML value as the user wrote it, for an error message. */
function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
