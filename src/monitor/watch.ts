import type { Clock } from '../common/clock.js';
import { formatDuration } from '../common/duration.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { describeSource } from './checks.js';
import type { Check, CheckReport, MonitorReport, Reading, Sample } from './types.js';
import { clockTime, describeSample, formatValue, judge } from './verdict.js';

export interface WatchOptions {
  checks: readonly Check[];
  /** Reads one check's current value; `now` is the sample's time on the clock. */
  read: (check: Check, now: number) => Promise<Reading>;
  durationMs: number;
  intervalMs: number;
  /** Failing samples tolerated per check; one more fails the watch at once. */
  failureLimit: number;
  /** Samples without data (or with a query error) tolerated per check. */
  inconclusiveLimit: number;
  clock: Clock;
  logger: Logger;
}

interface CheckState {
  check: Check;
  samples: Sample[];
  failures: number;
  inconclusive: number;
}

/**
 * Argo Rollouts' analysis, run once: every check is sampled at the start and then every interval
 * until the duration has passed, all checks of a round in parallel. The watch ends at the first
 * round in which a check passes its failure-limit or inconclusive-limit (fail fast: a breach on
 * the third sample of a five-minute watch fails a minute in), otherwise after the last round.
 * Rounds are scheduled from the start time, so a slow answer does not push the rest back.
 */
export async function watch(options: WatchOptions): Promise<MonitorReport> {
  const { clock, logger } = options;
  const states: CheckState[] = options.checks.map((check) => ({ check, samples: [], failures: 0, inconclusive: 0 }));
  const totalRounds = Math.floor(options.durationMs / options.intervalMs) + 1;
  const start = clock.now();
  let rounds = 0;
  let breaches: string[] = [];
  while (rounds < totalRounds && breaches.length === 0) {
    const wait = start + rounds * options.intervalMs - clock.now();
    if (wait > 0) await clock.sleep(wait);
    const at = clock.now();
    rounds += 1;
    const samples = await Promise.all(states.map((state) => sample(options, state.check, at)));
    states.forEach((state, index) => record(state, samples[index]));
    logger.info(roundLine(rounds, totalRounds, at, states, samples, options));
    breaches = states.flatMap((state, index) => breachOf(state, samples[index], options));
  }
  const elapsed = clock.now() - start;
  const failure = breaches.length
    ? `Monitor failed on sample ${rounds} of ${totalRounds}, ${formatDuration(elapsed)} into a ${formatDuration(options.durationMs)} watch: ${breaches.join('; ')}`
    : undefined;
  return {
    passed: !failure,
    failure,
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(clock.now()).toISOString(),
    rounds,
    checks: states.map((state) => report(state, options, Boolean(failure))),
  };
}

async function sample(options: WatchOptions, check: Check, at: number): Promise<Sample> {
  // A reader that throws is a bug or an SDK surprise; for the watch it is one sample without an answer.
  const reading = await options
    .read(check, at)
    .catch((error: unknown): Reading => ({ kind: 'error', reason: errorMessage(error) }));
  return judge(reading, check.threshold, at);
}

function record(state: CheckState, sample: Sample): void {
  state.samples.push(sample);
  if (sample.verdict === 'fail') state.failures += 1;
  if (sample.verdict === 'no-data' || sample.verdict === 'error') state.inconclusive += 1;
}

/** What ends the watch for this check in this round, if anything: the sample that went one past a limit. */
function breachOf(state: CheckState, sample: Sample, options: WatchOptions): string[] {
  if (sample.verdict === 'fail' && state.failures > options.failureLimit) {
    return [
      `${describeSample(state.check.name, sample)} (${plural(state.failures, 'failing sample')}, failure-limit ${options.failureLimit})`,
    ];
  }
  if ((sample.verdict === 'no-data' || sample.verdict === 'error') && state.inconclusive > options.inconclusiveLimit) {
    return [
      `${describeSample(state.check.name, sample)} (${plural(state.inconclusive, 'sample')} without data, inconclusive-limit ${options.inconclusiveLimit})`,
    ];
  }
  return [];
}

function report(state: CheckState, options: WatchOptions, stoppedEarly: boolean): CheckReport {
  const outcome =
    state.failures > options.failureLimit
      ? 'failed'
      : state.inconclusive > options.inconclusiveLimit
        ? 'inconclusive'
        : stoppedEarly
          ? 'stopped'
          : 'passed';
  return {
    name: state.check.name,
    source: describeSource(state.check),
    threshold: state.check.threshold,
    outcome,
    failures: state.failures,
    inconclusive: state.inconclusive,
    samples: state.samples,
  };
}

function roundLine(
  round: number,
  total: number,
  at: number,
  states: CheckState[],
  samples: Sample[],
  options: WatchOptions,
): string {
  const parts = states.map((state, index) => {
    const sample = samples[index];
    if (sample.verdict === 'pass') return `${state.check.name} ${formatValue(sample.value ?? NaN)} ok`;
    if (sample.verdict === 'fail')
      return `${state.check.name} ${formatValue(sample.value ?? NaN)} ${sample.message} (${state.failures}/${options.failureLimit} tolerated)`;
    const label = sample.verdict === 'no-data' ? 'no data' : 'query error';
    return `${state.check.name} ${label}: ${sample.message} (${state.inconclusive}/${options.inconclusiveLimit} tolerated)`;
  });
  return `Sample ${round}/${total} at ${clockTime(new Date(at).toISOString())}: ${parts.join('; ')}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
