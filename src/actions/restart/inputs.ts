import { getDuration, getLines, getRequired, getSecret, getString } from '../common/inputs.js';
import { parseWorkloads, validateNamespace, type WorkloadRef } from '../../kube/workloads.js';
import { Inputs } from './constants.js';

export interface RestartInputs {
  /** The namespace every workload lives in. */
  namespace: string;
  /** The workloads to restart, parsed from `deployment/x`, `statefulset/y`, `daemonset/z` or bare deployment names. */
  workloads: WorkloadRef[];
  /** How long all rollouts together may take, in milliseconds. */
  timeoutMs: number;
  /** The kubeconfig file's content; undefined means the default kubeconfig. Masked. */
  kubeconfig?: string;
  /** A kubeconfig context to use instead of its current-context. */
  context?: string;
  /** Pause between two status reads of a rollout, in milliseconds. */
  pollIntervalMs: number;
}

export function getInputs(): RestartInputs {
  const namespace = validateNamespace(getRequired(Inputs.Namespace), Inputs.Namespace);
  return {
    namespace,
    workloads: parseWorkloads(getLines(Inputs.Workloads), namespace, Inputs.Workloads),
    timeoutMs: getDuration(Inputs.Timeout, '10m', { min: 1 }),
    kubeconfig: getSecret(Inputs.Kubeconfig),
    context: getString(Inputs.Context),
    pollIntervalMs: getDuration(Inputs.PollInterval, '2s', { min: 1 }),
  };
}
