import type { Clock } from '../common/clock.js';
import { formatDuration } from '../common/duration.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { poll, WaitTimeoutError } from '../common/retry.js';
import { describeSource } from './checks.js';
import type { Check, CheckReport, MonitorReport, Reading, Sample } from './types.js';
import { clockTime, describeSample, formatValue, judge } from './verdict.js';

export interface WatchOptions {
  checks: readonly Check[];
  /**
   * Reads one check's current value; `now` is the sample's time on the clock. `signal` aborts
   * when another check has ended the watch: the answer is no longer wanted.
   */
  read: (check: Check, now: number, signal: AbortSignal) => Promise<Reading>;
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
 * answer that takes a check past its failure-limit or inconclusive-limit (fail fast: a breach on
 * the third sample of a five-minute watch fails a minute in, without waiting for the round's
 * slower answers), otherwise after the last round. The rounds are poll's fixed-rate checks:
 * scheduled from the start time, so a slow answer does not push the rest back.
 */
export async function watch(options: WatchOptions): Promise<MonitorReport> {
  const { clock } = options;
  const states: CheckState[] = options.checks.map((check) => ({ check, samples: [], failures: 0, inconclusive: 0 }));
  const totalRounds = Math.floor(options.durationMs / options.intervalMs) + 1;
  const start = clock.now();
  let rounds = 0;
  let breaches: string[] = [];
  try {
    await poll(
      async () => {
        rounds += 1;
        breaches = await sampleRound(options, states, rounds, totalRounds);
        return breaches.length
          ? { done: true as const, value: breaches }
          : { done: false as const, progress: `sample ${rounds}` };
      },
      {
        what: 'the metric watch',
        intervalMs: options.intervalMs,
        timeoutMs: options.durationMs,
        checkFirst: true,
        fixedRate: true,
        clock,
      },
    );
  } catch (error) {
    // Every round was taken without a breach: the whole duration held.
    if (!(error instanceof WaitTimeoutError)) throw error;
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

/**
 * One round: every check read in parallel and judged as its answer arrives. The first answer that
 * breaches ends the round: the requests still out are aborted and their checks get no sample this
 * round, so a hanging sibling cannot hold a known failure back until its request-timeout.
 */
async function sampleRound(
  options: WatchOptions,
  states: CheckState[],
  round: number,
  totalRounds: number,
): Promise<string[]> {
  const at = options.clock.now();
  const stop = new AbortController();
  const taken: Array<Sample | undefined> = states.map(() => undefined);
  const breaches: string[] = [];
  await new Promise<void>((resolve) => {
    let pending = states.length;
    states.forEach((state, index) => {
      void sample(options, state.check, at, stop.signal).then((answer) => {
        if (stop.signal.aborted) return;
        taken[index] = answer;
        record(state, answer);
        breaches.push(...breachOf(state, answer, options));
        pending -= 1;
        if (breaches.length) stop.abort();
        if (breaches.length || pending === 0) resolve();
      });
    });
  });
  options.logger.info(roundLine(round, totalRounds, at, states, taken, options));
  return breaches;
}

async function sample(options: WatchOptions, check: Check, at: number, signal: AbortSignal): Promise<Sample> {
  let reading: Reading;
  try {
    reading = await options.read(check, at, signal);
  } catch (error) {
    // A reader that throws is a bug or an SDK surprise; for the watch it is one sample without an answer.
    reading = { kind: 'error', reason: errorMessage(error) };
  }
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
  samples: Array<Sample | undefined>,
  options: WatchOptions,
): string {
  const parts = states.map((state, index) => {
    const sample = samples[index];
    if (!sample) return `${state.check.name} not read (stopped while its request was out)`;
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
