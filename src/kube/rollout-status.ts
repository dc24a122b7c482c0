import type { WorkloadKind } from './workloads.js';

/**
 * How `kubectl rollout status` judges a rollout, kind by kind, ported from kubectl's
 * pkg/polymorphichelpers/rollout_status.go so "done" here means what it means to anyone
 * who runs kubectl: the controller has observed the new spec, every replica is updated,
 * no old replica is left and the updated ones are available. The messages are kubectl's.
 */
export interface RolloutJudgement {
  done: boolean;
  message: string;
}

/** The rollout cannot finish without someone acting: kubectl exits with an error here. */
export class RolloutFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutFailedError';
  }
}

/**
 * The fields kubectl reads of a deployment, statefulset or daemon set, whether from the typed
 * client or plain JSON (the three kinds share one shape here; each reads its own fields).
 */
export interface Workload {
  metadata?: { name?: string; generation?: number; annotations?: Record<string, string> };
  spec?: {
    replicas?: number | null;
    paused?: boolean;
    selector?: { matchLabels?: Record<string, string> };
    // partition is a statefulset's; maxUnavailable names what the daemon set's rolling update shares.
    updateStrategy?: {
      type?: string;
      rollingUpdate?: { partition?: number | null; maxUnavailable?: unknown } | null;
    };
  };
  status?: {
    observedGeneration?: number;
    conditions?: Array<{ type?: string; reason?: string }>;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updateRevision?: string;
    currentRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
  };
}

export function judgeRollout(kind: WorkloadKind, workload: Workload): RolloutJudgement {
  switch (kind) {
    case 'Deployment':
      return judgeDeployment(workload);
    case 'DaemonSet':
      return judgeDaemonSet(workload);
    case 'StatefulSet':
      return judgeStatefulSet(workload);
  }
}

/** TimedOutReason in k8s.io/kubectl/pkg/util/deployment. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

function judgeDeployment(deployment: Workload): RolloutJudgement {
  const name = deployment.metadata?.name;
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  const observed = status.observedGeneration ?? 0;
  if (generation <= observed) {
    const progressing = (status.conditions ?? []).find((condition) => condition.type === 'Progressing');
    if (progressing && progressing.reason === PROGRESS_DEADLINE_EXCEEDED) {
      throw new RolloutFailedError(`deployment "${name}" exceeded its progress deadline`);
    }
    const desired = deployment.spec?.replicas;
    const updated = status.updatedReplicas ?? 0;
    const replicas = status.replicas ?? 0;
    const available = status.availableReplicas ?? 0;
    if (desired !== undefined && desired !== null && updated < desired) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`,
      };
    }
    if (replicas > updated) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
      };
    }
    if (available < updated) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
      };
    }
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  return { done: false, message: 'Waiting for deployment spec update to be observed...' };
}

function judgeDaemonSet(daemon: Workload): RolloutJudgement {
  const name = daemon.metadata?.name;
  if (daemon.spec?.updateStrategy?.type !== 'RollingUpdate') {
    throw new RolloutFailedError('rollout status is only available for RollingUpdate strategy type');
  }
  const status = daemon.status ?? {};
  if ((daemon.metadata?.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const desired = status.desiredNumberScheduled ?? 0;
    const updated = status.updatedNumberScheduled ?? 0;
    const available = status.numberAvailable ?? 0;
    if (updated < desired) {
      return {
        done: false,
        message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
      };
    }
    if (available < desired) {
      return {
        done: false,
        message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
      };
    }
    return { done: true, message: `daemon set "${name}" successfully rolled out` };
  }
  return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
}

function judgeStatefulSet(sts: Workload): RolloutJudgement {
  const strategy = sts.spec?.updateStrategy;
  if (strategy?.type !== 'RollingUpdate') {
    throw new RolloutFailedError('rollout status is only available for RollingUpdate strategy type');
  }
  const status = sts.status ?? {};
  const observed = status.observedGeneration ?? 0;
  if (observed === 0 || (sts.metadata?.generation ?? 0) > observed) {
    return { done: false, message: 'Waiting for statefulset spec update to be observed...' };
  }
  const desired: number | undefined = sts.spec?.replicas ?? undefined;
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  if (desired !== undefined && ready < desired) {
    return { done: false, message: `Waiting for ${desired - ready} pods to be ready...` };
  }
  if (strategy.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition ?? undefined;
    if (desired !== undefined && partition !== undefined && updated < desired - partition) {
      return {
        done: false,
        message: `Waiting for partitioned roll out to finish: ${updated} out of ${desired - partition} new pods have been updated...`,
      };
    }
    return { done: true, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      done: false,
      message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision}...`,
    };
  }
  return {
    done: true,
    message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision}...`,
  };
}

/** The revision a restart produced: a deployment's revision number, a statefulset's update revision, a daemon set's observed generation. */
export function currentRevision(kind: WorkloadKind, workload: Workload): string {
  if (kind === 'Deployment') return workload.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '';
  if (kind === 'StatefulSet') return String(workload.status?.updateRevision ?? '');
  return String(workload.status?.observedGeneration ?? '');
}

/** Ready pods against the desired count, by each kind's own fields. */
export function readyCounts(kind: WorkloadKind, workload: Workload): { ready: number; desired: number } {
  const status = workload.status ?? {};
  if (kind === 'DaemonSet') return { ready: status.numberReady ?? 0, desired: status.desiredNumberScheduled ?? 0 };
  return { ready: status.readyReplicas ?? 0, desired: workload.spec?.replicas ?? 1 };
}
