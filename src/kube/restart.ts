import { ConfigurationError } from '../common/errors.js';
import { describeWorkload, type WorkloadRef } from './workloads.js';
import type { Workload } from './rollout-status.js';

/** The pod-template annotation `kubectl rollout restart` sets; a new value makes a new revision. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** The time as kubectl writes it (Go's time.RFC3339: seconds, no fraction), in UTC as on a runner. */
export function restartTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The strategic merge patch kubectl sends for `rollout restart`: the two-way merge patch
 * between the object and the object with the annotation set, which is only this.
 */
export function restartPatch(restartedAt: string): object {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
}

/**
 * Why this workload cannot be restarted, or undefined when it can. kubectl refuses a
 * paused deployment ("can't restart paused deployment (run rollout resume first)"): its
 * controller would record the new template and roll nothing out, so waiting would only
 * time out. An OnDelete strategy likewise replaces no pod until someone deletes it, and
 * `rollout status` cannot judge it.
 */
export function restartBlocker(ref: WorkloadRef, workload: Workload): string | undefined {
  const name = describeWorkload(ref);
  if (ref.kind === 'Deployment' && workload.spec?.paused) {
    return `${name} is paused (spec.paused: true), so a restart would roll nothing out; kubectl refuses it too. Resume it first (kubectl rollout resume ${name} -n ${ref.namespace}) or leave it out of "workloads".`;
  }
  if (ref.kind !== 'Deployment' && workload.spec?.updateStrategy?.type === 'OnDelete') {
    return `${name} uses the OnDelete update strategy: changing its template replaces no pod until someone deletes them, and rollout status is only available for RollingUpdate. Delete its pods by hand or leave it out of "workloads".`;
  }
  return undefined;
}

/** Throws one ConfigurationError naming every workload that cannot be restarted. */
export function assertRestartable(checked: Array<{ ref: WorkloadRef; workload: Workload }>): void {
  const blockers = checked
    .map(({ ref, workload }) => restartBlocker(ref, workload))
    .filter((text): text is string => Boolean(text));
  if (blockers.length) throw new ConfigurationError(`Nothing was restarted. ${blockers.join(' ')}`);
}
