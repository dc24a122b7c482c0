/**
 * Names the pods of a workload that are not ready and says why, from what the kubelet
 * recorded in each pod's status (and, for a failing readiness probe, in its events): the
 * answer to "what broke" without anyone running `kubectl describe` or `kubectl logs`.
 */
export interface PodDiagnosis {
  pod: string;
  phase: string;
  /** CrashLoopBackOff, ImagePullBackOff, ReadinessProbeFailing, Pending, ... */
  reason: string;
  /** What the reason means here, in one line: the waiting message or the probe's complaint. */
  detail: string;
  container?: string;
  restarts: number;
  /** The last message the container left: its last termination message or exit code. */
  lastMessage?: string;
}

/** The pieces of a pod we read, whether from the typed client or plain JSON. */
export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatusLike[];
    initContainerStatuses?: ContainerStatusLike[];
  };
}

interface ContainerStateLike {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: unknown };
  terminated?: { exitCode?: number; reason?: string; message?: string; signal?: number };
}

interface ContainerStatusLike {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export interface EventLike {
  reason?: string;
  message?: string;
  type?: string;
  lastTimestamp?: unknown;
  eventTime?: unknown;
}

export function isPodReady(pod: PodLike): boolean {
  return (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** Why one pod is not ready; `events` are that pod's events, newest last, when they could be read. */
export function diagnosePod(pod: PodLike, events: readonly EventLike[] = []): PodDiagnosis {
  const status = pod.status ?? {};
  const name = pod.metadata?.name ?? '(unnamed pod)';
  const phase = status.phase ?? 'Unknown';
  const containers = [
    ...(status.initContainerStatuses ?? []).filter((c) => !c.state?.terminated || c.state.terminated.exitCode !== 0),
    ...(status.containerStatuses ?? []),
  ];
  const restarts = (status.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  // The container that explains the most: one that is waiting, then one that terminated, then any not ready.
  const culprit =
    containers.find(
      (c) =>
        c.state?.waiting &&
        c.state.waiting.reason !== 'ContainerCreating' &&
        c.state.waiting.reason !== 'PodInitializing',
    ) ??
    containers.find((c) => c.state?.terminated) ??
    containers.find((c) => !c.ready);
  const lastMessage = culprit ? lastContainerMessage(culprit) : undefined;
  const base = { pod: name, phase, restarts, container: culprit?.name, ...(lastMessage ? { lastMessage } : {}) };

  if (pod.metadata?.deletionTimestamp) return { ...base, reason: 'Terminating', detail: 'the pod is being deleted' };
  if (culprit?.state?.waiting) {
    const waiting = culprit.state.waiting;
    return {
      ...base,
      reason: waiting.reason ?? 'Waiting',
      detail: oneLine(waiting.message ?? `container ${culprit.name} is waiting`),
    };
  }
  if (culprit?.state?.terminated) {
    const terminated = culprit.state.terminated;
    return {
      ...base,
      reason: terminated.reason ?? 'Terminated',
      detail: `container ${culprit.name} exited with code ${terminated.exitCode ?? '?'}`,
    };
  }
  if (culprit?.state?.running) {
    // Running but not ready: its readiness probe fails. The kubelet says how only in an event.
    const probe = [...events].reverse().find((event) => /readiness probe/i.test(event.message ?? ''));
    return {
      ...base,
      reason: 'ReadinessProbeFailing',
      detail: oneLine(probe?.message ?? `container ${culprit.name} is running but its readiness probe has not passed`),
    };
  }
  const scheduled = (status.conditions ?? []).find((condition) => condition.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False') {
    return {
      ...base,
      reason: scheduled.reason ?? 'Unschedulable',
      detail: oneLine(scheduled.message ?? 'the pod cannot be scheduled'),
    };
  }
  const notReady = (status.conditions ?? []).find(
    (condition) => condition.type === 'Ready' && condition.status !== 'True',
  );
  return {
    ...base,
    reason: status.reason ?? (phase === 'Pending' ? 'Pending' : (notReady?.reason ?? 'NotReady')),
    detail: oneLine(status.message ?? notReady?.message ?? `the pod is ${phase}`),
  };
}

/** The termination message the container wrote last (its crash), else its exit code. */
function lastContainerMessage(container: ContainerStatusLike): string | undefined {
  const terminated = container.lastState?.terminated ?? container.state?.terminated;
  if (!terminated) return undefined;
  const message = terminated.message?.trim();
  const exit = `exit code ${terminated.exitCode ?? '?'}${terminated.reason ? ` (${terminated.reason})` : ''}`;
  return message ? `${firstLines(message, 3)} [${exit}]` : exit;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function firstLines(text: string, count: number): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const head = lines.slice(0, count).join(' | ');
  return head.length > 500 ? `${head.slice(0, 497)}...` : head;
}

/** `app=ticket-service,tier=api` from a selector's matchLabels (matchExpressions in set-based syntax). */
export function labelSelector(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
): string {
  const terms = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') terms.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') terms.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') terms.push(expression.key);
    else if (expression.operator === 'DoesNotExist') terms.push(`!${expression.key}`);
  }
  return terms.join(',');
}
