import { systemClock, withinTime, type Clock } from '../common/clock.js';
import { ConfigurationError, errorMessage, isConfigurationError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { poll, WaitTimeoutError } from '../common/retry.js';
import type { WorkloadApi } from './client.js';
import { diagnosePod, isPodReady, labelSelector, type PodDiagnosis } from './pod-diagnosis.js';
import { assertRestartable, restartPatch, restartTimestamp } from './restart.js';
import { currentRevision, judgeRollout, readyCounts, RolloutFailedError, type Workload } from './rollout-status.js';
import { describeWorkload, type WorkloadKind, type WorkloadRef } from './workloads.js';

export interface RestartOptions {
  api: WorkloadApi;
  workloads: WorkloadRef[];
  /** How long every rollout together may take, from the restart. */
  timeoutMs: number;
  /** Pause between two reads of a workload's status. */
  pollIntervalMs: number;
  logger?: Logger;
  /** Waits and the deadline (tests drive it by hand). */
  clock?: Clock;
  /** The clock for the restartedAt annotation (tests pin it). */
  now?: () => Date;
  /** At most this many not-ready pods are diagnosed per workload. */
  maxPods?: number;
}

export type RolloutOutcome = 'rolled-out' | 'failed' | 'timed-out';

export interface WorkloadResult {
  /** `deployment/ticket-service` */
  workload: string;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  outcome: RolloutOutcome;
  /** kubectl's last word on the rollout, or why it failed. */
  message: string;
  /** The revision before the restart and the one it made (see currentRevision for each kind). */
  previousRevision: string;
  revision: string;
  readyReplicas: number;
  desiredReplicas: number;
  /** From the patch to the verdict. */
  seconds: number;
  /** The pods that were not ready when the rollout failed or timed out. */
  pods: PodDiagnosis[];
}

export interface RestartReport {
  restartedAt: string;
  results: WorkloadResult[];
  /** Every workload rolled out. */
  passed: boolean;
}

/**
 * `kubectl rollout restart` then `kubectl rollout status` for several workloads at once.
 * Every workload is read and checked before any is patched, so a typo or a paused
 * deployment changes nothing; then all are patched together and tracked in parallel
 * against one deadline. A rollout that fails or times out is explained pod by pod.
 */
export async function restartWorkloads(options: RestartOptions): Promise<RestartReport> {
  const { api, workloads, logger = silentLogger, clock = systemClock } = options;

  // 1. Read everything first: nothing is changed unless every workload exists and can restart.
  const reads = await Promise.allSettled(workloads.map((ref) => api.read(ref)));
  const problems = reads.flatMap((read): unknown[] => (read.status === 'rejected' ? [read.reason] : []));
  if (problems.length) {
    const message = `Nothing was restarted. ${problems.map((problem) => errorMessage(problem)).join(' ')}`;
    throw problems.every(isConfigurationError) ? new ConfigurationError(message) : new Error(message);
  }
  const before = reads.map((read) => (read as PromiseFulfilledResult<Workload>).value);
  assertRestartable(workloads.map((ref, index) => ({ ref, workload: before[index] })));

  // 2. Restart all together with one timestamp, as `kubectl rollout restart a b c` does.
  const restartedAt = restartTimestamp(options.now?.() ?? new Date());
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  const patch = restartPatch(restartedAt);
  const context: Tracking = { api, logger, clock, options, deadline, started };
  const patches = await Promise.allSettled(workloads.map((ref) => api.patch(ref, patch)));

  // 3. Track in parallel.
  const results = await Promise.all(
    workloads.map(async (ref, index): Promise<WorkloadResult> => {
      const name = describeWorkload(ref);
      const base = {
        workload: name,
        kind: ref.kind,
        name: ref.name,
        namespace: ref.namespace,
        previousRevision: currentRevision(ref.kind, before[index]),
      };
      const patched = patches[index];
      if (patched.status === 'rejected') {
        logger.warning(`${name}: the restart patch failed: ${errorMessage(patched.reason)}`);
        const { ready, desired } = readyCounts(ref.kind, before[index]);
        return {
          ...base,
          outcome: 'failed',
          message: `restart failed: ${errorMessage(patched.reason)}`,
          revision: base.previousRevision,
          readyReplicas: ready,
          desiredReplicas: desired,
          seconds: 0,
          pods: [],
        };
      }
      logger.info(`${name} restarted`);
      return track(context, ref, base, patched.value);
    }),
  );
  return { restartedAt, results, passed: results.every((result) => result.outcome === 'rolled-out') };
}

/** What tracking one workload needs from the restart of all of them. */
interface Tracking {
  api: WorkloadApi;
  logger: Logger;
  clock: Clock;
  options: RestartOptions;
  /** One deadline for every workload, from the restart. */
  deadline: number;
  started: number;
}

async function track(
  context: Tracking,
  ref: WorkloadRef,
  base: Pick<WorkloadResult, 'workload' | 'kind' | 'name' | 'namespace' | 'previousRevision'>,
  initial: Workload,
): Promise<WorkloadResult> {
  const { api, logger, clock, options, deadline, started } = context;
  let workload = initial;
  let lastMessage = '';
  let outcome: RolloutOutcome;
  let message: string;
  // One read and one judgement per interval, against the deadline all workloads share.
  const judge = async (first: boolean) => {
    if (!first) {
      try {
        // A read that hangs must not outlive the timeout; the next turn then reports it.
        workload = await withinTime(clock, api.read(ref), deadline - clock.now(), 'no answer before the timeout');
      } catch (error) {
        // A blip of the API server is not a failed rollout; the deadline bounds the retries.
        logger.warning(`${base.workload}: could not read its status (${errorMessage(error)}); retrying`);
      }
    }
    const judgement = judgeRollout(ref.kind, workload);
    if (judgement.message !== lastMessage) logger.info(`${base.workload}: ${judgement.message}`);
    lastMessage = judgement.message;
    return judgement.done
      ? { done: true as const, value: judgement.message }
      : { done: false as const, progress: judgement.message };
  };
  let first = true;
  try {
    const result = await poll(
      () => {
        const turn = judge(first);
        first = false;
        return turn;
      },
      {
        what: base.workload,
        intervalMs: options.pollIntervalMs,
        timeoutMs: deadline - clock.now(),
        checkFirst: true,
        clock,
      },
    );
    outcome = 'rolled-out';
    message = result.value;
  } catch (error) {
    if (error instanceof RolloutFailedError) {
      outcome = 'failed';
      message = error.message;
    } else if (error instanceof WaitTimeoutError) {
      outcome = 'timed-out';
      message = `timed out after ${formatSeconds(options.timeoutMs / 1000)}s; last status: ${lastMessage}`;
    } else throw error;
    logger.warning(`${base.workload}: ${message}`);
  }
  const seconds = Number(((clock.now() - started) / 1000).toFixed(1));
  const { ready, desired } = readyCounts(ref.kind, workload);
  const pods = outcome === 'rolled-out' ? [] : await diagnose(context, ref, workload);
  for (const pod of pods) {
    logger.warning(
      `${base.workload}: pod ${pod.pod} is not ready: ${pod.reason}: ${pod.detail}${pod.lastMessage ? `; last message: ${pod.lastMessage}` : ''}`,
    );
  }
  return {
    ...base,
    outcome,
    message,
    revision: currentRevision(ref.kind, workload),
    readyReplicas: ready,
    desiredReplicas: desired,
    seconds,
    pods,
  };
}

async function diagnose(context: Tracking, ref: WorkloadRef, workload: Workload): Promise<PodDiagnosis[]> {
  const { api, logger, options } = context;
  const selector = labelSelector(workload.spec?.selector);
  if (!selector) return [];
  try {
    const pods = (await api.listPods(ref.namespace, selector)).filter((pod) => !isPodReady(pod));
    const chosen = pods.slice(0, options.maxPods ?? 10);
    return await Promise.all(
      chosen.map(async (pod) => {
        const first = diagnosePod(pod);
        // Only a failing readiness probe needs the events to be explained.
        if (first.reason !== 'ReadinessProbeFailing') return first;
        return diagnosePod(pod, await api.listPodEvents(ref.namespace, pod.metadata?.name ?? ''));
      }),
    );
  } catch (error) {
    logger.warning(`${describeWorkload(ref)}: could not list its pods to say why (${errorMessage(error)})`);
    return [];
  }
}

function formatSeconds(seconds: number): string {
  return String(Number(seconds.toFixed(1)));
}
